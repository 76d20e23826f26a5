using System.Globalization;

namespace QctPipeline.Nifti;

/// <summary>
/// A NIfTI voxel-to-world transform: the top three rows of its 4x4 matrix (the fourth is always 0 0 0 1).
/// World coordinates are NIfTI's RAS millimetres, not DICOM's LPS.
/// </summary>
public sealed class NiftiAffine
{
    private readonly double[] rowMajor;

    /// <summary>From a 3x4 matrix or a 4x4 one whose last row is 0 0 0 1.</summary>
    public NiftiAffine(double[,] rows)
    {
        var rowCount = rows.GetLength(0);
        if (rows.GetLength(1) != 4 || rowCount is not (3 or 4))
        {
            throw new ArgumentException($"An affine needs 3x4 or 4x4 values, not {rowCount}x{rows.GetLength(1)}.", nameof(rows));
        }

        if (rowCount == 4 && (rows[3, 0], rows[3, 1], rows[3, 2], rows[3, 3]) != (0, 0, 0, 1))
        {
            throw new ArgumentException("The fourth row of an affine must be 0 0 0 1.", nameof(rows));
        }

        rowMajor = new double[12];
        for (var row = 0; row < 3; row++)
        {
            for (var column = 0; column < 4; column++)
            {
                rowMajor[row * 4 + column] = rows[row, column];
            }
        }
    }

    /// <param name="row">0..2 (x, y, z).</param>
    /// <param name="column">0..2 for the voxel axes i, j, k; 3 for the offset.</param>
    public double this[int row, int column] => rowMajor[row * 4 + column];

    public (double X, double Y, double Z) VoxelToWorld(double i, double j, double k) =>
    (
        this[0, 0] * i + this[0, 1] * j + this[0, 2] * k + this[0, 3],
        this[1, 0] * i + this[1, 1] * j + this[1, 2] * k + this[1, 3],
        this[2, 0] * i + this[2, 1] * j + this[2, 2] * k + this[2, 3]
    );

    /// <summary>The largest element-wise difference, in mm for the offsets and mm per voxel for the axes.</summary>
    public double MaxAbsDifference(NiftiAffine other)
    {
        var largest = 0.0;
        for (var index = 0; index < rowMajor.Length; index++)
        {
            largest = Math.Max(largest, Math.Abs(rowMajor[index] - other.rowMajor[index]));
        }

        return largest;
    }

    public double[,] ToMatrix4x4()
    {
        var matrix = new double[4, 4];
        for (var row = 0; row < 3; row++)
        {
            for (var column = 0; column < 4; column++)
            {
                matrix[row, column] = this[row, column];
            }
        }

        matrix[3, 3] = 1;
        return matrix;
    }

    public override string ToString() =>
        string.Join(" / ", Enumerable.Range(0, 3).Select(row => string.Join(' ',
            Enumerable.Range(0, 4).Select(column => this[row, column].ToString("0.#####", CultureInfo.InvariantCulture)))));
}
