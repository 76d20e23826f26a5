using System.Globalization;
using QctPipeline.Dicom;

namespace QctPipeline.Report;

/// <summary>A coded concept: value, scheme (DCM, SCT, UCUM, or 99QCT for this project's own where none exists) and meaning.</summary>
public sealed record CodedConcept(string Value, string Scheme, string Meaning)
{
    public static readonly CodedConcept HounsfieldUnit = new("[hnsf'U]", "UCUM", "Hounsfield unit");
    public static readonly CodedConcept MilligramPerCubicCentimetre = new("mg/cm3", "UCUM", "milligram per cubic centimeter");
    public static readonly CodedConcept Percent = new("%", "UCUM", "percent");
}

/// <summary>One measurement of the report's measurement group: a number with units, a coded value, or text.</summary>
public abstract record ReportedItem(CodedConcept Concept);

public sealed record ReportedNumber(CodedConcept Concept, double Value, CodedConcept Units) : ReportedItem(Concept);

public sealed record ReportedCode(CodedConcept Concept, CodedConcept Value) : ReportedItem(Concept);

public sealed record ReportedText(CodedConcept Concept, string Value) : ReportedItem(Concept);

/// <summary>One measurement group: where it was measured (a SNOMED CT code), its tracking identity and its measurements.</summary>
public sealed record MeasurementGroup(CodedConcept FindingSite, string TrackingIdentifier, string TrackingUid, IReadOnlyList<ReportedItem> Items);

/// <summary>What the SR states: one measurement group per site (the vertebra measured; the L1–L2 pair when averaged).</summary>
public sealed record MeasurementReportContent(IReadOnlyList<MeasurementGroup> Groups);

/// <summary>
/// A DICOM Comprehensive SR following TID 1500 (Measurement Report): language, observer device and procedure, an image
/// library of the source series, and a measurement group (TID 1501-style) per finding site with its measurements. Standard codes (DCM, SCT, UCUM) where they exist; vBMD, method, category and flags under 99QCT.
/// </summary>
public static class DicomMeasurementReport
{
    private const string ComprehensiveSr = "1.2.840.10008.5.1.4.1.1.88.33";

