using QctPipeline.Dicom;
using QctPipeline.Domain;

namespace QctPipeline.Ingest;

/// <summary>Turns a parsed file's headers into its image frames (pure: no I/O).</summary>
public static class FrameReader
{
    /// <summary>The frames of a file, one per frame of pixel data, or a single frameless entry for a non-image object.</summary>
    public static IReadOnlyList<ImageFrame> Frames(DicomFile file)
    {
        var header = file.Dataset;
        var notes = new List<string>(file.Assumptions);
        var pixels = ReadPixelFormat(header);
        var declaredFrames = pixels is null ? 1 : header.GetInteger(DicomTag.NumberOfFrames) ?? 1;
        if (declaredFrames is < 1 or > 100_000)
        {
            throw new DicomFormatException($"NumberOfFrames {declaredFrames} is not a usable frame count");
        }

        var frameCount = (int)declaredFrames;

        var shared = header.GetSequence(DicomTag.SharedFunctionalGroupsSequence).FirstOrDefault();
        var perFrame = header.GetSequence(DicomTag.PerFrameFunctionalGroupsSequence);
        if (perFrame.Count > 0 && perFrame.Count != frameCount)
        {
            throw new DicomFormatException($"PerFrameFunctionalGroupsSequence has {perFrame.Count} items for {frameCount} frames");
        }

        var frames = new ImageFrame[frameCount];
        for (var index = 0; index < frameCount; index++)
        {
            var groups = perFrame.Count > 0 ? perFrame[index] : null;
            frames[index] = BuildFrame(file, index, frameCount, pixels, groups, shared, notes);
        }

        return frames;
    }

    private static ImageFrame BuildFrame(DicomFile file, int index, int frameCount, PixelFormat? pixels, DicomDataset? frameGroups, DicomDataset? sharedGroups, IReadOnlyList<string> notes)
    {
        var header = file.Dataset;
        var position = Vector(FromGroups(DicomTag.PlanePositionSequence, DicomTag.ImagePositionPatient) ?? header.GetNumbers(DicomTag.ImagePositionPatient), DicomTag.ImagePositionPatient, 3);
        var orientation = FromGroups(DicomTag.PlaneOrientationSequence, DicomTag.ImageOrientationPatient) ?? header.GetNumbers(DicomTag.ImageOrientationPatient);
        var spacing = FromGroups(DicomTag.PixelMeasuresSequence, DicomTag.PixelSpacing) ?? header.GetNumbers(DicomTag.PixelSpacing);
        var slope = FromGroups(DicomTag.PixelValueTransformationSequence, DicomTag.RescaleSlope)?[0] ?? header.GetNumber(DicomTag.RescaleSlope);
        var intercept = FromGroups(DicomTag.PixelValueTransformationSequence, DicomTag.RescaleIntercept)?[0] ?? header.GetNumber(DicomTag.RescaleIntercept);
        if (slope is { } s && (s == 0 || Math.Abs(s) > 1e6))
        {
            throw new DicomFormatException($"RescaleSlope {s} is unusable");
        }

        if (intercept is { } i && Math.Abs(i) > 1e7)
        {
            throw new DicomFormatException($"RescaleIntercept {i} is unusable");
        }

        if (spacing is not null && (spacing.Length < 2 || spacing[0] <= 0 || spacing[1] <= 0 || spacing[0] > 1000 || spacing[1] > 1000))
        {
            throw new DicomFormatException($"PixelSpacing '{string.Join('\\', spacing)}' is not two positive sizes in mm");
        }

        Vector3? row = null;
        Vector3? column = null;
        if (orientation is not null)
        {
            if (orientation.Length < 6)
            {
                throw new DicomFormatException($"ImageOrientationPatient has {orientation.Length} values, needs 6");
            }

            row = new Vector3(orientation[0], orientation[1], orientation[2]);
            column = new Vector3(orientation[3], orientation[4], orientation[5]);
        }

        return new ImageFrame(
            file.Path,
            index,
            frameCount,
            file.TransferSyntax,
            header,
            pixels,
            position,
            row,
            column,
            spacing?[0],
            spacing?[1],
            slope ?? 1.0,
            intercept ?? 0.0,
            slope is null || intercept is null ? [.. notes, RescaleNote(slope, intercept)] : notes)
        {
            RescaleAssumed = slope is null || intercept is null,
        };

        double[]? FromGroups(DicomTag sequence, DicomTag attribute) =>
            Lookup(frameGroups, sequence, attribute) ?? Lookup(sharedGroups, sequence, attribute);
    }

    private static double[]? Lookup(DicomDataset? groups, DicomTag sequence, DicomTag attribute) =>
        groups?.GetSequence(sequence).FirstOrDefault()?.GetNumbers(attribute);

    private static Vector3? Vector(double[]? values, DicomTag tag, int count)
    {
        if (values is null)
        {
            return null;
        }

        return values.Length < count
            ? throw new DicomFormatException($"{tag} has {values.Length} values, needs {count}")
            : new Vector3(values[0], values[1], values[2]);
    }

    private static PixelFormat? ReadPixelFormat(DicomDataset header)
    {
        if (!header.Contains(DicomTag.PixelData))
        {
            return null;
        }

        var rows = Required(header, DicomTag.Rows);
        var columns = Required(header, DicomTag.Columns);
        var bitsAllocated = Required(header, DicomTag.BitsAllocated);
        var bitsStored = (int)(header.GetInteger(DicomTag.BitsStored) ?? bitsAllocated);
        var highBit = (int)(header.GetInteger(DicomTag.HighBit) ?? bitsStored - 1);
        var samples = (int)(header.GetInteger(DicomTag.SamplesPerPixel) ?? 1);
        if (rows is <= 0 or > 16384 || columns is <= 0 or > 16384)
        {
            throw new DicomFormatException($"image size {rows}x{columns} (Rows x Columns) is not usable");
        }

        if (bitsAllocated is not (8 or 16 or 32))
        {
            throw new DicomFormatException($"BitsAllocated {bitsAllocated} is not supported (8, 16 or 32)");
        }

        if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated)
        {
            throw new DicomFormatException($"BitsStored {bitsStored} / HighBit {highBit} do not fit BitsAllocated {bitsAllocated}");
        }

        if (samples is not (1 or 3 or 4))
        {
            throw new DicomFormatException($"SamplesPerPixel {samples} is not valid");
        }

        var signed = header.GetInteger(DicomTag.PixelRepresentation) == 1;
        long? padding = header.GetInteger(DicomTag.PixelPaddingValue);
        if (padding is { } raw && signed && header.Find(DicomTag.PixelPaddingValue)!.VR != DicomVR.SS && raw > short.MaxValue && bitsAllocated == 16)
        {
            padding = (short)raw;
        }

        return new PixelFormat(rows, columns, samples, header.GetString(DicomTag.PhotometricInterpretation) ?? "MONOCHROME2", bitsAllocated, bitsStored, highBit, signed, padding);
    }

    private static int Required(DicomDataset header, DicomTag tag) =>
        (int)(header.GetInteger(tag) ?? throw new DicomFormatException($"image has no {tag}"));

    private static string RescaleNote(double? slope, double? intercept)
    {
        var (missing, taken) = (slope, intercept) switch
        {
            (null, null) => ("RescaleSlope and RescaleIntercept", "1 and 0"),
            (null, _) => ("RescaleSlope", "1"),
            _ => ("RescaleIntercept", "0"),
        };
        return $"{missing} missing: taken as {taken}; the values are HU only if the stored values already were";
    }
}
