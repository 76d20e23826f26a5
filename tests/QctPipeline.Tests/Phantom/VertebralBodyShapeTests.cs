using System.Numerics;
using QctPipeline.Phantom;
using Xunit.Abstractions;

namespace QctPipeline.Tests.Phantom;

/// <summary>The bodies' shape as the label volume shows it: dished endplates, a waist, a concave posterior wall, sizes that vary, wedges.</summary>
public sealed class VertebralBodyShapeTests(ITestOutputHelper output)
{
    /// <summary>One lumbar body on a fine grid (0.47 mm pixels, 0.5 mm slices), no degeneration, no noise.</summary>
    private static PhantomOptions Fine(string level) => new()
    {
        Seed = 11,
        Matrix = 256,
        ReconstructionDiameterMm = 120,
        SliceThicknessMm = 0.5,
        SliceSpacingMm = 0.5,
        FromLevel = level,
        ToLevel = level,
        NoiseSigmaHu = 0,
        DegenerationGrade = 0,
        EndplateConcavityMm = 2.5,
    };

    [Fact]
    public void EndplatesAreDishedBodiesWaistedAndThePosteriorWallConcave()
    {
        var study = PhantomGenerator.Generate(Fine("L3"));
        var v = study.Anatomy.Vertebra("L3");
        var shape = v.Body.Parameters;

        // Height through the dish's deepest point against near the anterior rim, where the dish has (almost) run out.
        var central = SpineSampling.LabelSpanAlongAxis(study, v, 0, 0.1f * v.Depth / 2);
        var rim = SpineSampling.LabelSpanAlongAxis(study, v, 0, -0.85f * v.Depth / 2);
        var dishes = shape.SuperiorConcavityMm + shape.InferiorConcavityMm;
        output.WriteLine($"L3 height at the centre {central:0.0} mm, near the anterior rim {rim:0.0} mm; dishes {dishes:0.0} mm");
        Assert.InRange(rim - central, dishes * 0.6, dishes * 1.3);
        Assert.InRange(shape.SuperiorConcavityMm, 1, 3.5);

        // Width at mid-height against 2 mm inside the endplates.
        var middle = SpineSampling.LabelSpan(study, v, Vector3.Zero, Vector3.UnitX);
        var nearEndplate = SpineSampling.LabelSpan(study, v, new Vector3(0, 0, (v.Height / 2) - 3), Vector3.UnitX);
        output.WriteLine($"width at mid-height {middle:0.0} mm, 3 mm below the superior rim {nearEndplate:0.0} mm (waist {shape.WaistFraction:P0})");
        Assert.True(nearEndplate - middle > Math.Max(1, 0.4 * shape.WaistFraction * v.Width), "no waist");

        // The posterior wall at the midline lies in front of the wall 30 % of the width to either side.
        var midline = SpineSampling.LabelSpan(study, v, Vector3.Zero, Vector3.UnitY);
        var aside = SpineSampling.LabelSpan(study, v, new Vector3(0.3f * v.Width, 0, 0), Vector3.UnitY);
        var wallAtMidline = PosteriorWall(study, v, 0);
        var wallAside = PosteriorWall(study, v, 0.3f * v.Width);
        output.WriteLine($"posterior wall at the midline {wallAtMidline:0.0} mm behind the centre, 30 % aside {wallAside:0.0} mm (depth spans {midline:0.0}, {aside:0.0})");
        Assert.True(wallAside - wallAtMidline > 1, "the posterior wall is not concave");
    }

