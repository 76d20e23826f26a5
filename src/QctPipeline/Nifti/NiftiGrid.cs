using QctPipeline.Domain;

namespace QctPipeline.Nifti;

/// <summary>
/// Where a volume's voxels go in a NIfTI file, following dcm2niix so our files line up voxel for voxel with its
/// conversions and with TotalSegmentator's label maps: file i is the volume's i (DICOM column order); file j runs
/// over the volume's rows in reverse (file row 0 is the last DICOM row); file k runs along row × column (the
/// slice normal), so the volume's slices are reversed when its slice direction points the other way. The affine
/// maps file indices to RAS: NIfTI's world, where DICOM's LPS has x and y negated.
/// </summary>
public sealed class NiftiGrid
{
    private NiftiGrid(VolumeGeometry geometry)
    {
        SizeX = geometry.SizeX;
        SizeY = geometry.SizeY;
        SizeZ = geometry.SizeZ;
        ReversesSlices = geometry.SliceDirection.Dot(geometry.RowDirection.Cross(geometry.ColumnDirection)) < 0;

        var origin = geometry.VoxelToPatient(0, SizeY - 1, ReversesSlices ? SizeZ - 1 : 0);
        var axisI = geometry.RowDirection * geometry.Spacing.X;
        var axisJ = geometry.ColumnDirection * -geometry.Spacing.Y;
        var axisK = geometry.SliceDirection * (ReversesSlices ? -geometry.Spacing.Z : geometry.Spacing.Z);
        Affine = new NiftiAffine(new[,]
        {
            { -axisI.X, -axisJ.X, -axisK.X, -origin.X },
            { -axisI.Y, -axisJ.Y, -axisK.Y, -origin.Y },
            { axisI.Z, axisJ.Z, axisK.Z, origin.Z },
        });
        Quaternion = NiftiQuaternion.FromAffine(Affine);
    }

    public int SizeX { get; }

    public int SizeY { get; }

    public int SizeZ { get; }

    /// <summary>True when the volume's k runs against row × column, so file slice 0 is the volume's last slice.</summary>
    public bool ReversesSlices { get; }

    /// <summary>File voxel index to RAS millimetres: what the writer stores as the sform.</summary>
    public NiftiAffine Affine { get; }

    /// <summary>The rigid part of <see cref="Affine"/>: what the writer stores as the qform.</summary>
    public NiftiQuaternion Quaternion { get; }

    public static NiftiGrid For(VolumeGeometry geometry) => new(geometry);

    /// <summary>The file row of volume row j; the mapping is its own inverse.</summary>
    public int FileRow(int j) => SizeY - 1 - j;

    /// <summary>The file slice of volume slice k; the mapping is its own inverse.</summary>
    public int FileSlice(int k) => ReversesSlices ? SizeZ - 1 - k : k;

    /// <summary>Where volume voxel (i, j, k) is in the file's voxel order (i fastest, then j, then k).</summary>
    public long FileIndex(int i, int j, int k) => i + (long)SizeX * (FileRow(j) + (long)SizeY * FileSlice(k));
}
