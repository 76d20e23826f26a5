using System.Globalization;
using QctPipeline.Domain;
using QctPipeline.Measure;
using QctPipeline.Nifti;

namespace QctPipeline.Evaluation;

/// <summary>
/// What a case's reference says, on the series' own grid: the vertebra, its body (when a mask is given), its centroid,
/// and the trabecular HU to compare the pipeline's with.
/// </summary>
/// <param name="Body">The reference mask mapped onto the series' grid; null without one.</param>
/// <param name="CentroidLps">From the manifest, else the mapped mask's centroid; null for an L1-not-in-view row with neither.</param>
/// <param name="TrabecularHu">reference_hu, else the mean HU of the mask eroded by <see cref="ErosionMm"/>; null when neither exists.</param>
/// <param name="HuSource">Where <paramref name="TrabecularHu"/> comes from, for the report.</param>
public sealed record ReferenceStandard(string Level, Mask? Body, Vector3? CentroidLps, double? TrabecularHu, string? HuSource, bool? L1InView)
{
    /// <summary>The trabecular ROI the pipeline measures: the body eroded by 4 mm (decision 0005).</summary>
    public const double ErosionMm = 4;

    public static ReferenceStandard For(EvaluationCase evaluationCase, CtVolume volume)
    {
        var body = evaluationCase.ReferenceMask is { } expression ? MaskOnGrid(expression, volume.Geometry) : null;
        var centroid = evaluationCase.CentroidLps ?? body?.Centroid();
        if (evaluationCase.ReferenceHu is { } given)
        {
            return new ReferenceStandard(evaluationCase.Level, body, centroid, given, "manifest", evaluationCase.L1InView);
        }

        var eroded = body is null ? null : ErodedMeanHu(volume, body);
        var source = body is null ? null
            : eroded is { } found ? string.Create(CultureInfo.InvariantCulture, $"reference mask eroded by {ErosionMm:0} mm ({found.Voxels} voxels)")
            : $"reference mask eroded by {ErosionMm:0} mm is empty";
        return new ReferenceStandard(evaluationCase.Level, body, centroid, eroded?.MeanHu, source, evaluationCase.L1InView);
    }

    /// <summary>Mean HU of the body eroded by <see cref="ErosionMm"/> (<see cref="BodyErosion"/>) and its voxel count; null when nothing is left.</summary>
    public static (double MeanHu, long Voxels)? ErodedMeanHu(CtVolume volume, Mask body)
    {
        var eroded = BodyErosion.Erode(body, ErosionMm).Voxels;
        var voxels = volume.Voxels;
        double sum = 0;
        long count = 0;
        for (var index = 0; index < eroded.Length; index++)
        {
            if (eroded[index] != 0)
            {
                sum += voxels[index];
                count++;
            }
        }

        return count == 0 ? null : (sum / count, count);
    }

    /// <summary>
    /// The expression's voxels on <paramref name="target"/>: each target voxel centre is located in every term's own
    /// grid (patient coordinates, nearest voxel) and is inside when every term holds there. Throws
    /// <see cref="EvaluationInputException"/> for a missing or unreadable file, a label the file does not hold, or a
    /// mask with no voxel on the target grid.
    /// </summary>
    public static Mask MaskOnGrid(MaskExpression expression, VolumeGeometry target)
    {
        byte[]? inside = null;
        foreach (var term in expression.Terms)
        {
            var mapped = TermOnGrid(term, target);
            if (inside is null)
            {
                inside = mapped;
                continue;
            }

            for (var index = 0; index < inside.Length; index++)
            {
                inside[index] &= mapped[index];
            }
        }

        var mask = new Mask(target, inside!);
        if (mask.Count == 0)
        {
            throw new EvaluationInputException($"{expression.Text}: the reference mask has no voxel on the series' grid (the terms do not overlap, or the mask lies outside the scan)");
        }

        return mask;
    }

