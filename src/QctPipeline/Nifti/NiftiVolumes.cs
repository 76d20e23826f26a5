using QctPipeline.Domain;

namespace QctPipeline.Nifti;

/// <summary>
/// A NIfTI image as a volume in DICOM patient space: its grid, and its voxels as a <see cref="CtVolume"/> or labels.
/// File order (i fastest, then j, k) is kept, so voxel (i, j, k) of the volume is file voxel (i, j, k) whatever the
/// orientation (PIR, RAS, oblique); only the affine is turned from RAS to LPS.
/// </summary>
public static class NiftiVolumes
{
    /// <summary>
    /// The grid of a 3D image: from the sform when its code is set (as NIfTI readers prefer it), else the qform.
    /// Throws <see cref="NiftiFormatException"/> when the image has more than one volume or neither transform is set
    /// (no way to place it in patient space).
    /// </summary>
    public static VolumeGeometry Geometry(NiftiImage image)
    {
        if (image.Dimensions.Skip(3).Any(size => size > 1))
        {
            throw new NiftiFormatException($"dim {string.Join('x', image.Dimensions)} holds more than one 3D volume");
        }

        var affine = image.SformCode > 0 ? image.Sform
            : image.QformCode > 0 ? image.QformMatrix
            : throw new NiftiFormatException("neither sform_code nor qform_code is set: the image has no position in patient space");

        // RAS → LPS: x and y change sign, z does not.
        static Vector3 Lps(double x, double y, double z) => new(-x, -y, z);
        var axes = Enumerable.Range(0, 3).Select(column => Lps(affine[0, column], affine[1, column], affine[2, column])).ToArray();
        if (axes.Any(axis => axis.Length == 0) || Math.Abs(axes[0].Dot(axes[1].Cross(axes[2]))) < 1e-12)
        {
            throw new NiftiFormatException($"the affine {affine} is singular: its voxel axes do not span space");
        }

        return new VolumeGeometry(
            image.SizeX,
            image.SizeY,
            image.SizeZ,
            Lps(affine[0, 3], affine[1, 3], affine[2, 3]),
            new Vector3(axes[0].Length, axes[1].Length, axes[2].Length),
            axes[0].Normalized(),
            axes[1].Normalized(),
            axes[2].Normalized());
    }

    /// <summary>A CT image (values taken as HU, scl_slope/scl_inter applied) on its own grid.</summary>
    public static CtVolume ReadCt(string path)
    {
        var image = NiftiReader.Read(path);
        return new CtVolume(Geometry(image), image.Voxels.ToArray());
    }
}
