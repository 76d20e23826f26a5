using System.Text;
using QctPipeline.Calibrate;
using QctPipeline.Cli.Commands;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Phantom;
using QctPipeline.Segment;
using QctPipeline.Tests.Segment;
using Xunit.Abstractions;
using static QctPipeline.Tests.Hostile.HostileCases;

namespace QctPipeline.Tests.Hostile;

/// <summary>
/// Every single-file hostile case dropped, one at a time, (a) into a copy of a good series whose Study, Series and SOP
/// Instance UIDs it carries (a corrupted resend of one of its slices), and (b) beside a good study of another patient.
/// Each folder goes through the batch's ingest (survey, study grouping, series choice, decode): the good series must
/// still be chosen without that file and with the file accounted for (a file problem, a warning naming it, or a series
/// of its own with a reason), or be refused with a reason; the neighbour study must load exactly as it does alone.
/// A volume that loads exactly as the untouched series does gets that series' analysis; any other is analysed too.
/// </summary>
public sealed class MixedHostileInputTests(ITestOutputHelper output)
{
    private const string HostileName = "zz-hostile.dcm";

    [Fact]
    public void A_hostile_file_mixed_into_a_good_series_or_beside_a_good_study_costs_only_itself()
    {
        using var folder = new TempFolder();
        var options = new IngestOptions();
        var good = folder.File("good");
        var neighbour = folder.File("neighbour");
        PhantomStudyWriter.WriteSeries(PhantomGenerator.Generate(GoodSeries(99, "HOSTILE")), good);
        PhantomStudyWriter.WriteSeries(PhantomGenerator.Generate(GoodSeries(98, "NEIGHBOUR")), neighbour);
        var goodSlices = Directory.GetFiles(good, "*.dcm").Order(StringComparer.Ordinal).ToArray();
        var neighbourSlices = Directory.GetFiles(neighbour, "*.dcm").Order(StringComparer.Ordinal).ToArray();
        var baseBytes = File.ReadAllBytes(goodSlices[goodSlices.Length / 2]);
        var uidEnds = UidEnds(baseBytes);
        var (goodStudy, goodControl) = LoadAlone(good, options);
        var (neighbourStudy, neighbourControl) = LoadAlone(neighbour, options);

        var manifest = ShippedModelTests.ShippedManifest() ?? throw new InvalidOperationException("models/qct-l1-model.json is not in the repository");
        using var model = SegmentationModel.Load(manifest);
        var analysed = new List<(CtVolume Volume, SegmentationStatus Status)>();
        void Analysed(LoadedSeries loaded)
        {
            if (analysed.Any(a => Same(a.Volume, loaded.Volume)))
            {
                return;
            }

            var result = AnalysisChain.Run(loaded.Volume, loaded.Series.Metadata, model, new CalibrationOptions(), new Dictionary<string, double>());
            analysed.Add((loaded.Volume, result.Status));
        }

        Analysed(goodControl);
        Analysed(neighbourControl);

        var cases = SingleFiles(baseBytes).ToList();
        var (kept, refused) = (0, 0);
        for (var n = 0; n < cases.Count; n++)
        {
            var (kind, bytes) = cases[n];

            // (a) Into the good series, with its UIDs.
            var mixed = Populate(folder.File($"mixed/{n:D3}-{kind}"), goodSlices, bytes);
            var survey = DicomIngest.Survey(mixed.Folder, options);
            var study = Assert.Single(DicomIngest.Studies(survey, options), s => s.StudyInstanceUid == goodStudy);
            if (study.Selection.Selected is { } series)
            {
                Assert.DoesNotContain(series.Frames, f => f.FilePath == mixed.Hostile);
                Assert.True(AccountedFor(survey, series, mixed.Hostile), $"{kind} #{n}: {HostileName} is in no problem, warning or other series");
                var loaded = DicomIngest.Load(series, options);
                Assert.Equal(goodSlices.Length, series.Frames.Count);
                Analysed(loaded);
                kept++;
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(study.Selection.Reason), $"{kind} #{n}: refused without a reason");
                Assert.All(study.Series, s => Assert.False(string.IsNullOrWhiteSpace(s.SkipReason)));
                refused++;
            }

            // (b) Beside a good study of another patient, with UIDs of its own.
            var beside = Populate(folder.File($"beside/{n:D3}-{kind}"), neighbourSlices, WithOwnUids(bytes, n, uidEnds));
            var besideSurvey = DicomIngest.Survey(beside.Folder, options);
            var other = Assert.Single(DicomIngest.Studies(besideSurvey, options), s => s.StudyInstanceUid == neighbourStudy);
            var neighbourSeries = other.Selection.Selected ?? throw new Xunit.Sdk.XunitException($"{kind} #{n}: the neighbour study lost its series: {other.Selection.Reason}");
            Assert.DoesNotContain(neighbourSeries.Frames, f => f.FilePath == beside.Hostile);
            Assert.True(Same(neighbourControl.Volume, DicomIngest.Load(neighbourSeries, options).Volume), $"{kind} #{n}: the neighbour study loads differently");
        }

        output.WriteLine($"{cases.Count} cases × 2 = {2 * cases.Count} mixed runs; good series kept {kept}, refused with a reason {refused}; {analysed.Count} distinct volumes analysed: {string.Join(", ", analysed.Select(a => a.Status))}");
        Assert.True(2 * cases.Count >= 300, $"only {2 * cases.Count} mixed runs");
        Assert.True(kept > refused, $"the good series was refused {refused} times and kept {kept}");
    }

    private static (string? StudyUid, LoadedSeries Loaded) LoadAlone(string folder, IngestOptions options)
    {
        var survey = DicomIngest.Survey(folder, options);
        var study = Assert.Single(DicomIngest.Studies(survey, options));
        return (study.StudyInstanceUid, DicomIngest.Load(study.Selection.Selected!, options));
    }

    private static (string Folder, string Hostile) Populate(string target, string[] slices, byte[] hostile)
    {
        Directory.CreateDirectory(target);
        foreach (var slice in slices)
        {
            File.Copy(slice, Path.Combine(target, Path.GetFileName(slice)));
        }

        var path = Path.Combine(target, HostileName);
        File.WriteAllBytes(path, hostile);
        return (target, path);
    }

    /// <summary>The file is a problem or ignored, named in the kept series' warnings, or sits in another series or part with its reason.</summary>
    private static bool AccountedFor(IngestSurvey survey, SeriesCandidate kept, string path) =>
        survey.Problems.Concat(survey.Ignored).Any(p => p.Path == path)
        || kept.Warnings.Any(w => w.Contains(HostileName, StringComparison.Ordinal))
        || survey.Series.Any(s => !ReferenceEquals(s, kept) && s.Frames.Any(f => f.FilePath == path));

    private static bool Same(CtVolume a, CtVolume b) => a.Geometry == b.Geometry && a.Voxels.SequenceEqual(b.Voxels);
}
