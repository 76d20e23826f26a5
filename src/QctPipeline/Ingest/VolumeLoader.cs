using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics.Tensors;
using QctPipeline.Dicom;
using QctPipeline.Dicom.Codecs;
using QctPipeline.Domain;

namespace QctPipeline.Ingest;

public readonly record struct HuSummary(float Min, float Max, double Mean);

/// <summary>A series decoded into a volume, with what was done to it on the way.</summary>
public sealed record LoadedSeries(SeriesCandidate Series, CtVolume Volume, HuSummary Summary, IReadOnlyList<string> Warnings);

/// <summary>
/// Reads the chosen series' pixel data (files in parallel), turns it into HU and puts the slices on a regular
/// grid: gantry tilt undone by shifting each slice in-plane, uneven spacing evened by interpolation along the normal.
/// </summary>
public static class VolumeLoader
{
    /// <summary>Air. CT voxels below it (padding, outside the reconstruction circle) carry no density.</summary>
    public const float AirHu = -1024f;

    /// <summary>The lowest values of a CT series in HU lie below this (air is -1000); far above, the series is not in HU.</summary>
    private const double MinAirHu = -800;

    /// <summary>
    /// A CT slab holds air (outside the body, in the lungs or bowel): its 0.5th percentile lies near -1000 HU. Returns
    /// that percentile when it is above <see cref="MinAirHu"/> (a stripped intercept shifts everything by ~1024), from a
    /// sample of every 61st voxel.
    /// </summary>
    private static double? NotHu(float[] voxels)
    {
        const int Stride = 61;
        var sample = new float[((voxels.Length - 1) / Stride) + 1];
        for (var i = 0; i < sample.Length; i++)
        {
            sample[i] = voxels[i * Stride];
        }

        Array.Sort(sample);
        var lowest = sample[(int)(0.005 * (sample.Length - 1))];
        return lowest > MinAirHu ? lowest : null;
    }

    /// <summary>Decodes the series; <paramref name="cancellation"/> is watched between files, so an abandoned decode stops and frees its stack.</summary>
    public static LoadedSeries Load(SeriesCandidate series, IngestOptions options, CancellationToken cancellation = default)
    {
        var geometry = series.Geometry ?? throw new InvalidOperationException($"series {series.Label} is not usable: {series.SkipReason}");
        var isCt = series.Metadata.Modality == "CT";
        var floor = isCt ? AirHu : float.NegativeInfinity;
        var paddingFill = isCt ? AirHu : 0f;
        var claimed = (long)series.Rows * series.Columns * series.Frames.Count;
        if (claimed > options.MaxVoxels || claimed > Array.MaxLength)
        {
            throw new DicomFormatException(string.Create(CultureInfo.InvariantCulture,
                $"series {series.Label} claims {series.Columns}x{series.Rows}x{series.Frames.Count} = {claimed:N0} voxels, more than the {Math.Min(options.MaxVoxels, Array.MaxLength):N0} allowed: not loaded"));
        }

        var sliceLength = series.Rows * series.Columns;
        var stack = GC.AllocateUninitializedArray<float>(series.Frames.Count * sliceLength);
        var warnings = new ConcurrentBag<string>();
        var statistics = SliceStatistics.Empty;
        var gate = new object();

        var slicesByFile = series.Frames.Select((frame, index) => (frame, index)).GroupBy(f => f.frame.FilePath).ToArray();
        Parallel.ForEach(slicesByFile, new ParallelOptions { MaxDegreeOfParallelism = options.MaxParallelism, CancellationToken = cancellation }, file =>
        {
            var fileStatistics = DecodeFile(file.Key, file.ToArray(), stack, sliceLength, floor, paddingFill, warnings);
            lock (gate)
            {
                statistics = statistics.Add(fileStatistics);
            }
        });

        var notes = new List<string>(series.Warnings);
        notes.AddRange(warnings.Distinct().Order(StringComparer.Ordinal));
        if (statistics.PaddingPixels > 0)
        {
            notes.Add($"{statistics.PaddingPixels} pixels hold PixelPaddingValue: set to {paddingFill}{(isCt ? " HU (air)" : string.Empty)}");
        }

        if (statistics.BelowFloor > 0)
        {
            notes.Add($"{statistics.BelowFloor} voxels below {AirHu} HU (padding, outside the reconstruction circle) set to {AirHu} HU");
        }

        if (isCt && series.Frames.Any(f => f.RescaleAssumed) && NotHu(stack) is { } lowest)
        {
            throw new DicomFormatException(string.Create(CultureInfo.InvariantCulture,
                $"series {series.Label} cannot be in HU: its rescale tags are missing and its lowest values (0.5th percentile {lowest:0} after the assumed rescale) are nowhere near air at -1000 HU"));
        }

        if (geometry.IsTilted)
        {
            UndoTilt(stack, series.Columns, series.Rows, geometry, paddingFill);
        }

        var (voxels, sliceCount) = geometry.UnevenSpacing
            ? ResampleEvenly(stack, sliceLength, geometry)
            : (stack, series.Frames.Count);
        var volumeGeometry = new VolumeGeometry(
            series.Columns,
            series.Rows,
            sliceCount,
            geometry.Origin,
            new Vector3(geometry.ColumnSpacing, geometry.RowSpacing, geometry.SliceSpacing),
            geometry.RowDirection,
            geometry.ColumnDirection,
            geometry.Normal);
        var summary = geometry.IsTilted || geometry.UnevenSpacing
            ? Summarize(voxels)
            : new HuSummary(statistics.Min, statistics.Max, statistics.Sum / voxels.Length);
        return new LoadedSeries(series, new CtVolume(volumeGeometry, voxels), summary, notes);
    }

