using System.CommandLine;
using System.Text.Json;
using QctPipeline.Compare;
using QctPipeline.Store;

namespace QctPipeline.Cli.Commands;

/// <summary>`qct compare A B`: two stored series, the later against the earlier, whatever order they are named in.</summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var first = new Argument<string>("seriesUidA") { Description = "SeriesInstanceUID of one stored series." };
        var second = new Argument<string>("seriesUidB") { Description = "SeriesInstanceUID of the other." };
        var store = new StoreArguments();
        var declineThreshold = new DeclineThresholdArgument();
        var json = new Option<bool>("--json") { Description = "Print the comparison as JSON." };
        var command = new Command("compare", "Compare two stored series: change in mg/cm³ and %, days, flags, protocol differences.");
        command.Arguments.Add(first);
        command.Arguments.Add(second);
        store.AddTo(command);
        declineThreshold.AddTo(command);
        command.Options.Add(json);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            using var results = ResultStore.Open(store.Path(parsed));
            var exams = new[] { parsed.GetValue(first)!, parsed.GetValue(second)! }
                .Select(uid => (Uid: uid, Exam: results.Series(uid)))
                .ToList();
            if (exams.FirstOrDefault(e => e.Exam is null) is { Uid: { } missing, Exam: null })
            {
                return ExitCodes.Fail($"{results.Path}: series {missing} is not stored", ExitCodes.Failure);
            }

            var (a, b) = (exams[0].Exam!, exams[1].Exam!);
            if (a.PatientId != b.PatientId)
            {
                Console.Error.WriteLine($"qct: warning: the series belong to different patients ({results.Pseudonym(a.PatientId ?? string.Empty)} and {results.Pseudonym(b.PatientId ?? string.Empty)})");
            }

            var (earlier, later) = (a.StudyDate ?? DateOnly.MaxValue) <= (b.StudyDate ?? DateOnly.MaxValue) ? (a, b) : (b, a);
            var comparison = LongitudinalComparator.Compare(later with { PatientId = earlier.PatientId }, [earlier], declineThreshold.Options(parsed));
            if (parsed.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { earlier = earlier.SeriesInstanceUid, later = later.SeriesInstanceUid, comparison }, AnalyzeReport.JsonOptions));
            }
            else
            {
                Console.WriteLine($"{later.SeriesInstanceUid} ({HumanSummary.Date(later.StudyDate) ?? "no date"}) against {earlier.SeriesInstanceUid} ({HumanSummary.Date(earlier.StudyDate) ?? "no date"})");
                Console.WriteLine(HumanSummary.OneLine(comparison));
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
