namespace QctPipeline.Domain;

/// <summary>
/// Where a voxel grid lies in patient space (LPS, mm). Index i runs along <see cref="RowDirection"/>
/// (DICOM columns), j along <see cref="ColumnDirection"/> (DICOM rows), k along <see cref="SliceDirection"/>.
/// </summary>
public sealed record VolumeGeometry(
    int SizeX,
    int SizeY,
    int SizeZ,
    Vector3 Origin,
    Vector3 Spacing,
    Vector3 RowDirection,
    Vector3 ColumnDirection,
    Vector3 SliceDirection)
{
    public long VoxelCount => (long)SizeX * SizeY * SizeZ;

    public int SliceLength => SizeX * SizeY;

    public Vector3 VoxelToPatient(double i, double j, double k) =>
        Origin + RowDirection * (i * Spacing.X) + ColumnDirection * (j * Spacing.Y) + SliceDirection * (k * Spacing.Z);

    /// <summary>
    /// Continuous voxel indices (i, j, k) of a patient point, as X, Y, Z: the inverse of <see cref="VoxelToPatient"/>
    /// by Cramer's rule, so it holds for sheared grids (uncorrected gantry tilt) too.
    /// </summary>
    public Vector3 PatientToVoxel(Vector3 point)
    {
        var a = RowDirection * Spacing.X;
        var b = ColumnDirection * Spacing.Y;
        var c = SliceDirection * Spacing.Z;
        var determinant = a.Dot(b.Cross(c));
        var d = point - Origin;
        return new Vector3(d.Dot(b.Cross(c)) / determinant, a.Dot(d.Cross(c)) / determinant, a.Dot(b.Cross(d)) / determinant);
    }

    /// <summary>Six direction cosines as DICOM's ImageOrientationPatient orders them.</summary>
    public double[] DirectionCosines =>
        [RowDirection.X, RowDirection.Y, RowDirection.Z, ColumnDirection.X, ColumnDirection.Y, ColumnDirection.Z];
}
