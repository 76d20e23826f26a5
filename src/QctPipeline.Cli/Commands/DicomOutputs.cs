using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using QctPipeline.Dicom;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Report;

namespace QctPipeline.Cli.Commands;

/// <summary>The DICOM objects a study's analysis goes back to PACS as, with UIDs derived from the source series and the versions (a rerun makes the same object).</summary>
internal static class DicomOutputs
{
    /// <summary>L1 and the neighbours found (SNOMED CT codes of CID 7603 "Vertebra"); null when no body was segmented.</summary>
    public static DicomWriter? Segmentation(LoadedSeries loaded, AnalysisResult analysis, ExamRecord exam)
    {
        var segmentation = analysis.Segmentation;
        var above = L1Report.AboveL1Name(segmentation) ?? "T12";
        var segments = new List<SegmentMask>();
        foreach (var (name, mask) in new[] { (above, segmentation.AboveL1Mask), ("L1", segmentation.L1Mask), ("L2", segmentation.L2Mask) })
        {
            if (mask is not null && mask.Count > 0 && Snomed(name) is { } code)
            {
                segments.Add(new SegmentMask($"{name} vertebral body", code.Value, code.Meaning, mask));
            }
        }

        if (segments.Count == 0)
        {
            return null;
        }

        var series = loaded.Series;
        var instances = series.Frames
            .Select(f => (f.Header.GetString(DicomTag.SopClassUid) ?? string.Empty, f.Header.GetString(DicomTag.SopInstanceUid) ?? string.Empty))
            .Where(i => i.Item2.Length > 0)
            .Distinct()
            .ToList();
        var key = $"{series.SeriesInstanceUid}/{exam.SoftwareVersion}/{exam.ModelVersion}";
        return DicomSegmentation.Build(new SegmentationSource(series.Frames[0].Header, series.SeriesInstanceUid, instances), segments,
            Uid(key + "/seg-series"), Uid(key + "/seg"), exam.AnalysedAt, exam.SoftwareVersion);
    }

    /// <summary>A UID under 2.25 from a SHA-256 of the text (PS3.5 B.2: a UUID-sized integer).</summary>
    public static string Uid(string text) =>
        "2.25." + new BigInteger(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 16), isUnsigned: true).ToString(CultureInfo.InvariantCulture);

    private static (string Value, string Meaning)? Snomed(string level) => level switch
    {
        "T11" => ("12989004", "T11 vertebra"),
        "T12" => ("23215003", "T12 vertebra"),
        "T13" => null,
        "L1" => ("66794005", "L1 vertebra"),
        "L2" => ("14293000", "L2 vertebra"),
        _ => null,
    };
}