    private static SliceStatistics DecodeFile(string path, (ImageFrame Frame, int Index)[] slices, float[] stack, int sliceLength, float floor, float paddingFill, ConcurrentBag<string> warnings)
    {
        byte[] buffer;
        int length;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
            var fileLength = RandomAccess.GetLength(handle);
            if (fileLength > int.MaxValue)
            {
                throw new DicomFormatException($"{path}: {fileLength} bytes is too large for one image file");
            }

            length = (int)fileLength;
            buffer = ArrayPool<byte>.Shared.Rent(length);
            var read = 0;
            while (read < length)
            {
                var got = RandomAccess.Read(handle, buffer.AsSpan(read, length - read), read);
                read += got > 0 ? got : throw new DicomFormatException($"{path}: file shrank while being read");
            }
        }
        catch (IOException ex)
        {
            throw new DicomFormatException($"{path}: cannot be read: {ex.Message}");
        }

        try
        {
            var file = DicomFile.Parse(path, buffer.AsMemory(0, length));
            var format = slices[0].Frame.Pixels!;
            var frames = FrameBytes(file, format, slices[0].Frame.FramesInFile, warnings);
            var statistics = SliceStatistics.Empty;
            foreach (var (frame, index) in slices)
            {
                statistics = statistics.Add(PixelDecoder.Decode(
                    frames[frame.FrameIndex].Span, format, file.TransferSyntax.BigEndian, frame.RescaleSlope, frame.RescaleIntercept, floor, paddingFill, stack.AsSpan(index * sliceLength, sliceLength)));
            }

            return statistics;
        }
        catch (DicomFormatException ex) when (!ex.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new DicomFormatException($"{path}: {ex.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static HuSummary Summarize(float[] voxels)
    {
        double sum = 0;
        const int chunk = 1 << 16;
        for (var start = 0; start < voxels.Length; start += chunk)
        {
            sum += TensorPrimitives.Sum(voxels.AsSpan(start, Math.Min(chunk, voxels.Length - start)));
        }

        return new HuSummary(TensorPrimitives.Min(voxels), TensorPrimitives.Max(voxels), voxels.Length == 0 ? 0 : sum / voxels.Length);
    }

    /// <summary>Each frame's stored values, native layout, little endian unless the syntax is big endian.</summary>
    private static ReadOnlyMemory<byte>[] FrameBytes(DicomFile file, PixelFormat format, int frameCount, ConcurrentBag<string> warnings)
    {
        var pixelData = file.Dataset.Find(DicomTag.PixelData) ?? throw new DicomFormatException("no pixel data");
        var frameLength = format.FrameLength;
        var syntax = file.TransferSyntax;
        switch (syntax.Pixels)
        {
            case PixelEncoding.Native:
                var needed = (long)frameLength * frameCount;
                if (pixelData.Value.Length < needed)
                {
                    throw new DicomFormatException($"pixel data holds {pixelData.Value.Length} bytes; {format.Rows}x{format.Columns}x{frameCount} frames at {format.BitsAllocated} bits need {needed}");
                }

                if (pixelData.Value.Length > needed + 1)
                {
                    warnings.Add($"{file.Path}: pixel data is {pixelData.Value.Length - needed} bytes longer than the image; the excess is ignored");
                }

                return Enumerable.Range(0, frameCount).Select(f => pixelData.Value.Slice(f * frameLength, frameLength)).ToArray();
            case PixelEncoding.Rle:
                return EncapsulatedFrames.Split(pixelData.Fragments, frameCount).Select(encoded =>
                {
                    var decoded = new byte[frameLength];
                    RleDecoder.DecodeFrame(encoded.Span, format.Rows, format.Columns, format.SamplesPerPixel, format.BitsAllocated, decoded);
                    return (ReadOnlyMemory<byte>)decoded;
                }).ToArray();
            case PixelEncoding.Unsupported:
                throw new DicomFormatException($"pixel data in {syntax.Name} cannot be decoded");
            default:
                var all = new byte[(long)frameLength * frameCount];
                GdcmDecoder.DecodeFile(file.Path, all);
                return Enumerable.Range(0, frameCount).Select(f => new ReadOnlyMemory<byte>(all, f * frameLength, frameLength)).ToArray();
        }
    }

    /// <summary>
    /// Slice k was acquired displaced in-plane by its shear offset; sampling it at (i − a, j − b) puts each voxel
    /// where an untilted gantry would have. Bilinear; outside the acquired slice is filled.
    /// </summary>
    private static void UndoTilt(float[] stack, int width, int height, StackGeometry geometry, float fill)
    {
        var sliceLength = width * height;
        var shifted = new float[sliceLength];
        for (var k = 0; k < geometry.InPlaneShifts.Count; k++)
        {
            var shift = geometry.InPlaneShifts[k];
            var di = shift.Dot(geometry.RowDirection) / geometry.ColumnSpacing;
            var dj = shift.Dot(geometry.ColumnDirection) / geometry.RowSpacing;
            var source = stack.AsSpan(k * sliceLength, sliceLength);
            for (var j = 0; j < height; j++)
            {
                var sy = j - dj;
                var y0 = (int)Math.Floor(sy);
                var fy = (float)(sy - y0);
                for (var i = 0; i < width; i++)
                {
                    var sx = i - di;
                    var x0 = (int)Math.Floor(sx);
                    var fx = (float)(sx - x0);
                    shifted[i + (j * width)] = x0 < 0 || y0 < 0 || x0 + 1 >= width || y0 + 1 >= height
                        ? fill
                        : ((1 - fy) * (((1 - fx) * source[x0 + (y0 * width)]) + (fx * source[x0 + 1 + (y0 * width)]))) +
                          (fy * (((1 - fx) * source[x0 + ((y0 + 1) * width)]) + (fx * source[x0 + 1 + ((y0 + 1) * width)])));
                }
            }

            shifted.CopyTo(source);
        }
    }

    /// <summary>Linear interpolation along the normal onto slices every <see cref="StackGeometry.SliceSpacing"/> mm.</summary>
    private static (float[] Voxels, int SliceCount) ResampleEvenly(float[] stack, int sliceLength, StackGeometry geometry)
    {
        var positions = geometry.SlicePositions;
        var count = (int)Math.Round(geometry.Coverage / geometry.SliceSpacing) + 1;
        var output = new float[(long)count * sliceLength];
        var lower = 0;
        for (var m = 0; m < count; m++)
        {
            var z = Math.Min(m * geometry.SliceSpacing, positions[^1]);
            while (lower + 1 < positions.Count - 1 && positions[lower + 1] <= z)
            {
                lower++;
            }

            var upper = Math.Min(lower + 1, positions.Count - 1);
            var weight = upper == lower ? 0 : (float)Math.Clamp((z - positions[lower]) / (positions[upper] - positions[lower]), 0, 1);
            TensorPrimitives.Lerp(
                stack.AsSpan(lower * sliceLength, sliceLength),
                stack.AsSpan(upper * sliceLength, sliceLength),
                weight,
                output.AsSpan(m * sliceLength, sliceLength));
        }

        return (output, count);
    }
}
