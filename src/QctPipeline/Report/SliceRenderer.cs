using QctPipeline.Domain;

namespace QctPipeline.Report;

/// <summary>A display window in HU.</summary>
public readonly record struct WindowLevel(double Centre, double Width)
{
    public static readonly WindowLevel SoftTissue = new(40, 400);
    public static readonly WindowLevel Bone = new(400, 1800);
    public static readonly WindowLevel Lung = new(-600, 1500);

    /// <summary>Grey level 0–255 for a CT number (DICOM PS3.3 C.11.2.1.2 linear window, simplified).</summary>
    public byte Grey(float hu)
    {
        var low = Centre - Width / 2;
        var value = (hu - low) / Width * 255.0;
        return (byte)Math.Clamp(Math.Round(value), 0, 255);
    }
}

/// <summary>An 8-bit image ready for PNG: 1 channel (grey) or 3 (RGB).</summary>
public sealed record RenderedImage(int Width, int Height, int Channels, byte[] Pixels)
{
    public byte[] ToPng() => Channels == 1 ? PngEncoder.EncodeGray(Pixels, Width, Height) : PngEncoder.EncodeRgb(Pixels, Width, Height);
}

/// <summary>
/// Turns volumes into pictures in radiological convention: axial slices as stored (patient left on the image right
/// for a supine patient), sagittal reformats with anterior to the left and head up, resampled to square pixels.
/// Optional label overlays colour each label value. Used for documentation images and the reports.
/// </summary>
public static class SliceRenderer
{
    public static RenderedImage Axial(CtVolume volume, int k, WindowLevel window)
    {
        var geometry = volume.Geometry;
        var slice = volume.Slice(k);
        var pixels = new byte[slice.Length];
        for (var index = 0; index < slice.Length; index++)
        {
            pixels[index] = window.Grey(slice[index]);
        }

        return new RenderedImage(geometry.SizeX, geometry.SizeY, 1, pixels);
    }

    /// <summary>
    /// A sagittal plane through volume column <paramref name="i"/>: output rows run head to feet, columns anterior to
    /// posterior, both at the in-plane pixel spacing (slices interpolated linearly).
    /// </summary>
    public static RenderedImage Sagittal(CtVolume volume, int i, WindowLevel window)
    {
        var values = SagittalValues(volume, i, out var width, out var height, nearest: false);
        var pixels = new byte[values.Length];
        for (var index = 0; index < values.Length; index++)
        {
            pixels[index] = window.Grey(values[index]);
        }

        return new RenderedImage(width, height, 1, pixels);
    }

    /// <summary>Sagittal labels (nearest slice) resampled like <see cref="Sagittal"/>.</summary>
    public static byte[] SagittalLabels(VolumeGeometry geometry, ReadOnlySpan<byte> labels, int i, out int width, out int height)
    {
        var asFloat = new float[labels.Length];
        for (var index = 0; index < labels.Length; index++)
        {
            asFloat[index] = labels[index];
        }

        var values = SagittalValues(new CtVolume(geometry, asFloat), i, out width, out height, nearest: true);
        return values.Select(v => (byte)v).ToArray();
    }

    /// <summary>Blends label colours over a grey image (alpha 0–1); label 0 stays grey.</summary>
    public static RenderedImage Overlay(RenderedImage grey, ReadOnlySpan<byte> labels, double alpha)
    {
        if (grey.Channels != 1 || labels.Length != grey.Pixels.Length)
        {
            throw new ArgumentException("overlay needs a grey image and one label per pixel");
        }

        var rgb = new byte[grey.Pixels.Length * 3];
        for (var index = 0; index < labels.Length; index++)
        {
            var g = grey.Pixels[index];
            var (r, gr, b) = labels[index] == 0 ? (g, g, g) : Colour(labels[index]);
            var a = labels[index] == 0 ? 0 : alpha;
            rgb[3 * index] = (byte)Math.Round(g * (1 - a) + r * a);
            rgb[3 * index + 1] = (byte)Math.Round(g * (1 - a) + gr * a);
            rgb[3 * index + 2] = (byte)Math.Round(g * (1 - a) + b * a);
        }

        return new RenderedImage(grey.Width, grey.Height, 3, rgb);
    }

    /// <summary>A fixed, well-separated colour per label value (golden-angle hues).</summary>
    public static (byte R, byte G, byte B) Colour(byte label)
    {
        var hue = label * 137.508 % 360 / 60.0;
        var sector = (int)hue;
        var fraction = hue - sector;
        byte Level(double v) => (byte)Math.Round(255 * (0.35 + 0.65 * v));
        return sector switch
        {
            0 => (Level(1), Level(fraction), Level(0)),
            1 => (Level(1 - fraction), Level(1), Level(0)),
            2 => (Level(0), Level(1), Level(fraction)),
            3 => (Level(0), Level(1 - fraction), Level(1)),
            4 => (Level(fraction), Level(0), Level(1)),
            _ => (Level(1), Level(0), Level(1 - fraction)),
        };
    }

    private static float[] SagittalValues(CtVolume volume, int i, out int width, out int height, bool nearest)
    {
        var geometry = volume.Geometry;
        var pixel = geometry.Spacing.X;
        var extentZ = geometry.Spacing.Z * (geometry.SizeZ - 1);
        height = Math.Max(1, (int)Math.Round(extentZ / pixel) + 1);
        width = geometry.SizeY;
        var headAtFirstSlice = geometry.SliceDirection.Z < 0;
        var anteriorAtFirstRow = geometry.ColumnDirection.Y > 0;
        var values = new float[width * height];
        for (var row = 0; row < height; row++)
        {
            var fromHead = row * pixel / geometry.Spacing.Z;
            var k = headAtFirstSlice ? fromHead : geometry.SizeZ - 1 - fromHead;
            var k0 = Math.Clamp((int)Math.Floor(k), 0, geometry.SizeZ - 1);
            var k1 = Math.Min(k0 + 1, geometry.SizeZ - 1);
            var t = (float)(k - k0);
            if (nearest)
            {
                k0 = Math.Clamp((int)Math.Round(k), 0, geometry.SizeZ - 1);
                k1 = k0;
            }

            for (var column = 0; column < width; column++)
            {
                var j = anteriorAtFirstRow ? column : geometry.SizeY - 1 - column;
                values[row * width + column] = volume[i, j, k0] + (volume[i, j, k1] - volume[i, j, k0]) * t;
            }
        }

        return values;
    }
}
