using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace QctPipeline.Nifti;

/// <summary>
/// Reads single-file NIfTI-1 images (.nii, or gzip-compressed .nii.gz, recognised by content) of int8, uint8,
/// int16, uint16, int32, float32 or float64 voxels, in either byte order (told by sizeof_hdr). Anything else
/// throws <see cref="NiftiFormatException"/> naming the field or byte range at fault.
/// </summary>
public static class NiftiReader
{
    private const int ChunkBytes = 1 << 20;

    public static NiftiImage Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        if (!StartsWithGzipMagic(file))
        {
            return Read(file, "the file");
        }

        try
        {
            using var decompressed = new GZipStream(file, CompressionMode.Decompress);
            return Read(decompressed, "the decompressed gzip data");
        }
        catch (InvalidDataException exception)
        {
            throw new NiftiFormatException($"the gzip stream is corrupt: {exception.Message}");
        }
    }

    private static bool StartsWithGzipMagic(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        var read = file.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        file.Position = 0;
        return read == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
    }

    private static NiftiImage Read(Stream input, string source)
    {
        var headerBytes = new byte[NiftiHeaderLayout.HeaderSize];
        var headerRead = input.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false);
        if (headerRead < headerBytes.Length)
        {
            throw new NiftiFormatException($"{source} ends after {headerRead} bytes, inside the {NiftiHeaderLayout.HeaderSize}-byte header");
        }

        var header = ParseHeader(headerBytes);
        SkipTo(input, source, NiftiHeaderLayout.HeaderSize, header.VoxelOffset);
        var voxels = ReadVoxels(input, source, header);
        ApplyScaling(voxels, header.ScaleSlope, header.ScaleIntercept);
        return header with { Voxels = voxels };
    }

    private static NiftiImage ParseHeader(byte[] bytes)
    {
        var fields = new HeaderFields(bytes, BigEndian: false);
        var sizeOfHeader = fields.Int32(NiftiHeaderLayout.SizeOfHeader);
        if (sizeOfHeader != NiftiHeaderLayout.HeaderSize)
        {
            fields = fields with { BigEndian = true };
            if (fields.Int32(NiftiHeaderLayout.SizeOfHeader) != NiftiHeaderLayout.HeaderSize)
            {
                throw new NiftiFormatException(
                    $"sizeof_hdr is {sizeOfHeader} (byte-swapped {fields.Int32(NiftiHeaderLayout.SizeOfHeader)}), not 348: not a NIfTI-1 header (NIfTI-2 has 540)");
            }
        }

        var magic = bytes.AsSpan(NiftiHeaderLayout.Magic, 4);
        if (magic.SequenceEqual(NiftiHeaderLayout.PairedFileMagic))
        {
            throw new NiftiFormatException("magic 'ni1' marks the header of a .hdr/.img pair; only single-file .nii images are supported");
        }

        if (!magic.SequenceEqual(NiftiHeaderLayout.SingleFileMagic))
        {
            throw new NiftiFormatException($"magic is {Convert.ToHexString(magic)}, not 'n+1': not a single-file NIfTI-1 image");
        }

        var dimensions = ReadDimensions(fields);
        var dataType = ReadDataType(fields);
        var pixelDimensions = Enumerable.Range(0, 8).Select(index => fields.Single(NiftiHeaderLayout.PixDim + 4 * index)).ToArray();
        var quaternionFields = Enumerable.Range(0, 6).Select(index => (double)fields.Single(NiftiHeaderLayout.QuaternB + 4 * index)).ToArray();
        var qform = new NiftiQuaternion(
            quaternionFields[0], quaternionFields[1], quaternionFields[2], quaternionFields[3], quaternionFields[4], quaternionFields[5],
            pixelDimensions[0] < 0 ? -1 : 1);
        var sform = new double[3, 4];
        for (var row = 0; row < 3; row++)
        {
            for (var column = 0; column < 4; column++)
            {
                sform[row, column] = fields.Single(NiftiHeaderLayout.SrowX + 16 * row + 4 * column);
            }
        }

        return new NiftiImage
        {
            Dimensions = dimensions,
            DataType = dataType,
            PixelDimensions = pixelDimensions,
            BigEndian = fields.BigEndian,
            VoxelOffset = ReadVoxelOffset(fields),
            ScaleSlope = fields.Single(NiftiHeaderLayout.SclSlope),
            ScaleIntercept = fields.Single(NiftiHeaderLayout.SclInter),
            XyztUnits = bytes[NiftiHeaderLayout.XyztUnits],
            Description = Encoding.Latin1.GetString(bytes, NiftiHeaderLayout.Descrip, NiftiHeaderLayout.DescripLength).Split('\0')[0].Trim(),
            QformCode = fields.Int16(NiftiHeaderLayout.QformCode),
            Qform = qform,
            QformMatrix = qform.ToAffine(pixelDimensions[1], pixelDimensions[2], pixelDimensions[3]),
            SformCode = fields.Int16(NiftiHeaderLayout.SformCode),
            Sform = new NiftiAffine(sform),
            Voxels = ReadOnlyMemory<float>.Empty,
        };
    }

    private static int[] ReadDimensions(HeaderFields fields)
    {
        var count = fields.Int16(NiftiHeaderLayout.Dim);
        if (count is < 1 or > 7)
        {
            throw new NiftiFormatException($"dim[0] is {count}; the number of dimensions must be 1..7");
        }

        var dimensions = new int[count];
        var voxelCount = 1L;
        for (var index = 0; index < count; index++)
        {
            dimensions[index] = fields.Int16(NiftiHeaderLayout.Dim + 2 * (index + 1));
            if (dimensions[index] < 1)
            {
                throw new NiftiFormatException($"dim[{index + 1}] is {dimensions[index]}; sizes must be at least 1");
            }

            voxelCount *= dimensions[index];
        }

        if (voxelCount > Array.MaxLength)
        {
            throw new NiftiFormatException($"dim {string.Join('x', dimensions)} holds {voxelCount} voxels, more than one array can");
        }

        return dimensions;
    }

    private static NiftiDataType ReadDataType(HeaderFields fields)
    {
        var code = fields.Int16(NiftiHeaderLayout.DataType);
        if (!NiftiDataTypes.IsKnown(code))
        {
            throw new NiftiFormatException($"datatype {code} is not supported (int8, uint8, int16, uint16, int32, float32 and float64 are)");
        }

        var dataType = (NiftiDataType)code;
        var bitsPerVoxel = fields.Int16(NiftiHeaderLayout.BitPix);
        if (bitsPerVoxel != 8 * NiftiDataTypes.BytesPerVoxel(dataType))
        {
            throw new NiftiFormatException($"bitpix is {bitsPerVoxel} but datatype {dataType} has {8 * NiftiDataTypes.BytesPerVoxel(dataType)} bits");
        }

        return dataType;
    }

    private static int ReadVoxelOffset(HeaderFields fields)
    {
        var offset = fields.Single(NiftiHeaderLayout.VoxOffset);
        if (!(offset >= NiftiHeaderLayout.SingleFileVoxelOffset) || offset != MathF.Floor(offset) || offset > int.MaxValue)
        {
            throw new NiftiFormatException(
                $"vox_offset is {offset.ToString(CultureInfo.InvariantCulture)}; a single-file image needs a whole number of at least {NiftiHeaderLayout.SingleFileVoxelOffset}");
        }

        return (int)offset;
    }

    /// <summary>Reads past the extension bytes between the header and the voxels.</summary>
    private static void SkipTo(Stream input, string source, int position, int target)
    {
        Span<byte> discard = stackalloc byte[512];
        while (position < target)
        {
            var wanted = Math.Min(discard.Length, target - position);
            var read = input.ReadAtLeast(discard[..wanted], wanted, throwOnEndOfStream: false);
            position += read;
            if (read < wanted)
            {
                throw new NiftiFormatException($"{source} ends at byte {position}, before vox_offset {target}");
            }
        }
    }

    private static float[] ReadVoxels(Stream input, string source, NiftiImage header)
    {
        var voxelCount = (int)header.Dimensions.Aggregate(1L, (product, size) => product * size);
        var bytesPerVoxel = NiftiDataTypes.BytesPerVoxel(header.DataType);
        var voxels = new float[voxelCount];
        var buffer = new byte[(int)Math.Min((long)voxelCount * bytesPerVoxel, ChunkBytes)];
        var done = 0;
        while (done < voxelCount)
        {
            var chunkVoxels = Math.Min(voxelCount - done, buffer.Length / bytesPerVoxel);
            var chunk = buffer.AsSpan(0, chunkVoxels * bytesPerVoxel);
            var read = input.ReadAtLeast(chunk, chunk.Length, throwOnEndOfStream: false);
            if (read < chunk.Length)
            {
                throw new NiftiFormatException(
                    $"{source} ends inside the voxel data, after {(long)done * bytesPerVoxel + read} of {(long)voxelCount * bytesPerVoxel} bytes");
            }

            Decode(chunk, header.DataType, header.BigEndian, voxels.AsSpan(done, chunkVoxels));
            done += chunkVoxels;
        }

        return voxels;
    }

    private static void Decode(ReadOnlySpan<byte> bytes, NiftiDataType dataType, bool bigEndian, Span<float> destination)
    {
        for (var index = 0; index < destination.Length; index++)
        {
            destination[index] = dataType switch
            {
                NiftiDataType.UInt8 => bytes[index],
                NiftiDataType.Int8 => (sbyte)bytes[index],
                NiftiDataType.Int16 => bigEndian
                    ? BinaryPrimitives.ReadInt16BigEndian(bytes[(2 * index)..])
                    : BinaryPrimitives.ReadInt16LittleEndian(bytes[(2 * index)..]),
                NiftiDataType.UInt16 => bigEndian
                    ? BinaryPrimitives.ReadUInt16BigEndian(bytes[(2 * index)..])
                    : BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * index)..]),
                NiftiDataType.Int32 => bigEndian
                    ? BinaryPrimitives.ReadInt32BigEndian(bytes[(4 * index)..])
                    : BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * index)..]),
                NiftiDataType.Float32 => bigEndian
                    ? BinaryPrimitives.ReadSingleBigEndian(bytes[(4 * index)..])
                    : BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * index)..]),
                NiftiDataType.Float64 => (float)(bigEndian
                    ? BinaryPrimitives.ReadDoubleBigEndian(bytes[(8 * index)..])
                    : BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * index)..])),
                _ => throw new UnreachableException($"datatype {dataType} passed validation but has no decoder"),
            };
        }
    }

    /// <summary>NIfTI-1: a scl_slope of 0 (or not a number) means the stored values are the values.</summary>
    private static void ApplyScaling(Span<float> voxels, float slope, float intercept)
    {
        if (!float.IsFinite(slope) || slope == 0)
        {
            return;
        }

        var offset = float.IsFinite(intercept) ? intercept : 0;
        if (slope == 1 && offset == 0)
        {
            return;
        }

        foreach (ref var voxel in voxels)
        {
            voxel = (float)(voxel * (double)slope + offset);
        }
    }

    private readonly record struct HeaderFields(byte[] Bytes, bool BigEndian)
    {
        public short Int16(int offset) => BigEndian
            ? BinaryPrimitives.ReadInt16BigEndian(Bytes.AsSpan(offset))
            : BinaryPrimitives.ReadInt16LittleEndian(Bytes.AsSpan(offset));

        public int Int32(int offset) => BigEndian
            ? BinaryPrimitives.ReadInt32BigEndian(Bytes.AsSpan(offset))
            : BinaryPrimitives.ReadInt32LittleEndian(Bytes.AsSpan(offset));

        public float Single(int offset) => BigEndian
            ? BinaryPrimitives.ReadSingleBigEndian(Bytes.AsSpan(offset))
            : BinaryPrimitives.ReadSingleLittleEndian(Bytes.AsSpan(offset));
    }
}
