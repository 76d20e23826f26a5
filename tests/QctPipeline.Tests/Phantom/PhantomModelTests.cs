using System.IO.Compression;
using QctPipeline.Phantom;
using QctPipeline.Report;

namespace QctPipeline.Tests.Phantom;

/// <summary>The physics, the anatomy conventions and the small helpers, without rendering.</summary>
public sealed class PhantomModelTests
{
    [Theory]
    [InlineData(40, 0.2683, 0.6655)]
    [InlineData(60, 0.2059, 0.3148)]
    [InlineData(100, 0.1707, 0.1855)]
    public void AttenuationModelReproducesNistXcom(double energy, double water, double bone)
    {
        Assert.Equal(water, MaterialLibrary.Water.MassAttenuation(energy), water * 0.01);
        Assert.Equal(bone, MaterialLibrary.CorticalBone.MassAttenuation(energy), bone * 0.01);
    }

    [Fact]
    public void TissueNumbersAreThoseOfRealScans()
    {
        var model = new CtNumberModel(120);
        Assert.Equal(0, model.Hu(MaterialLibrary.Water), 6);
        Assert.InRange(model.Hu(MaterialLibrary.Air), -1001, -998);
        Assert.InRange(model.Hu(MaterialLibrary.Adipose), -115, -85);
        Assert.InRange(model.Hu(MaterialLibrary.Muscle), 35, 60);
        Assert.InRange(model.Hu(MaterialLibrary.Liver), 45, 70);
        Assert.InRange(model.HuPerMilligramIodine, 24, 28);
    }

    [Fact]
    public void BoneContrastFallsWithTubeVoltage()
    {
        var slopes = new[] { 80.0, 100, 120, 140 }.Select(kvp => new CtNumberModel(kvp).MineralInBase(MaterialLibrary.Hydroxyapatite, MaterialLibrary.Water).Slope).ToArray();
        for (var index = 1; index < slopes.Length; index++)
        {
            Assert.True(slopes[index] < slopes[index - 1], $"HA slope at step {index} did not fall: {string.Join(", ", slopes)}");
        }

        var fat = new[] { 80.0, 140 }.Select(kvp => new CtNumberModel(kvp).Hu(MaterialLibrary.Adipose)).ToArray();
        Assert.True(fat[0] < fat[1], "fat should be darker at low kVp");
    }

    [Theory]
    [InlineData(12, 5, "T12", "L1")]
    [InlineData(13, 5, "T13", "L1")]
    [InlineData(11, 6, "T11", "L1")]
    public void RibsDefineThoracicAndL1IsTheFirstVertebraBelowTheLastRib(int ribPairs, int lumbar, string lastThoracic, string firstLumbar)
    {
        var options = SmallPhantoms.Options with { RibPairs = ribPairs, LumbarVertebrae = lumbar };
        var anatomy = new PhantomAnatomy(options, new CtNumberModel(120));
        var names = anatomy.Vertebrae.Select(v => v.Name).ToList();
        Assert.Equal(ribPairs + lumbar + 1, names.Count);
        Assert.Equal(lastThoracic, names[ribPairs - 1]);
        Assert.Equal(firstLumbar, names[ribPairs]);
        Assert.Equal("S1", names[^1]);
        Assert.Equal(21, anatomy.Vertebra("L1").Code);
        Assert.Contains(anatomy.Operations, o => o.Name == $"rib {lastThoracic}");
        Assert.DoesNotContain(anatomy.Operations, o => o.Name == $"rib {firstLumbar}");
    }

    [Fact]
    public void FractureLowersTheAnteriorHeightOfL1Only()
    {
        var intact = new PhantomAnatomy(SmallPhantoms.Options, new CtNumberModel(120)).Vertebra("L1");
        var fractured = new PhantomAnatomy(SmallPhantoms.Options with { L1FractureHeightLoss = 0.4 }, new CtNumberModel(120)).Vertebra("L1");
        // 4 mm below the rim's height: below the endplates' dishes (up to 3 mm deep), above a 40 % wedge's anterior endplate.
        var anteriorTop = intact.Frame.ToWorld(new System.Numerics.Vector3(0, -intact.Depth / 2 + 2, intact.Height / 2 - 4));
        var posteriorTop = intact.Frame.ToWorld(new System.Numerics.Vector3(0, intact.Depth / 2 - 6, intact.Height / 2 - 4));
        Assert.True(intact.Body.Distance(anteriorTop) < 0);
        Assert.True(fractured.Body.Distance(anteriorTop) > 0);
        Assert.True(fractured.Body.Distance(posteriorTop) < 0);
    }

