namespace QctPipeline.Nifti;

/// <summary>
/// The qform parameters of a NIfTI-1 header: a rotation as the quaternion (a, b, c, d) with a ≥ 0 implied, the
/// world position of voxel (0, 0, 0), and qfac (±1), which flips the third axis so left-handed grids can be rotations.
/// </summary>
public readonly record struct NiftiQuaternion(double B, double C, double D, double OffsetX, double OffsetY, double OffsetZ, double Qfac)
{
    private const int MaxPolarIterations = 100;

    /// <summary>The qform matrix as nifti1_io computes it: rotation × diag(dx, dy, qfac·dz) plus the offsets.</summary>
    public NiftiAffine ToAffine(double dx, double dy, double dz)
    {
        var b = B;
        var c = C;
        var d = D;
        var aSquared = 1 - (b * b + c * c + d * d);
        double a;
        if (aSquared < 1e-7)
        {
            // (b, c, d) is (nearly) a unit vector: a 180° rotation whose parameters were stored in float precision.
            var length = Math.Sqrt(b * b + c * c + d * d);
            (a, b, c, d) = (0, b / length, c / length, d / length);
        }
        else
        {
            a = Math.Sqrt(aSquared);
        }

        // nifti1_io treats non-positive spacings as 1 rather than producing a degenerate matrix.
        var sx = dx > 0 ? dx : 1;
        var sy = dy > 0 ? dy : 1;
        var sz = (dz > 0 ? dz : 1) * (Qfac < 0 ? -1 : 1);
        return new NiftiAffine(new[,]
        {
            { (a * a + b * b - c * c - d * d) * sx, 2 * (b * c - a * d) * sy, 2 * (b * d + a * c) * sz, OffsetX },
            { 2 * (b * c + a * d) * sx, (a * a + c * c - b * b - d * d) * sy, 2 * (c * d - a * b) * sz, OffsetY },
            { 2 * (b * d - a * c) * sx, 2 * (c * d + a * b) * sy, (a * a + d * d - c * c - b * b) * sz, OffsetZ },
        });
    }

    /// <summary>
    /// The rigid part of an affine. Its axes are normalised and then orthogonalised by polar decomposition (the
    /// nearest rotation, as nifti1_io does), so a sheared grid — gantry tilt, or cosines rounded in DICOM text —
    /// still gets a valid qform; the sform keeps the exact geometry.
    /// </summary>
    public static NiftiQuaternion FromAffine(NiftiAffine affine)
    {
        var axes = new double[3, 3];
        for (var column = 0; column < 3; column++)
        {
            var length = Math.Sqrt(Square(affine[0, column]) + Square(affine[1, column]) + Square(affine[2, column]));
            if (length == 0 || !double.IsFinite(length))
            {
                throw new ArgumentException($"Affine axis {column} has length {length}; it cannot be a rotation.", nameof(affine));
            }

            for (var row = 0; row < 3; row++)
            {
                axes[row, column] = affine[row, column] / length;
            }
        }

        var rotation = NearestOrthogonal(axes);
        var qfac = Determinant(rotation) < 0 ? -1.0 : 1.0;
        for (var row = 0; row < 3; row++)
        {
            rotation[row, 2] *= qfac;
        }

        var (a, b, c, d) = QuaternionOf(rotation);
        if (a < 0)
        {
            (b, c, d) = (-b, -c, -d);
        }

        return new NiftiQuaternion(b, c, d, affine[0, 3], affine[1, 3], affine[2, 3], qfac);
    }

    /// <summary>Newton iteration Q ← (Q + Q⁻ᵀ) / 2, which converges to the orthogonal factor of the polar decomposition.</summary>
    private static double[,] NearestOrthogonal(double[,] matrix)
    {
        var current = (double[,])matrix.Clone();
        for (var iteration = 0; iteration < MaxPolarIterations; iteration++)
        {
            var inverseTranspose = InverseTranspose(current);
            var change = 0.0;
            for (var row = 0; row < 3; row++)
            {
                for (var column = 0; column < 3; column++)
                {
                    var next = 0.5 * (current[row, column] + inverseTranspose[row, column]);
                    change = Math.Max(change, Math.Abs(next - current[row, column]));
                    current[row, column] = next;
                }
            }

            if (change < 1e-15)
            {
                break;
            }
        }

        return current;
    }

    private static double[,] InverseTranspose(double[,] m)
    {
        var determinant = Determinant(m);
        if (Math.Abs(determinant) < 1e-12)
        {
            throw new ArgumentException("The affine's axes are (nearly) coplanar; it has no rotation part.");
        }

        // The cofactor matrix divided by the determinant is exactly the inverse transposed.
        var result = new double[3, 3];
        for (var row = 0; row < 3; row++)
        {
            for (var column = 0; column < 3; column++)
            {
                int r1 = (row + 1) % 3, r2 = (row + 2) % 3, c1 = (column + 1) % 3, c2 = (column + 2) % 3;
                result[row, column] = (m[r1, c1] * m[r2, c2] - m[r1, c2] * m[r2, c1]) / determinant;
            }
        }

        return result;
    }

    private static double Determinant(double[,] m) =>
        m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1])
        - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
        + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]);

    /// <summary>Shepperd's method: divide by the largest of the four candidate terms so no branch loses precision.</summary>
    private static (double A, double B, double C, double D) QuaternionOf(double[,] r)
    {
        var trace = r[0, 0] + r[1, 1] + r[2, 2];
        if (trace > 0)
        {
            var s = 2 * Math.Sqrt(1 + trace);
            return (s / 4, (r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s);
        }

        if (r[0, 0] > r[1, 1] && r[0, 0] > r[2, 2])
        {
            var s = 2 * Math.Sqrt(1 + r[0, 0] - r[1, 1] - r[2, 2]);
            return ((r[2, 1] - r[1, 2]) / s, s / 4, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s);
        }

        if (r[1, 1] > r[2, 2])
        {
            var s = 2 * Math.Sqrt(1 + r[1, 1] - r[0, 0] - r[2, 2]);
            return ((r[0, 2] - r[2, 0]) / s, (r[0, 1] + r[1, 0]) / s, s / 4, (r[1, 2] + r[2, 1]) / s);
        }

        var t = 2 * Math.Sqrt(1 + r[2, 2] - r[0, 0] - r[1, 1]);
        return ((r[1, 0] - r[0, 1]) / t, (r[0, 2] + r[2, 0]) / t, (r[1, 2] + r[2, 1]) / t, t / 4);
    }

    private static double Square(double value) => value * value;
}
