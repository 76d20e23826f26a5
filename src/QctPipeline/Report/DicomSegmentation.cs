using System.Buffers.Binary;
using System.Globalization;
using QctPipeline.Dicom;
using QctPipeline.Domain;

namespace QctPipeline.Report;

/// <summary>One segment of a DICOM SEG: its label, its SNOMED CT type (CID 7603 "Vertebra") and its mask.</summary>
public sealed record SegmentMask(string Label, string SnomedCode, string CodeMeaning, Mask Mask);

/// <summary>
/// The source series a SEG or SR refers to: its header (patient, study, frame of reference) and its instances. With a
/// pseudonym (research mode) the patient is named by it alone: no name, ID, birth date or sex of the source is copied.
/// </summary>
public sealed record SegmentationSource(DicomDataset Header, string SeriesInstanceUid, IReadOnlyList<(string SopClassUid, string SopInstanceUid)> Instances, string? Pseudonym = null)
{
    /// <summary>The Patient module: the source's, or only the pseudonym.</summary>
    public DicomWriter AddPatient(DicomWriter writer) => Pseudonym is { } pseudonym
        ? writer
            .Add(DicomTag.PatientName, DicomVR.PN, pseudonym)
            .Add(DicomTag.PatientId, DicomVR.LO, pseudonym)
            .Add(DicomTag.PatientBirthDate, DicomVR.DA, string.Empty)
            .Add(DicomTag.PatientSex, DicomVR.CS, string.Empty)
        : writer
            .Add(DicomTag.PatientName, DicomVR.PN, Header.GetString(DicomTag.PatientName) ?? string.Empty)
            .Add(DicomTag.PatientId, DicomVR.LO, Header.GetString(DicomTag.PatientId) ?? string.Empty)
            .Add(DicomTag.PatientBirthDate, DicomVR.DA, Header.GetString(DicomTag.PatientBirthDate) ?? string.Empty)
            .Add(DicomTag.PatientSex, DicomVR.CS, Header.GetString(DicomTag.PatientSex) ?? string.Empty);
}

/// <summary>
/// A DICOM Segmentation (PS3.3 A.51, binary) of the vertebral bodies found: the patient and study of the source, its
/// frame of reference, one frame per slice a segment touches with its plane position on the volume's grid, the
/// source series referenced (Common Instance Reference), and 1-bit pixels packed contiguously as PS3.5 8.1.1 says.
/// </summary>
public static class DicomSegmentation
{
    private const string SegmentationStorage = "1.2.840.10008.5.1.4.1.1.66.4";
    private const string AnatomicalStructure = "91723000";