    public static DicomWriter Build(SegmentationSource source, MeasurementReportContent content, string seriesInstanceUid, string sopInstanceUid, DateTimeOffset created, string softwareVersion)
    {
        var header = source.Header;
        string Copy(DicomTag tag) => header.GetString(tag) ?? string.Empty;
        var writer = new DicomWriter()
            .Add(DicomTag.SpecificCharacterSet, DicomVR.CS, header.GetString(DicomTag.SpecificCharacterSet) ?? "ISO_IR 100")
            .Add(DicomTag.SopClassUid, DicomVR.UI, ComprehensiveSr)
            .Add(DicomTag.SopInstanceUid, DicomVR.UI, sopInstanceUid)
            .Add(DicomTag.StudyDate, DicomVR.DA, Copy(DicomTag.StudyDate))
            .Add(new DicomTag(0x0008, 0x0023), DicomVR.DA, created.ToString("yyyyMMdd", CultureInfo.InvariantCulture))
            .Add(new DicomTag(0x0008, 0x0030), DicomVR.TM, Copy(new DicomTag(0x0008, 0x0030)))
            .Add(new DicomTag(0x0008, 0x0033), DicomVR.TM, created.ToString("HHmmss", CultureInfo.InvariantCulture))
            .Add(new DicomTag(0x0008, 0x0050), DicomVR.SH, Copy(new DicomTag(0x0008, 0x0050)))
            .Add(DicomTag.Modality, DicomVR.CS, "SR")
            .Add(DicomTag.Manufacturer, DicomVR.LO, "QctPipeline")
            .Add(new DicomTag(0x0008, 0x0090), DicomVR.PN, Copy(new DicomTag(0x0008, 0x0090)))
            .Add(DicomTag.SeriesDescription, DicomVR.LO, "QctPipeline bone density report")
            .AddSequence(new DicomTag(0x0008, 0x1111))
            .Add(new DicomTag(0x0018, 0x1020), DicomVR.LO, softwareVersion)
            .Add(DicomTag.StudyInstanceUid, DicomVR.UI, Copy(DicomTag.StudyInstanceUid))
            .Add(DicomTag.SeriesInstanceUid, DicomVR.UI, seriesInstanceUid)
            .Add(new DicomTag(0x0020, 0x0010), DicomVR.SH, Copy(new DicomTag(0x0020, 0x0010)))
            .AddInteger(new DicomTag(0x0020, 0x0011), 9002)
            .AddInteger(new DicomTag(0x0020, 0x0013), 1)
            .Add(new DicomTag(0x0040, 0xA491), DicomVR.CS, "COMPLETE")
            .Add(new DicomTag(0x0040, 0xA493), DicomVR.CS, "UNVERIFIED")
            .AddSequence(new DicomTag(0x0040, 0xA372))
            .AddSequence(new DicomTag(0x0040, 0xA375), Evidence(source, Copy(DicomTag.StudyInstanceUid)))
            .Add(new DicomTag(0x0040, 0xA040), DicomVR.CS, "CONTAINER")
            .AddSequence(new DicomTag(0x0040, 0xA043), Code(new CodedConcept("126000", "DCM", "Imaging Measurement Report")))
            .Add(new DicomTag(0x0040, 0xA050), DicomVR.CS, "SEPARATE")
            .AddSequence(new DicomTag(0x0040, 0xA504), new DicomWriter()
                .Add(new DicomTag(0x0008, 0x0105), DicomVR.CS, "DCMR")
                .Add(new DicomTag(0x0040, 0xDB00), DicomVR.CS, "1500"));
        source.AddPatient(writer);

        var imageLibrary = Item("CONTAINS", "CONTAINER", new CodedConcept("111028", "DCM", "Image Library"))
            .Add(new DicomTag(0x0040, 0xA050), DicomVR.CS, "SEPARATE")
            .AddSequence(new DicomTag(0x0040, 0xA730), [.. source.Instances.Select(instance => Item("CONTAINS", "IMAGE", null)
                .AddSequence(new DicomTag(0x0008, 0x1199), new DicomWriter()
                    .Add(new DicomTag(0x0008, 0x1150), DicomVR.UI, instance.SopClassUid)
                    .Add(new DicomTag(0x0008, 0x1155), DicomVR.UI, instance.SopInstanceUid)))]);
        var measurements = Item("CONTAINS", "CONTAINER", new CodedConcept("126010", "DCM", "Imaging Measurements"))
            .Add(new DicomTag(0x0040, 0xA050), DicomVR.CS, "SEPARATE")
            .AddSequence(new DicomTag(0x0040, 0xA730), [.. content.Groups.Select(Group)]);
        return writer.AddSequence(new DicomTag(0x0040, 0xA730),
            Item("HAS CONCEPT MOD", "CODE", new CodedConcept("121049", "DCM", "Language of Content Item and Descendants"))
                .AddSequence(new DicomTag(0x0040, 0xA168), Code(new CodedConcept("eng", "RFC5646", "English"))),
            Item("HAS OBS CONTEXT", "CODE", new CodedConcept("121005", "DCM", "Observer Type"))
                .AddSequence(new DicomTag(0x0040, 0xA168), Code(new CodedConcept("121007", "DCM", "Device"))),
            Item("HAS OBS CONTEXT", "UIDREF", new CodedConcept("121012", "DCM", "Device Observer UID"))
                .Add(new DicomTag(0x0040, 0xA124), DicomVR.UI, DicomWriter.ImplementationClassUid),
            Item("HAS OBS CONTEXT", "TEXT", new CodedConcept("121013", "DCM", "Device Observer Name"))
                .Add(new DicomTag(0x0040, 0xA160), DicomVR.UT, $"QctPipeline {softwareVersion}"),
            Item("HAS CONCEPT MOD", "CODE", new CodedConcept("121058", "DCM", "Procedure reported"))
                .AddSequence(new DicomTag(0x0040, 0xA168), Code(new CodedConcept("77477000", "SCT", "Computerized axial tomography"))),
            imageLibrary,
            measurements);
    }