    [Fact]
    public void AnatomyOutsideTheScanFieldIsTruncated()
    {
        var options = SmallPhantoms.Options with { Matrix = 96, ReconstructionDiameterMm = 440, DataCollectionDiameterMm = 260, SliceThicknessMm = 5, SliceSpacingMm = 5, NoiseSigmaHu = 0 };
        var study = PhantomGenerator.Generate(options);
        var untruncated = PhantomGenerator.Generate(options with { DataCollectionDiameterMm = 500 });
        var geometry = study.Volume.Geometry;
        var k = geometry.SizeZ / 2;
        var outside = 0;
        var brightRim = 0;
        for (var j = 0; j < geometry.SizeY; j++)
        {
            for (var i = 0; i < geometry.SizeX; i++)
            {
                var p = geometry.VoxelToPatient(i, j, k);
                var radius = Math.Sqrt(p.X * p.X + p.Y * p.Y);
                if (radius > 131)
                {
                    Assert.Equal(-1024, study.Volume[i, j, k]);
                    outside++;
                }
                else if (radius > 127 && study.Volume[i, j, k] > untruncated.Volume[i, j, k] + 40)
                {
                    brightRim++;
                }
            }
        }

        Assert.True(outside > 1000, $"{outside} pixels outside the scan field");
        Assert.True(brightRim > 10, "no truncation artefact at the scan field's edge");
    }

    [Fact]
    public void OptionsNameTheBadOption()
    {
        Assert.Contains("--kvp", new PhantomOptions { Kvp = 20 }.Validate(), StringComparison.Ordinal);
        Assert.Contains("--from L9", new PhantomOptions { FromLevel = "L9" }.Validate(), StringComparison.Ordinal);
        Assert.Contains("--rib-pairs", new PhantomOptions { RibPairs = 10 }.Validate(), StringComparison.Ordinal);
        Assert.Null(new PhantomOptions().Validate());
        Assert.Throws<ArgumentException>(() => PhantomGenerator.Generate(new PhantomOptions { Matrix = 8 }));
    }

    [Fact]
    public void TimepointsParseAndRejectDisorder()
    {
        var parsed = Timepoint.ParseList("2025-01-10:110, 2025-07-12:103");
        Assert.Equal([new Timepoint(new DateOnly(2025, 1, 10), 110), new Timepoint(new DateOnly(2025, 7, 12), 103)], parsed);
        Assert.Throws<FormatException>(() => Timepoint.ParseList("2025-07-12:103,2025-01-10:110"));
        Assert.Throws<FormatException>(() => Timepoint.ParseList("2025-01-10"));
        Assert.Throws<FormatException>(() => Timepoint.ParseList(""));
    }

    [Fact]
    public void UidsAreDeterministicValidAndDistinct()
    {
        var a = PhantomUids.Make(1, "x");
        Assert.Equal(a, PhantomUids.Make(1, "x"));
        Assert.NotEqual(a, PhantomUids.Make(2, "x"));
        Assert.Matches("^2\\.25\\.[1-9][0-9]*$", a);
        Assert.True(a.Length <= 64);
    }

    [Fact]
    public void PngEncoderWritesAValidGreyImage()
    {
        var pixels = new byte[] { 0, 50, 100, 150, 200, 250 };
        var png = PngEncoder.EncodeGray(pixels, 3, 2);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }, png[..8]);
        Assert.Equal(new byte[] { 0xAE, 0x42, 0x60, 0x82 }, png[^4..]);
        Assert.Equal(0xCBF43926u, PngEncoder.Crc32(0xFFFFFFFFu, "123456789"u8) ^ 0xFFFFFFFFu);

        // IDAT starts after signature (8) + IHDR chunk (25); decompress and undo the Up filter.
        var idatLength = (png[33] << 24) | (png[34] << 16) | (png[35] << 8) | png[36];
        using var inflated = new ZLibStream(new MemoryStream(png, 41, idatLength), CompressionMode.Decompress);
        var raw = new MemoryStream();
        inflated.CopyTo(raw);
        var rows = raw.ToArray();
        Assert.Equal(2 * 4, rows.Length);
        var decoded = new byte[6];
        for (var y = 0; y < 2; y++)
        {
            Assert.Equal(2, rows[y * 4]);
            for (var x = 0; x < 3; x++)
            {
                decoded[y * 3 + x] = (byte)(rows[y * 4 + 1 + x] + (y == 0 ? 0 : decoded[(y - 1) * 3 + x]));
            }
        }

        Assert.Equal(pixels, decoded);
    }
}
