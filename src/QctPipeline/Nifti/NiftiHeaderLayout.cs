namespace QctPipeline.Nifti;

/// <summary>Byte offsets of the NIfTI-1 header fields (nifti1.h), shared by the reader and the writer.</summary>
internal static class NiftiHeaderLayout
{
    public const int HeaderSize = 348;
    public const int SingleFileVoxelOffset = 352;
    public const int SizeOfHeader = 0;
    public const int Regular = 38;
    public const int Dim = 40;
    public const int DataType = 70;
    public const int BitPix = 72;
    public const int PixDim = 76;
    public const int VoxOffset = 108;
    public const int SclSlope = 112;
    public const int SclInter = 116;
    public const int XyztUnits = 123;
    public const int Descrip = 148;
    public const int DescripLength = 80;
    public const int QformCode = 252;
    public const int SformCode = 254;
    public const int QuaternB = 256;
    public const int SrowX = 280;
    public const int Magic = 344;

    /// <summary>"n+1\0": header and voxels in one .nii file.</summary>
    public static ReadOnlySpan<byte> SingleFileMagic => "n+1\0"u8;

    /// <summary>"ni1\0": a .hdr whose voxels live in a separate .img.</summary>
    public static ReadOnlySpan<byte> PairedFileMagic => "ni1\0"u8;

    /// <summary>NIFTI_XFORM_SCANNER_ANAT: coordinates are the scanner's own (DICOM patient space, in RAS).</summary>
    public const short ScannerAnatomical = 1;

    /// <summary>NIFTI_UNITS_MM in the spatial bits of xyzt_units; the temporal bits stay 0 (no time axis).</summary>
    public const byte Millimetres = 2;
}