    [Fact]
    public void EndplateCortexIsFainterThanTheSideWalls()
    {
        // At 2.5 mm, slices through thoracolumbar endplates read 190–280 HU on the LIDC chest series (bodies 105–135 HU).
        var study = PhantomGenerator.Generate(Fine("L1") with { SliceThicknessMm = 2.5, SliceSpacingMm = 2.5, EndplateConcavityMm = 0 });
        var v = study.Anatomy.Vertebra("L1");
        var columns = new List<double>();
        var geometry = study.Volume.Geometry;
        var centre = geometry.PatientToVoxel(ToDomain(study.Setup.ToPatient(v.Frame.Origin)));
        for (var k = 0; k < geometry.SizeZ; k++)
        {
            var sum = 0.0;
            for (var j = -8; j <= 8; j++)
            {
                for (var i = -8; i <= 8; i++)
                {
                    sum += study.Volume[(int)centre.X + i, (int)centre.Y + j, k];
                }
            }

            columns.Add(sum / 289);
        }

        var body = columns.Skip(2).Take(columns.Count - 4).Order().ElementAt((columns.Count - 4) / 2);
        output.WriteLine($"L1 centre column at 2.5 mm: {string.Join(" ", columns.Select(c => c.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))}; median {body:0} HU");
        Assert.InRange(columns.Max(), body + 40, 320);
    }

    [Fact]
    public void SizeVariesPerPersonAndLevel()
    {
        var anatomies = Enumerable.Range(300, 40).Select(seed => new PhantomAnatomy(new PhantomOptions { Seed = seed, PatientSex = "F" }, new CtNumberModel(120))).ToList();
        var scales = anatomies.Select(a => a.DrawnParameters["vertebralSizeScale"]).ToList();
        Assert.All(scales, scale => Assert.InRange(scale, 0.85, 1.15));
        Assert.True(scales.Max() - scales.Min() > 0.12, $"person scales span only {scales.Min():0.00}–{scales.Max():0.00}");
        var widths = anatomies.Select(a => a.Vertebra("L1").Width).ToList();
        Assert.True(widths.Max() / widths.Min() > 1.2, $"L1 widths {widths.Min():0.0}–{widths.Max():0.0} mm");

        // Per level: L2's width relative to L1's varies between people.
        var ratios = anatomies.Select(a => a.Vertebra("L2").Width / a.Vertebra("L1").Width).ToList();
        Assert.True(ratios.Max() - ratios.Min() > 0.06, $"L2/L1 width ratios {ratios.Min():0.00}–{ratios.Max():0.00}");
    }

    [Fact]
    public void GradeOneWedgeLowersTheAnteriorHeightOnly()
    {
        var plain = PhantomGenerator.Generate(Fine("T12"));
        var wedged = PhantomGenerator.Generate(Fine("T12") with { WedgeLevel = "T12", WedgeHeightLoss = 0.22 });
        var (v, w) = (plain.Anatomy.Vertebra("T12"), wedged.Anatomy.Vertebra("T12"));
        var anterior = SpineSampling.LabelSpanAlongAxis(wedged, w, 0, -0.85f * w.Depth / 2) / SpineSampling.LabelSpanAlongAxis(plain, v, 0, -0.85f * v.Depth / 2);
        var posterior = SpineSampling.LabelSpanAlongAxis(wedged, w, 0, 0.6f * w.Depth / 2) / SpineSampling.LabelSpanAlongAxis(plain, v, 0, 0.6f * v.Depth / 2);
        output.WriteLine($"wedged/plain height: anterior {anterior:0.000}, posterior {posterior:0.000}");
        Assert.InRange(anterior, 0.74, 0.84);
        Assert.InRange(posterior, 0.9, 1.01);
        var truth = PhantomStudyWriter.BuildTruth(wedged, new PhantomStudyWriter.StudyUids(wedged.Options));
        Assert.Equal(0.22, truth.Levels.Single(l => l.Name == "T12").AnteriorHeightLoss, 6);
        Assert.Equal(0, truth.Levels.Single(l => l.Name == "L1").AnteriorHeightLoss);
    }

    private static Domain.Vector3 ToDomain(Vector3 v) => new(v.X, v.Y, v.Z);

    /// <summary>How far behind the body's centre its label ends, at mid-height, x mm from the midline.</summary>
    private static double PosteriorWall(PhantomStudy study, VertebraModel v, float x)
    {
        var last = 0.0;
        for (var y = 0f; y <= v.Depth; y += 0.1f)
        {
            var index = SpineSampling.VoxelAt(study, v.Frame.ToWorld(new Vector3(x, y, 0)));
            if (index >= 0 && study.BodyLabels[index] == v.Code)
            {
                last = y;
            }
        }

        return last;
    }
}
