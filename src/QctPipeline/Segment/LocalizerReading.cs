using QctPipeline.Anatomy;
using QctPipeline.Domain;
using QctPipeline.Segment.Onnx;

namespace QctPipeline.Segment;

/// <summary>
/// What the localizer said, on its canonical grid (x → L, y → P, z → S, padding cropped off): the most probable class
/// per voxel and that class's probability, and the vertebral-body and rib channels thresholded at 0.5.
/// </summary>
public sealed record LocalizerMaps(VolumeGeometry Geometry, byte[] Classes, float[] ClassProbability, byte[] Body, byte[]? Ribs);

/// <summary>A vertebra as the localizer names it: its largest plausible component of one class, or a vertebra of the column it labels.</summary>
/// <param name="CentroidLps">Centroid of the vertebral body.</param>
/// <param name="VoxelCount">Voxels of the whole vertebra on the localizer grid (0 when the name comes from the column).</param>
/// <param name="CutByEdge">The body is cut by the first or last slice of the scan.</param>
public sealed record LevelFound(string Name, int ClassIndex, Vector3 CentroidLps, long VoxelCount, long BodyVoxelCount, double MeanProbability, bool CutByEdge);

/// <summary>The localizer's opinion of one vertebra of the column: the class most of its body voxels carry, that share, and the mean probability.</summary>
public sealed record LocalizerLabel(int ClassIndex, string Name, double Share, double MeanProbability);

/// <summary>Reads the localizer's output: its class maps, its level components, and its labels for the vertebrae the image found.</summary>
public static class LocalizerReading
{
    /// <summary>The maps from the localizer's logits on <paramref name="geometry"/> (the unpadded canonical grid).</summary>
    public static LocalizerMaps Read(FloatTensor logits, VolumeGeometry geometry, (int X, int Y, int Z) padded, LocalizerSpec spec)
    {
        if (logits.Shape.Count != 5 || logits.Shape[1] < spec.ChannelCount || logits.Shape[2] != padded.Z || logits.Shape[3] != padded.Y || logits.Shape[4] != padded.X)
        {
            throw new InvalidOperationException($"the localizer's output is {logits}, expected [1, {spec.ChannelCount}, {padded.Z}, {padded.Y}, {padded.X}]");
        }

        var count = (int)geometry.VoxelCount;
        var classes = new byte[count];
        var probability = new float[count];
        var body = new byte[count];
        var ribs = spec.RibChannel is not null ? new byte[count] : null;
        var data = logits.Data;
        var channelStride = padded.X * padded.Y * padded.Z;
        Parallel.For(0, geometry.SizeZ, z =>
        {
            var all = data.Span;
            for (var y = 0; y < geometry.SizeY; y++)
            {
                for (var x = 0; x < geometry.SizeX; x++)
                {
                    var at = (((z * padded.Y) + y) * padded.X) + x;
                    var best = 0;
                    var max = all[at];
                    for (var c = 1; c < spec.ClassCount; c++)
                    {
                        if (all[at + (c * channelStride)] > max)
                        {
                            (best, max) = (c, all[at + (c * channelStride)]);
                        }
                    }

                    double sum = 0;
                    for (var c = 0; c < spec.ClassCount; c++)
                    {
                        sum += Math.Exp(all[at + (c * channelStride)] - max);
                    }

                    var index = x + (geometry.SizeX * (y + (geometry.SizeY * z)));
                    classes[index] = (byte)best;
                    probability[index] = (float)(1 / sum);
                    body[index] = all[at + (spec.BodyChannel * channelStride)] > 0 ? (byte)1 : (byte)0;
                    if (ribs is not null)
                    {
                        ribs[index] = all[at + (spec.RibChannel!.Value * channelStride)] > 0 ? (byte)1 : (byte)0;
                    }
                }
            }
        });
        return new LocalizerMaps(geometry, classes, probability, body, ribs);
    }

    /// <summary>
    /// Each level class's largest component of plausible size (the localizer's own levels, as it sees them: on real CT
    /// some lie off the spine), head first.
    /// </summary>
    public static List<LevelFound> Components(LocalizerMaps maps, LocalizerSpec spec, SegmentOptions options)
    {
        var geometry = maps.Geometry;
        var voxelMl = geometry.Spacing.X * geometry.Spacing.Y * geometry.Spacing.Z / 1000;
        var (labels, components) = ConnectedComponents.Label(maps.Classes, geometry.SizeX, geometry.SizeY, geometry.SizeZ);
        var levels = new List<LevelFound>();
        for (var classIndex = 1; classIndex < spec.ClassCount; classIndex++)
        {
            var name = spec.Labels[classIndex].Name;
            var plausible = components.FirstOrDefault(c => c.Value == classIndex
                && c.VoxelCount * voxelMl >= options.MinVertebraMl && c.VoxelCount * voxelMl <= options.MaxVertebraMl);
            if (!IsGroup(name) && plausible is not null)
            {
                levels.Add(Describe(maps, labels, plausible, name));
            }
        }

        return [.. levels.OrderByDescending(level => level.CentroidLps.Z)];
    }

