using QctPipeline.Dicom;
using QctPipeline.Domain;

namespace QctPipeline.Tests.Ingest;

/// <summary>
/// Writes small CT series whose every voxel is known: HU = 10·slice + column − 500, so sort order, orientation and
/// resampling can be checked exactly. Positions, orientation and per-slice tweaks are the test's to choose.
/// </summary>
public sealed record SyntheticSeries
{
    public int Rows { get; init; } = 16;
    public int Columns { get; init; } = 20;
    public double PixelSpacing { get; init; } = 0.8;
    public string SeriesUid { get; init; } = "2.25.1000";
    public string StudyUid { get; init; } = "2.25.999";
    public string PatientId { get; init; } = "SYNTH-1";
    public string Modality { get; init; } = "CT";
    public string ImageType { get; init; } = @"ORIGINAL\PRIMARY\AXIAL";
    public Vector3 Row { get; init; } = new(1, 0, 0);
    public Vector3 Column { get; init; } = new(0, 1, 0);
    public double SliceThickness { get; init; } = 2;

    public static short StoredValue(int slice, int column) => (short)((10 * slice) + column + 524);

    public static float Hu(int slice, int column) => StoredValue(slice, column) - 1024;

    /// <summary>Writes one file per position (in shuffled file order, so sorting is tested) and returns the paths.</summary>
    public string[] Write(string folder, IReadOnlyList<Vector3> positions, Action<int, DicomWriter>? tweak = null)
    {
        var order = Enumerable.Range(0, positions.Count).OrderBy(i => (i * 7919) % positions.Count).ToArray();
        var paths = new string[positions.Count];
        foreach (var slice in order)
        {
            var writer = Slice(slice, positions[slice]);
            tweak?.Invoke(slice, writer);
            paths[slice] = Path.Combine(folder, $"{SeriesUid}-{slice:D3}.dcm");
            writer.WriteFile(paths[slice]);
        }

        return paths;
    }

    public DicomWriter Slice(int slice, Vector3 position)
    {
        var pixels = new byte[Rows * Columns * 2];
        for (var j = 0; j < Rows; j++)
        {
            for (var i = 0; i < Columns; i++)
            {
                BitConverter.TryWriteBytes(pixels.AsSpan(((j * Columns) + i) * 2), StoredValue(slice, i));
            }
        }

        return new DicomWriter()
            .Add(DicomTag.SopClassUid, DicomVR.UI, Modality == "CT" ? "1.2.840.10008.5.1.4.1.1.2" : "1.2.840.10008.5.1.4.1.1.4")
            .Add(DicomTag.SopInstanceUid, DicomVR.UI, $"{SeriesUid}.{slice + 1}")
            .Add(DicomTag.ImageType, DicomVR.CS, ImageType)
            .Add(DicomTag.Modality, DicomVR.CS, Modality)
            .Add(DicomTag.PatientId, DicomVR.LO, PatientId)
            .Add(DicomTag.StudyDate, DicomVR.DA, "20250110")
            .AddDecimals(DicomTag.SliceThickness, SliceThickness)
            .AddDecimals(DicomTag.Kvp, 120)
            .Add(DicomTag.ConvolutionKernel, DicomVR.SH, "B30f")
            .Add(DicomTag.StudyInstanceUid, DicomVR.UI, StudyUid)
            .Add(DicomTag.SeriesInstanceUid, DicomVR.UI, SeriesUid)
            .AddInteger(DicomTag.InstanceNumber, slice + 1)
            .AddDecimals(DicomTag.ImagePositionPatient, position.X, position.Y, position.Z)
            .AddDecimals(DicomTag.ImageOrientationPatient, Row.X, Row.Y, Row.Z, Column.X, Column.Y, Column.Z)
            .AddUInt16(DicomTag.SamplesPerPixel, 1)
            .Add(DicomTag.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2")
            .AddUInt16(DicomTag.Rows, (ushort)Rows)
            .AddUInt16(DicomTag.Columns, (ushort)Columns)
            .AddDecimals(DicomTag.PixelSpacing, PixelSpacing, PixelSpacing)
            .AddUInt16(DicomTag.BitsAllocated, 16)
            .AddUInt16(DicomTag.BitsStored, 16)
            .AddUInt16(DicomTag.HighBit, 15)
            .AddUInt16(DicomTag.PixelRepresentation, 1)
            .AddDecimals(DicomTag.RescaleIntercept, -1024)
            .AddDecimals(DicomTag.RescaleSlope, 1)
            .AddBytes(DicomTag.PixelData, DicomVR.OW, pixels);
    }

    public static Vector3[] Axial(int count, double spacing, double z0 = -100) =>
        Enumerable.Range(0, count).Select(k => new Vector3(-10, -20, z0 + (k * spacing))).ToArray();
}