    private static DicomWriter Group(MeasurementGroup group) => Item("CONTAINS", "CONTAINER", new CodedConcept("125007", "DCM", "Measurement Group"))
        .Add(new DicomTag(0x0040, 0xA050), DicomVR.CS, "SEPARATE")
        .AddSequence(new DicomTag(0x0040, 0xA730), [
            Item("HAS OBS CONTEXT", "TEXT", new CodedConcept("112039", "DCM", "Tracking Identifier")).Add(new DicomTag(0x0040, 0xA160), DicomVR.UT, group.TrackingIdentifier),
            Item("HAS OBS CONTEXT", "UIDREF", new CodedConcept("112040", "DCM", "Tracking Unique Identifier")).Add(new DicomTag(0x0040, 0xA124), DicomVR.UI, group.TrackingUid),
            Item("HAS CONCEPT MOD", "CODE", new CodedConcept("363698007", "SCT", "Finding Site")).AddSequence(new DicomTag(0x0040, 0xA168), Code(group.FindingSite)),
            .. group.Items.Select(Measurement)]);

    private static DicomWriter Measurement(ReportedItem item) => item switch
    {
        ReportedNumber number => Item("CONTAINS", "NUM", number.Concept)
            .AddSequence(new DicomTag(0x0040, 0xA300), new DicomWriter()
                .AddDecimals(new DicomTag(0x0040, 0xA30A), number.Value)
                .AddSequence(new DicomTag(0x0040, 0x08EA), Code(number.Units))),
        ReportedCode code => Item("CONTAINS", "CODE", code.Concept).AddSequence(new DicomTag(0x0040, 0xA168), Code(code.Value)),
        ReportedText text => Item("CONTAINS", "TEXT", text.Concept).Add(new DicomTag(0x0040, 0xA160), DicomVR.UT, text.Value),
        _ => throw new ArgumentException($"unknown report item {item.GetType().Name}", nameof(item)),
    };

    private static DicomWriter Item(string relationship, string valueType, CodedConcept? concept)
    {
        var item = new DicomWriter()
            .Add(new DicomTag(0x0040, 0xA010), DicomVR.CS, relationship)
            .Add(new DicomTag(0x0040, 0xA040), DicomVR.CS, valueType);
        return concept is null ? item : item.AddSequence(new DicomTag(0x0040, 0xA043), Code(concept));
    }

    private static DicomWriter Code(CodedConcept concept) => new DicomWriter()
        .Add(new DicomTag(0x0008, 0x0100), DicomVR.SH, concept.Value)
        .Add(new DicomTag(0x0008, 0x0102), DicomVR.SH, concept.Scheme)
        .Add(new DicomTag(0x0008, 0x0104), DicomVR.LO, concept.Meaning);

    private static DicomWriter Evidence(SegmentationSource source, string studyUid) => new DicomWriter()
        .AddSequence(new DicomTag(0x0008, 0x1115), new DicomWriter()
            .AddSequence(new DicomTag(0x0008, 0x1199), [.. source.Instances.Select(i => new DicomWriter()
                .Add(new DicomTag(0x0008, 0x1150), DicomVR.UI, i.SopClassUid)
                .Add(new DicomTag(0x0008, 0x1155), DicomVR.UI, i.SopInstanceUid))])
            .Add(DicomTag.SeriesInstanceUid, DicomVR.UI, source.SeriesInstanceUid))
        .Add(DicomTag.StudyInstanceUid, DicomVR.UI, studyUid);
}