    /// <summary>
    /// The class the localizer gives most of the voxels around a vertebra's body (within 8 mm of its centre across the
    /// spine, over the middle 60 % of its height), ignoring background; null when it marks none there.
    /// </summary>
    public static LocalizerLabel? LabelOf(LocalizerMaps maps, LocalizerSpec spec, ColumnVertebra vertebra)
    {
        var g = maps.Geometry;
        var centre = g.PatientToVoxel(vertebra.Centre);
        var halfHeight = 0.3 * vertebra.PitchMm / g.Spacing.Z;
        var across = 8 / g.Spacing.X;
        var votes = new int[spec.ClassCount];
        var probabilities = new double[spec.ClassCount];
        for (var z = (int)Math.Round(centre.Z - halfHeight); z <= (int)Math.Round(centre.Z + halfHeight); z++)
        {
            for (var y = (int)Math.Round(centre.Y - across); y <= (int)Math.Round(centre.Y + across); y++)
            {
                for (var x = (int)Math.Round(centre.X - across); x <= (int)Math.Round(centre.X + across); x++)
                {
                    if (x < 0 || y < 0 || z < 0 || x >= g.SizeX || y >= g.SizeY || z >= g.SizeZ)
                    {
                        continue;
                    }

                    var index = x + (g.SizeX * (y + (g.SizeY * z)));
                    var c = maps.Classes[index];
                    if (c != 0 && !IsGroup(spec.Labels[c].Name))
                    {
                        votes[c]++;
                        probabilities[c] += maps.ClassProbability[index];
                    }
                }
            }
        }

        var total = votes.Sum();
        if (total == 0)
        {
            return null;
        }

        var best = Array.IndexOf(votes, votes.Max());
        return new LocalizerLabel(best, spec.Labels[best].Name, (double)votes[best] / total, probabilities[best] / votes[best]);
    }

    /// <summary>
    /// Whether the rib channel marks a rib touching the vertebra's class voxels beside its body (15–45 mm beside its
    /// centre, over the middle 60 % of its height), on each side (+1 the patient's left): a rib articulating with it.
    /// </summary>
    public static (bool Left, bool Right) RibContact(LocalizerMaps maps, ColumnVertebra vertebra)
    {
        if (maps.Ribs is not { } ribs)
        {
            return (false, false);
        }

        var g = maps.Geometry;
        var centre = g.PatientToVoxel(vertebra.Centre);
        var halfHeight = 0.3 * vertebra.PitchMm / g.Spacing.Z;
        bool Side(int sign)
        {
            for (var z = (int)Math.Round(centre.Z - halfHeight); z <= (int)Math.Round(centre.Z + halfHeight); z++)
            {
                for (var y = (int)Math.Round(centre.Y - (15 / g.Spacing.Y)); y <= (int)Math.Round(centre.Y + (40 / g.Spacing.Y)); y++)
                {
                    for (var d = 15.0; d <= 45; d += g.Spacing.X)
                    {
                        var x = (int)Math.Round(centre.X + (sign * d / g.Spacing.X));
                        if (x < 1 || y < 1 || z < 0 || x >= g.SizeX - 1 || y >= g.SizeY - 1 || z >= g.SizeZ)
                        {
                            continue;
                        }

                        var index = x + (g.SizeX * (y + (g.SizeY * z)));
                        if (ribs[index] != 0 && (maps.Classes[index - 1] != 0 || maps.Classes[index + 1] != 0
                            || maps.Classes[index - g.SizeX] != 0 || maps.Classes[index + g.SizeX] != 0))
                        {
                            return true;
                        }
                    }
                }
            }

            return false;
        }

        return (Side(+1), Side(-1));
    }

    /// <summary>A class standing for several vertebrae (e.g. "T1-T8") is not a level.</summary>
    internal static bool IsGroup(string name) => name.Contains('-', StringComparison.Ordinal) || name == "background";

    private static LevelFound Describe(LocalizerMaps maps, int[] labels, Component plausible, string name)
    {
        var geometry = maps.Geometry;
        double sumX = 0, sumY = 0, sumZ = 0, probability = 0;
        long bodyCount = 0;
        var touchesEnd = false;
        var sliceLength = geometry.SliceLength;
        for (var index = 0; index < labels.Length; index++)
        {
            if (labels[index] != plausible.Label)
            {
                continue;
            }

            probability += maps.ClassProbability[index];
            if (maps.Body[index] == 0)
            {
                continue;
            }

            var z = index / sliceLength;
            var y = (index - (z * sliceLength)) / geometry.SizeX;
            sumX += index - (z * sliceLength) - (y * geometry.SizeX);
            sumY += y;
            sumZ += z;
            bodyCount++;
            touchesEnd |= z == 0 || z == geometry.SizeZ - 1;
        }

        var centroid = bodyCount > 0
            ? geometry.VoxelToPatient(sumX / bodyCount, sumY / bodyCount, sumZ / bodyCount)
            : geometry.VoxelToPatient(plausible.MeanX, plausible.MeanY, plausible.MeanZ);
        var cut = bodyCount > 0 ? touchesEnd : plausible.MinZ == 0 || plausible.MaxZ == geometry.SizeZ - 1;
        return new LevelFound(name, plausible.Value, centroid, plausible.VoxelCount, bodyCount, probability / plausible.VoxelCount, cut);
    }
}
