using QctPipeline.Domain;
using QctPipeline.Measure;

namespace QctPipeline.Tests.Measure;

/// <summary>
/// An upright elliptic cylinder of known size (40 mm wide, 30 deep, 27 high) on a 1 × 1 × 3 mm grid, with HU rising
/// linearly forwards and to the left, so the ROI's placement shows in its mean.
/// </summary>
public sealed class SyntheticBodyTests
{
    private const double HalfWidth = 20, HalfDepth = 15, HalfHeight = 13.5;

    private static readonly VolumeGeometry Grid = new(60, 50, 15, new Vector3(-29.5, -24.5, -21), new Vector3(1, 1, 3),
        new Vector3(1, 0, 0), new Vector3(0, 1, 0), new Vector3(0, 0, 1));

    /// <summary>HU = 150 + 2 per mm forwards (LPS −y) + 1 per mm to the left (+x): gentle enough not to look like a lesion.</summary>
    private static double HuAt(Vector3 p) => 150 - (2 * p.Y) + p.X;

    [Fact]
    public void EllipseSitsFiftyEightPercentForwardAndHoldsAnEightMillimetreSlab()
    {
        var (volume, body) = Cylinder();

        var measurement = VertebralMeasurement.Measure(volume, new VertebraInput(body), null, null, null, false, new MeasureOptions());

        // Ellipse centre 0.58 × 30 mm forward of the posterior edge: 2.4 mm in front of the middle; centred left–right.
        Assert.Equal(150 + (2 * 2.4), measurement.Ellipse!.Hu.Mean, 0.2);

        // π · (0.65 · 20) · (0.5 · 15) · 8 mm: 3 mm slices would give 6 or 9 mm without the slab-end weights.
        var expectedMm3 = Math.PI * 0.65 * HalfWidth * 0.5 * HalfDepth * 8;
        Assert.InRange(measurement.Ellipse.VolumeMl * 1000, expectedMm3 * 0.97, expectedMm3 * 1.03);
    }

    [Fact]
    public void UprightIntactCylinderIsUsableWithFullHeights()
    {
        var (volume, body) = Cylinder();

        var measurement = VertebralMeasurement.Measure(volume, new VertebraInput(body), null, null, null, false, new MeasureOptions());

        var l1 = measurement.Assessments.Single();
        Assert.True(l1.Usable, string.Join("; ", l1.UnusableReasons));
        Assert.Equal(2 * HalfHeight, l1.AnteriorHeightMm, 0.01);
        Assert.Equal(2 * HalfHeight, l1.PosteriorHeightMm, 0.01);
        Assert.Contains(measurement.Warnings, w => w.Contains("0.0° from the slice normal", StringComparison.Ordinal));

        // The eroded body is symmetric about the centre: its mean is the centre's HU.
        Assert.Equal(150, measurement.ErodedBody!.Hu.Mean, 0.2);
    }

    [Fact]
    public void BodyCutByTheScanEdgeIsUnusable()
    {
        // Seven slices from z = −21 to −3 mm: the body's upper half lies above the scan.
        var (volume, body) = Cylinder(Grid with { SizeZ = 7 });

        var l1 = VertebralMeasurement.Measure(volume, new VertebraInput(body), null, null, null, false, new MeasureOptions()).Assessments.Single();

        Assert.False(l1.Usable);
        Assert.Contains(l1.UnusableReasons, r => r.Contains("edge of the scan", StringComparison.Ordinal));
    }

    [Fact]
    public void ErosionDepthOnThisGridIsStated()
    {
        var (volume, body) = Cylinder();

        var measurement = VertebralMeasurement.Measure(volume, new VertebraInput(body), null, null, null, false, new MeasureOptions());

        Assert.Contains("L1: body eroded by 4 mm, on this grid 4.0 / 4.0 / 3.0 mm along rows / columns / slices", measurement.Warnings);
    }

    private static (CtVolume Volume, Mask Body) Cylinder() => Cylinder(Grid);

    private static (CtVolume Volume, Mask Body) Cylinder(VolumeGeometry grid)
    {
        var hu = new float[grid.VoxelCount];
        var inside = new byte[grid.VoxelCount];
        for (var k = 0; k < grid.SizeZ; k++)
        {
            for (var j = 0; j < grid.SizeY; j++)
            {
                for (var i = 0; i < grid.SizeX; i++)
                {
                    var p = grid.VoxelToPatient(i, j, k);
                    var index = i + (grid.SizeX * (j + (grid.SizeY * k)));
                    var inBody = Math.Pow(p.X / HalfWidth, 2) + Math.Pow(p.Y / HalfDepth, 2) <= 1 && Math.Abs(p.Z) <= HalfHeight;
                    inside[index] = inBody ? (byte)1 : (byte)0;
                    hu[index] = inBody ? (float)HuAt(p) : -100;
                }
            }
        }

        return (new CtVolume(grid, hu), new Mask(grid, inside));
    }
}