    private static byte[] TermOnGrid(MaskTerm term, VolumeGeometry target)
    {
        if (!File.Exists(term.Path))
        {
            throw new EvaluationInputException($"{term.Path}: no such reference mask file");
        }

        NiftiImage image;
        VolumeGeometry source;
        try
        {
            image = NiftiReader.Read(term.Path);
            source = NiftiVolumes.Geometry(image);
        }
        catch (NiftiFormatException exception)
        {
            throw new EvaluationInputException($"{term.Path}: {exception.Message}");
        }

        var values = image.Voxels.Span;
        var (low, high, found) = (new[] { int.MaxValue, int.MaxValue, int.MaxValue }, new[] { -1, -1, -1 }, false);
        var present = new SortedSet<float>();
        for (var k = 0; k < source.SizeZ; k++)
        {
            for (var j = 0; j < source.SizeY; j++)
            {
                for (var i = 0; i < source.SizeX; i++)
                {
                    var value = values[i + (source.SizeX * (j + (source.SizeY * k)))];
                    if (present.Count < 64)
                    {
                        present.Add(value);
                    }

                    if (term.Holds(value))
                    {
                        (low[0], low[1], low[2]) = (Math.Min(low[0], i), Math.Min(low[1], j), Math.Min(low[2], k));
                        (high[0], high[1], high[2]) = (Math.Max(high[0], i), Math.Max(high[1], j), Math.Max(high[2], k));
                        found = true;
                    }
                }
            }
        }

        if (!found)
        {
            var labels = string.Join(", ", present.Where(v => v != 0).Select(v => v.ToString(CultureInfo.InvariantCulture)));
            throw new EvaluationInputException($"{term.Path}: no voxel has label {(term.Labels is null ? "other than 0" : string.Join(" or ", term.Labels))} (values present: {(labels.Length == 0 ? "0 only" : labels)})");
        }

        return Resample(values, term, source, target, low, high);
    }

    /// <summary>Nearest-neighbour through patient space, visiting only the target voxels whose centres can fall in the term's bounding box.</summary>
    private static byte[] Resample(ReadOnlySpan<float> values, MaskTerm term, VolumeGeometry source, VolumeGeometry target, int[] low, int[] high)
    {
        var (from, to) = (new[] { int.MaxValue, int.MaxValue, int.MaxValue }, new[] { int.MinValue, int.MinValue, int.MinValue });
        for (var corner = 0; corner < 8; corner++)
        {
            var voxel = target.PatientToVoxel(source.VoxelToPatient(
                (corner & 1) == 0 ? low[0] - 0.5 : high[0] + 0.5,
                (corner & 2) == 0 ? low[1] - 0.5 : high[1] + 0.5,
                (corner & 4) == 0 ? low[2] - 0.5 : high[2] + 0.5));
            var coordinates = new[] { voxel.X, voxel.Y, voxel.Z };
            for (var axis = 0; axis < 3; axis++)
            {
                from[axis] = Math.Min(from[axis], (int)Math.Floor(coordinates[axis]));
                to[axis] = Math.Max(to[axis], (int)Math.Ceiling(coordinates[axis]));
            }
        }

        var sizes = new[] { target.SizeX, target.SizeY, target.SizeZ };
        for (var axis = 0; axis < 3; axis++)
        {
            (from[axis], to[axis]) = (Math.Max(0, from[axis]), Math.Min(sizes[axis] - 1, to[axis]));
        }

        var inside = new byte[target.VoxelCount];
        for (var k = from[2]; k <= to[2]; k++)
        {
            for (var j = from[1]; j <= to[1]; j++)
            {
                var start = source.PatientToVoxel(target.VoxelToPatient(from[0], j, k));
                var step = source.PatientToVoxel(target.VoxelToPatient(from[0] + 1, j, k)) - start;
                for (var i = from[0]; i <= to[0]; i++)
                {
                    var at = start + (step * (i - from[0]));
                    var (x, y, z) = ((int)Math.Round(at.X), (int)Math.Round(at.Y), (int)Math.Round(at.Z));
                    if (x >= 0 && y >= 0 && z >= 0 && x < source.SizeX && y < source.SizeY && z < source.SizeZ
                        && term.Holds(values[x + (source.SizeX * (y + (source.SizeY * z)))]))
                    {
                        inside[i + ((long)target.SizeX * (j + ((long)target.SizeY * k)))] = 1;
                    }
                }
            }
        }

        return inside;
    }
}
