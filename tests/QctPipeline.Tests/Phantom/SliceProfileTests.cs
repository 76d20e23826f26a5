using System.Numerics;
using QctPipeline.Phantom;
using Xunit.Abstractions;

namespace QctPipeline.Tests.Phantom;

/// <summary>
/// The slice sensitivity profile as the renderer applies it, measured the way physicists measure it: a thin plate
/// across the table, imaged with closely overlapping slices; the plate's brightness against slice position is the SSP.
/// </summary>
public sealed class SliceProfileTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(5.0)]
    [InlineData(2.5)]
    [InlineData(1.0)]
    public void ThinPlateMeasuresTheNominalThicknessAsFwhmWithBellShapedTails(double thicknessMm)
    {
        var (positions, response) = PlateResponse(thicknessMm);
        var peak = response.Max();
        var fwhm = WidthAbove(positions, response, 0.5 * peak);
        var fwtm = WidthAbove(positions, response, 0.1 * peak);
        output.WriteLine($"{thicknessMm} mm: measured FWHM {fwhm:0.000} mm, FWTM {fwtm:0.000} mm");

        // The plate (0.2 mm, blurred by half-pixel coverage over 0.4 mm pixels) widens the profile by a few hundredths of a mm.
        Assert.InRange(fwhm, thicknessMm * 0.95, (thicknessMm * 1.05) + 0.1);

        // A box profile (the old sub-plane mean) would have FWTM ≈ FWHM; a helical profile has tails (triangle: 1.8).
        Assert.InRange(fwtm / fwhm, 1.5, 1.9);
    }

    [Fact]
    public void PlaneWeightsAreSymmetricAndSumToOne()
    {
        var profile = new SliceSensitivityProfile(5);
        var weights = profile.PlaneWeights(1);
        Assert.Equal(1, weights.Sum(), 9);
        for (var m = 0; m < weights.Length; m++)
        {
            Assert.Equal(weights[m], weights[^(m + 1)], 9);
        }

        Assert.Equal(5, profile.FullWidthAt(0.5), 3);
        Assert.True(weights.Length >= 11, $"{weights.Length} planes: a 5 mm profile reaches beyond ±5 mm");
    }

    /// <summary>
    /// Slices every 0.1 mm through a 0.2 mm plate of +1000 HU in a 0 HU block (noise off, soft tissue around): the mean
    /// HU at the image centre against slice position.
    /// </summary>
    private static (double[] Positions, double[] Response) PlateResponse(double thicknessMm)
    {
        var options = SmallPhantoms.Options with
        {
            Matrix = 32,
            ReconstructionDiameterMm = 12.8,
            NoiseSigmaHu = 0,
            SliceThicknessMm = thicknessMm,
            SliceSpacingMm = 0.1,
            FromLevel = "L1",
            ToLevel = "L1",
            TopMarginMm = -3,
            BottomMarginMm = -3,
            PositioningShiftMm = 0,
            PositioningRotationDegrees = 0,
        };
        var layout = PhantomGenerator.Generate(options with { SliceSpacingMm = 5, SliceThicknessMm = 5 });
        var centreZ = (float)((layout.Setup.SliceCentres[0] + layout.Setup.SliceCentres[^1]) / 2);
        PaintOperation[] plate =
        [
            new("uniform block", new RoundedBox(Frame.Axial(new Vector3(0, 0, centreZ)), new Vector3(500, 500, 20), 0), Fill.Uniform(0, TissueClass.Equipment), ShapeSpace.Scanner),
            new("thin plate", new RoundedBox(Frame.Axial(new Vector3(0, 0, centreZ + 0.03f)), new Vector3(500, 500, 0.1f), 0), Fill.Uniform(1000, TissueClass.Equipment), ShapeSpace.Scanner),
        ];
        var study = PhantomGenerator.Generate(options, plate);
        var geometry = study.Volume.Geometry;
        var positions = new double[geometry.SizeZ];
        var response = new double[geometry.SizeZ];
        for (var k = 0; k < geometry.SizeZ; k++)
        {
            positions[k] = geometry.VoxelToPatient(0, 0, k).Z - centreZ;
            var sum = 0.0;
            for (var j = 12; j < 20; j++)
            {
                for (var i = 12; i < 20; i++)
                {
                    sum += study.Volume[i, j, k];
                }
            }

            response[k] = sum / 64;
        }

        Assert.True(Math.Abs(positions.MinBy(Math.Abs)) < 0.1 && positions.Min() < -thicknessMm && positions.Max() > thicknessMm, "slices must span the plate");
        return (positions, response);
    }

    /// <summary>Width of the region above a level, edges found by linear interpolation between slices.</summary>
    private static double WidthAbove(double[] positions, double[] response, double level)
    {
        var order = Enumerable.Range(0, positions.Length).OrderBy(k => positions[k]).ToArray();
        double? lower = null, upper = null;
        for (var n = 1; n < order.Length; n++)
        {
            var (a, b) = (order[n - 1], order[n]);
            var crossing = positions[a] + ((level - response[a]) / (response[b] - response[a]) * (positions[b] - positions[a]));
            if (response[a] < level && response[b] >= level)
            {
                lower ??= crossing;
            }
            else if (response[a] >= level && response[b] < level)
            {
                upper = crossing;
            }
        }

        return upper!.Value - lower!.Value;
    }
}