    public static DicomWriter Build(SegmentationSource source, IReadOnlyList<SegmentMask> segments, string seriesInstanceUid, string sopInstanceUid, DateTimeOffset created, string softwareVersion)
    {
        var geometry = segments[0].Mask.Geometry;
        var frames = new List<(int Segment, int Slice)>();
        for (var s = 0; s < segments.Count; s++)
        {
            var voxels = segments[s].Mask.Voxels;
            for (var k = 0; k < geometry.SizeZ; k++)
            {
                if (voxels.Slice(k * geometry.SliceLength, geometry.SliceLength).ContainsAnyExcept((byte)0))
                {
                    frames.Add((s + 1, k));
                }
            }
        }

        var header = source.Header;
        string? Copy(DicomTag tag) => header.GetString(tag);
        var writer = new DicomWriter()
            .Add(DicomTag.SpecificCharacterSet, DicomVR.CS, Copy(DicomTag.SpecificCharacterSet) ?? "ISO_IR 100")
            .AddStrings(DicomTag.ImageType, DicomVR.CS, "DERIVED", "PRIMARY")
            .Add(DicomTag.SopClassUid, DicomVR.UI, SegmentationStorage)
            .Add(DicomTag.SopInstanceUid, DicomVR.UI, sopInstanceUid)
            .Add(DicomTag.StudyDate, DicomVR.DA, Copy(DicomTag.StudyDate) ?? string.Empty)
            .Add(new DicomTag(0x0008, 0x0023), DicomVR.DA, created.ToString("yyyyMMdd", CultureInfo.InvariantCulture))
            .Add(new DicomTag(0x0008, 0x0030), DicomVR.TM, Copy(new DicomTag(0x0008, 0x0030)) ?? string.Empty)
            .Add(new DicomTag(0x0008, 0x0033), DicomVR.TM, created.ToString("HHmmss", CultureInfo.InvariantCulture))
            .Add(new DicomTag(0x0008, 0x0050), DicomVR.SH, Copy(new DicomTag(0x0008, 0x0050)) ?? string.Empty)
            .Add(DicomTag.Modality, DicomVR.CS, "SEG")
            .Add(DicomTag.Manufacturer, DicomVR.LO, "QctPipeline")
            .Add(new DicomTag(0x0008, 0x0090), DicomVR.PN, Copy(new DicomTag(0x0008, 0x0090)) ?? string.Empty)
            .Add(DicomTag.SeriesDescription, DicomVR.LO, "QctPipeline vertebral bodies")
            .Add(DicomTag.ManufacturerModelName, DicomVR.LO, "QctPipeline")
            .Add(DicomTag.DeviceSerialNumber, DicomVR.LO, "1")
            .Add(new DicomTag(0x0018, 0x1020), DicomVR.LO, softwareVersion)
            .Add(DicomTag.StudyInstanceUid, DicomVR.UI, Copy(DicomTag.StudyInstanceUid) ?? string.Empty)
            .Add(DicomTag.SeriesInstanceUid, DicomVR.UI, seriesInstanceUid)
            .Add(new DicomTag(0x0020, 0x0010), DicomVR.SH, Copy(new DicomTag(0x0020, 0x0010)) ?? string.Empty)
            .AddInteger(new DicomTag(0x0020, 0x0011), 9001)
            .AddInteger(new DicomTag(0x0020, 0x0013), 1)
            .Add(new DicomTag(0x0020, 0x0052), DicomVR.UI, Copy(new DicomTag(0x0020, 0x0052)) ?? string.Empty)
            .Add(new DicomTag(0x0020, 0x1040), DicomVR.LO, string.Empty)
            .AddUInt16(new DicomTag(0x0028, 0x0002), 1)
            .Add(new DicomTag(0x0028, 0x0004), DicomVR.CS, "MONOCHROME2")
            .AddInteger(new DicomTag(0x0028, 0x0008), frames.Count)
            .AddUInt16(new DicomTag(0x0028, 0x0010), (ushort)geometry.SizeY)
            .AddUInt16(new DicomTag(0x0028, 0x0011), (ushort)geometry.SizeX)
            .AddUInt16(new DicomTag(0x0028, 0x0100), 1)
            .AddUInt16(new DicomTag(0x0028, 0x0101), 1)
            .AddUInt16(new DicomTag(0x0028, 0x0102), 0)
            .AddUInt16(new DicomTag(0x0028, 0x0103), 0)
            .Add(new DicomTag(0x0028, 0x2110), DicomVR.CS, "00")
            .Add(new DicomTag(0x0062, 0x0001), DicomVR.CS, "BINARY")
            .Add(new DicomTag(0x0070, 0x0080), DicomVR.CS, "VERTEBRAE")
            .Add(new DicomTag(0x0070, 0x0081), DicomVR.LO, "Vertebral bodies found by the QctPipeline L1 model")
            .Add(new DicomTag(0x0070, 0x0084), DicomVR.PN, "QctPipeline");
        source.AddPatient(writer);

        writer.AddSequence(new DicomTag(0x0008, 0x1115), new DicomWriter()
            .AddSequence(new DicomTag(0x0008, 0x114A), [.. source.Instances.Select(i => new DicomWriter()
                .Add(new DicomTag(0x0008, 0x1150), DicomVR.UI, i.SopClassUid)
                .Add(new DicomTag(0x0008, 0x1155), DicomVR.UI, i.SopInstanceUid))])
            .Add(DicomTag.SeriesInstanceUid, DicomVR.UI, source.SeriesInstanceUid));

        writer.AddSequence(new DicomTag(0x0062, 0x0002), [.. segments.Select((segment, index) => new DicomWriter()
            .AddSequence(new DicomTag(0x0062, 0x0003), Code(AnatomicalStructure, "Anatomical Structure"))
            .AddUInt16(new DicomTag(0x0062, 0x0004), (ushort)(index + 1))
            .Add(new DicomTag(0x0062, 0x0005), DicomVR.LO, segment.Label)
            .Add(new DicomTag(0x0062, 0x0008), DicomVR.CS, "AUTOMATIC")
            .Add(new DicomTag(0x0062, 0x0009), DicomVR.LO, "QctPipeline L1 model")
            .AddSequence(new DicomTag(0x0062, 0x000F), Code(segment.SnomedCode, segment.CodeMeaning)))]);

        var dimensions = DicomUids.FromText(sopInstanceUid + "/dimensions");
        writer.AddSequence(new DicomTag(0x0020, 0x9221), new DicomWriter().Add(new DicomTag(0x0020, 0x9164), DicomVR.UI, dimensions));
        writer.AddSequence(new DicomTag(0x0020, 0x9222),
            Dimension(dimensions, new DicomTag(0x0062, 0x000B), new DicomTag(0x0062, 0x000A)),
            Dimension(dimensions, new DicomTag(0x0020, 0x0032), new DicomTag(0x0020, 0x9113)));

        var spacing = geometry.Spacing;
        writer.AddSequence(new DicomTag(0x5200, 0x9229), new DicomWriter()
            .AddSequence(new DicomTag(0x0028, 0x9110), new DicomWriter()
                .AddDecimals(new DicomTag(0x0028, 0x0030), spacing.Y, spacing.X)
                .AddDecimals(DicomTag.SliceThickness, spacing.Z)
                .AddDecimals(new DicomTag(0x0018, 0x0088), spacing.Z))
            .AddSequence(new DicomTag(0x0020, 0x9116), new DicomWriter()
                .AddDecimals(new DicomTag(0x0020, 0x0037), geometry.DirectionCosines)));
        writer.AddSequence(new DicomTag(0x5200, 0x9230), [.. frames.Select(frame =>
        {
            var position = geometry.VoxelToPatient(0, 0, frame.Slice);
            var index = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(index, (uint)frame.Segment);
            BinaryPrimitives.WriteUInt32LittleEndian(index.AsSpan(4), (uint)(frame.Slice + 1));
            return new DicomWriter()
                .AddSequence(new DicomTag(0x0020, 0x9111), new DicomWriter().AddBytes(new DicomTag(0x0020, 0x9157), DicomVR.UL, index))
                .AddSequence(new DicomTag(0x0020, 0x9113), new DicomWriter().AddDecimals(new DicomTag(0x0020, 0x0032), position.X, position.Y, position.Z))
                .AddSequence(new DicomTag(0x0062, 0x000A), new DicomWriter().AddUInt16(new DicomTag(0x0062, 0x000B), (ushort)frame.Segment));
        })]);

        return writer.AddBytes(new DicomTag(0x7FE0, 0x0010), DicomVR.OB, PackedFrames(segments, frames, geometry));
    }

