using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Report;

/// <summary>A calibration point as the fit plot shows it: the known density and the HU measured there.</summary>
public sealed record FitPoint(string Name, double DensityMgPerCm3, double MeasuredHu);

/// <summary>
/// The pictures of a study report: an axial slice and the mid-sagittal plane through the measured vertebra in a bone
/// window with its body mask, eroded ROI and elliptical ROI drawn over it, and the calibration fit.
/// </summary>
public static class StudyFigures
{
    /// <summary>Label values of the overlay: body, eroded ROI, elliptical ROI (the last drawn wins).</summary>
    public const byte BodyLabel = 1;
    public const byte ErodedRoiLabel = 2;
    public const byte EllipseRoiLabel = 3;

    /// <summary>The axial slice and the sagittal plane through the body's centroid, with the ROIs overlaid.</summary>
    public static (RenderedImage Axial, RenderedImage Sagittal) Vertebra(CtVolume volume, Mask body, ReadOnlySpan<int> erodedRoi, ReadOnlySpan<int> ellipseRoi)
    {
        var g = volume.Geometry;
        var centre = body.Centroid() is { } c ? g.PatientToVoxel(c) : new Vector3(g.SizeX / 2.0, g.SizeY / 2.0, g.SizeZ / 2.0);
        var (i, k) = (Math.Clamp((int)Math.Round(centre.X), 0, g.SizeX - 1), Math.Clamp((int)Math.Round(centre.Z), 0, g.SizeZ - 1));

        // Labels only where the pictures cut: the slice k and the column plane i.
        var axialLabels = new byte[g.SliceLength];
        var sagittalLabels = new byte[g.SizeY * g.SizeZ];
        void Mark(int index, byte label)
        {
            var (x, y, z) = (index % g.SizeX, index / g.SizeX % g.SizeY, index / g.SliceLength);
            if (z == k)
            {
                axialLabels[x + (g.SizeX * y)] = label;
            }

            if (x == i)
            {
                sagittalLabels[y + (g.SizeY * z)] = label;
            }
        }

        var voxels = body.Voxels;
        for (var index = 0; index < voxels.Length; index++)
        {
            if (voxels[index] != 0)
            {
                Mark(index, BodyLabel);
            }
        }

        foreach (var index in erodedRoi)
        {
            Mark(index, ErodedRoiLabel);
        }

        foreach (var index in ellipseRoi)
        {
            Mark(index, EllipseRoiLabel);
        }

        var axial = SliceRenderer.Overlay(SliceRenderer.Axial(volume, k, WindowLevel.Bone), axialLabels, 0.35);
        var sagittalGrey = SliceRenderer.Sagittal(volume, i, WindowLevel.Bone);
        var sagittalOverlay = SliceRenderer.SagittalLabels(g with { SizeX = 1, Origin = g.VoxelToPatient(i, 0, 0) }, sagittalLabels, 0, out _, out _);
        return (axial, SliceRenderer.Overlay(sagittalGrey, sagittalOverlay, 0.35));
    }

    /// <summary>HU against density for each calibration point, with the fitted line HU = β + σ·ρ.</summary>
    public static RenderedImage CalibrationFit(IReadOnlyList<FitPoint> points, double intercept, double slope)
    {
        const int width = 480, height = 320, left = 56, right = 16, top = 16, bottom = 36;
        var image = new RenderedImage(width, height, 3, new byte[width * height * 3]);
        PixelFont.Fill(image, 0, 0, width, height, (255, 255, 255));
        if (points.Count == 0)
        {
            return image;
        }

        var (x0, x1) = (Math.Min(0, points.Min(p => p.DensityMgPerCm3)), Math.Max(100, points.Max(p => p.DensityMgPerCm3)));
        var (y0, y1) = (Math.Min(intercept + (slope * x0), points.Min(p => p.MeasuredHu)), Math.Max(intercept + (slope * x1), points.Max(p => p.MeasuredHu)));
        (x0, x1, y0, y1) = (x0 - (0.05 * (x1 - x0)), x1 + (0.05 * (x1 - x0)), y0 - (0.05 * (y1 - y0)), y1 + (0.05 * (y1 - y0)));
        int X(double value) => left + (int)Math.Round((width - left - right) * (value - x0) / (x1 - x0));
        int Y(double value) => top + (int)Math.Round((height - top - bottom) * (1 - ((value - y0) / (y1 - y0))));
        PixelFont.Fill(image, left, top, 1, height - top - bottom, (120, 120, 120));
        PixelFont.Fill(image, left, height - bottom, width - left - right, 1, (120, 120, 120));
        for (var step = 0; step <= 200; step++)
        {
            var density = x0 + ((x1 - x0) * step / 200);
            PixelFont.Fill(image, X(density), Y(intercept + (slope * density)), 2, 2, (30, 60, 150));
        }

        foreach (var point in points)
        {
            PixelFont.Fill(image, X(point.DensityMgPerCm3) - 4, Y(point.MeasuredHu) - 4, 9, 9, (200, 30, 30));
        }

        foreach (var (value, x) in new[] { (x0, left), (x1, width - right - 40) })
        {
            PixelFont.Draw(image, value.ToString("0", CultureInfo.InvariantCulture), x, height - bottom + 8, 2, (60, 60, 60));
        }

        foreach (var (value, y) in new[] { (y0, height - bottom - 16), (y1, top) })
        {
            PixelFont.Draw(image, value.ToString("0", CultureInfo.InvariantCulture), 2, y, 1, (60, 60, 60));
        }

        return image;
    }
}
