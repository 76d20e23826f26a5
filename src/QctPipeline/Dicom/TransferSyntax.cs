namespace QctPipeline.Dicom;

public enum PixelEncoding
{
    Native,
    Rle,
    JpegLossless,
    JpegBaseline,
    JpegLs,
    Jpeg2000,
    Unsupported,
}

/// <summary>How a dataset is encoded on the wire (PS3.5 section 10 and annex A).</summary>
public sealed record TransferSyntax(string Uid, string Name, bool ExplicitVR, bool BigEndian, bool Deflated, PixelEncoding Pixels)
{
    public static readonly TransferSyntax ImplicitVRLittleEndian = new("1.2.840.10008.1.2", "Implicit VR Little Endian", false, false, false, PixelEncoding.Native);
    public static readonly TransferSyntax ExplicitVRLittleEndian = new("1.2.840.10008.1.2.1", "Explicit VR Little Endian", true, false, false, PixelEncoding.Native);
    public static readonly TransferSyntax DeflatedExplicitVRLittleEndian = new("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", true, false, true, PixelEncoding.Native);
    public static readonly TransferSyntax ExplicitVRBigEndian = new("1.2.840.10008.1.2.2", "Explicit VR Big Endian", true, true, false, PixelEncoding.Native);

    private static readonly TransferSyntax[] Known =
    [
        ImplicitVRLittleEndian,
        ExplicitVRLittleEndian,
        DeflatedExplicitVRLittleEndian,
        ExplicitVRBigEndian,
        new("1.2.840.10008.1.2.5", "RLE Lossless", true, false, false, PixelEncoding.Rle),
        new("1.2.840.10008.1.2.4.57", "JPEG Lossless (Process 14)", true, false, false, PixelEncoding.JpegLossless),
        new("1.2.840.10008.1.2.4.70", "JPEG Lossless (Process 14, SV1)", true, false, false, PixelEncoding.JpegLossless),
        new("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", true, false, false, PixelEncoding.JpegBaseline),
        new("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)", true, false, false, PixelEncoding.JpegBaseline),
        new("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless", true, false, false, PixelEncoding.JpegLs),
        new("1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless", true, false, false, PixelEncoding.JpegLs),
        new("1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless", true, false, false, PixelEncoding.Jpeg2000),
        new("1.2.840.10008.1.2.4.91", "JPEG 2000", true, false, false, PixelEncoding.Jpeg2000),
        new("1.2.840.10008.1.2.4.201", "HTJ2K Lossless", true, false, false, PixelEncoding.Unsupported),
        new("1.2.840.10008.1.2.4.202", "HTJ2K Lossless RPCL", true, false, false, PixelEncoding.Unsupported),
        new("1.2.840.10008.1.2.4.203", "HTJ2K", true, false, false, PixelEncoding.Unsupported),
    ];

    public bool IsEncapsulated => Pixels != PixelEncoding.Native;

    /// <summary>The syntax for a UID; unknown UIDs are treated as encapsulated explicit VR LE with undecodable pixels.</summary>
    public static TransferSyntax FromUid(string uid) =>
        Array.Find(Known, ts => ts.Uid == uid) ?? new TransferSyntax(uid, $"unknown transfer syntax {uid}", true, false, false, PixelEncoding.Unsupported);
}