    /// <summary>Every frame's pixels, one bit each, least significant bit first, frames following each other without padding.</summary>
    private static byte[] PackedFrames(IReadOnlyList<SegmentMask> segments, List<(int Segment, int Slice)> frames, VolumeGeometry geometry)
    {
        var bits = (long)frames.Count * geometry.SliceLength;
        var packed = new byte[((bits + 7) / 8 + 1) & ~1L];
        long bit = 0;
        foreach (var (segment, slice) in frames)
        {
            var voxels = segments[segment - 1].Mask.Voxels.Slice(slice * geometry.SliceLength, geometry.SliceLength);
            foreach (var voxel in voxels)
            {
                if (voxel != 0)
                {
                    packed[bit >> 3] |= (byte)(1 << (int)(bit & 7));
                }

                bit++;
            }
        }

        return packed;
    }

    private static DicomWriter Code(string value, string meaning) => new DicomWriter()
        .Add(new DicomTag(0x0008, 0x0100), DicomVR.SH, value)
        .Add(new DicomTag(0x0008, 0x0102), DicomVR.SH, "SCT")
        .Add(new DicomTag(0x0008, 0x0104), DicomVR.LO, meaning);

    private static DicomWriter Dimension(string organization, DicomTag pointer, DicomTag functionalGroup)
    {
        static byte[] At(DicomTag tag)
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteUInt16LittleEndian(bytes, tag.Group);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), tag.Element);
            return bytes;
        }

        return new DicomWriter()
            .Add(new DicomTag(0x0020, 0x9164), DicomVR.UI, organization)
            .AddBytes(new DicomTag(0x0020, 0x9165), DicomVR.AT, At(pointer))
            .AddBytes(new DicomTag(0x0020, 0x9167), DicomVR.AT, At(functionalGroup));
    }
}
