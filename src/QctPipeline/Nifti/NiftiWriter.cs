using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using QctPipeline.Domain;

namespace QctPipeline.Nifti;

/// <summary>
/// Writes a <see cref="CtVolume"/> (or a uint8 label map on its grid) as a single-file NIfTI-1 image: .nii, or
/// gzip-compressed when the path ends in .gz. Voxels are laid out as <see cref="NiftiGrid"/> describes (dcm2niix's
/// layout: rows reversed, slices along row × column) and stored as <see cref="NiftiWriteOptions.DataType"/>: int16
/// rounds and clamps HU, float32 keeps them. sform and qform are both written with code 1 (scanner anatomical) in
/// RAS; units are mm. The file appears atomically: it is written under a temporary name and renamed when complete.
/// </summary>
public static class NiftiWriter
{
    private const string Description = "QctPipeline";

    public static void Write(CtVolume volume, string path, NiftiWriteOptions? options = null)
    {
        var dataType = (options ?? NiftiWriteOptions.Default).DataType;
        WriteFile(volume.Geometry, path, dataType, (grid, output) => WriteVoxels(volume.Voxels, grid, dataType, output));
    }

    /// <summary>A density map as float32 (mg/cm³ HA), on its own grid.</summary>
    public static void Write(DensityMap map, string path) =>
        WriteFile(map.Geometry, path, NiftiDataType.Float32, (grid, output) => WriteVoxels(map.MgPerCm3, grid, NiftiDataType.Float32, output));

    /// <summary>
    /// Writes a label map (one code per voxel, in <see cref="CtVolume"/>'s voxel order on <paramref name="geometry"/>)
    /// as uint8: codes are stored exactly, in half the bytes of int16 and without a float copy of the volume.
    /// </summary>
    public static void WriteLabels(VolumeGeometry geometry, byte[] labels, string path)
    {
        if (labels.LongLength != geometry.VoxelCount)
        {
            throw new ArgumentException($"{labels.LongLength} labels for a grid of {geometry.VoxelCount} voxels.", nameof(labels));
        }

        WriteFile(geometry, path, NiftiDataType.UInt8, (grid, output) => WriteLabelVoxels(labels, grid, output));
    }

    private static void WriteFile(VolumeGeometry geometry, string path, NiftiDataType dataType, Action<NiftiGrid, Stream> writeVoxels)
    {
        if (Math.Max(geometry.SizeX, Math.Max(geometry.SizeY, geometry.SizeZ)) > short.MaxValue)
        {
            throw new ArgumentException($"NIfTI-1 sizes are at most {short.MaxValue}; the volume is {geometry.SizeX}x{geometry.SizeY}x{geometry.SizeZ}.", nameof(geometry));
        }

        var grid = NiftiGrid.For(geometry);
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            using (var output = fullPath.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
                       ? new GZipStream(file, CompressionLevel.Optimal)
                       : (Stream)file)
            {
                output.Write(Header(geometry, grid, dataType));
                writeVoxels(grid, output);
            }

            File.Move(temporary, fullPath, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>The 348-byte header plus the 4-byte extension flag (all zero: no extensions), little endian.</summary>
    private static byte[] Header(VolumeGeometry geometry, NiftiGrid grid, NiftiDataType dataType)
    {
        var header = new byte[NiftiHeaderLayout.SingleFileVoxelOffset];
        var span = header.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(span[NiftiHeaderLayout.SizeOfHeader..], NiftiHeaderLayout.HeaderSize);
        header[NiftiHeaderLayout.Regular] = (byte)'r';

        short[] dimensions = [3, (short)grid.SizeX, (short)grid.SizeY, (short)grid.SizeZ, 1, 1, 1, 1];
        for (var index = 0; index < dimensions.Length; index++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(span[(NiftiHeaderLayout.Dim + 2 * index)..], dimensions[index]);
        }

        BinaryPrimitives.WriteInt16LittleEndian(span[NiftiHeaderLayout.DataType..], (short)dataType);
        BinaryPrimitives.WriteInt16LittleEndian(span[NiftiHeaderLayout.BitPix..], (short)(8 * NiftiDataTypes.BytesPerVoxel(dataType)));

        var quaternion = grid.Quaternion;
        float[] pixelDimensions =
        [
            (float)quaternion.Qfac, (float)geometry.Spacing.X, (float)geometry.Spacing.Y, (float)geometry.Spacing.Z, 1, 1, 1, 1,
        ];
        for (var index = 0; index < pixelDimensions.Length; index++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(span[(NiftiHeaderLayout.PixDim + 4 * index)..], pixelDimensions[index]);
        }

        BinaryPrimitives.WriteSingleLittleEndian(span[NiftiHeaderLayout.VoxOffset..], NiftiHeaderLayout.SingleFileVoxelOffset);
        BinaryPrimitives.WriteSingleLittleEndian(span[NiftiHeaderLayout.SclSlope..], 1);
        BinaryPrimitives.WriteSingleLittleEndian(span[NiftiHeaderLayout.SclInter..], 0);
        header[NiftiHeaderLayout.XyztUnits] = NiftiHeaderLayout.Millimetres;
        Encoding.ASCII.GetBytes(Description, span.Slice(NiftiHeaderLayout.Descrip, NiftiHeaderLayout.DescripLength));

        BinaryPrimitives.WriteInt16LittleEndian(span[NiftiHeaderLayout.QformCode..], NiftiHeaderLayout.ScannerAnatomical);
        BinaryPrimitives.WriteInt16LittleEndian(span[NiftiHeaderLayout.SformCode..], NiftiHeaderLayout.ScannerAnatomical);
        double[] quaternionFields = [quaternion.B, quaternion.C, quaternion.D, quaternion.OffsetX, quaternion.OffsetY, quaternion.OffsetZ];
        for (var index = 0; index < quaternionFields.Length; index++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(span[(NiftiHeaderLayout.QuaternB + 4 * index)..], (float)quaternionFields[index]);
        }

        for (var row = 0; row < 3; row++)
        {
            for (var column = 0; column < 4; column++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(span[(NiftiHeaderLayout.SrowX + 16 * row + 4 * column)..], (float)grid.Affine[row, column]);
            }
        }

        NiftiHeaderLayout.SingleFileMagic.CopyTo(span[NiftiHeaderLayout.Magic..]);
        return header;
    }

    private static void WriteVoxels(ReadOnlySpan<float> voxels, NiftiGrid grid, NiftiDataType dataType, Stream output)
    {
        var rowLength = grid.SizeX;
        var rowBytes = new byte[rowLength * NiftiDataTypes.BytesPerVoxel(dataType)];
        for (var fileSlice = 0; fileSlice < grid.SizeZ; fileSlice++)
        {
            var k = grid.FileSlice(fileSlice);
            for (var fileRow = 0; fileRow < grid.SizeY; fileRow++)
            {
                var j = grid.FileRow(fileRow);
                var row = voxels.Slice(rowLength * (j + grid.SizeY * k), rowLength);
                if (dataType == NiftiDataType.Int16)
                {
                    EncodeInt16(row, rowBytes);
                }
                else
                {
                    EncodeFloat32(row, rowBytes);
                }

                output.Write(rowBytes);
            }
        }
    }

    private static void WriteLabelVoxels(byte[] labels, NiftiGrid grid, Stream output)
    {
        var rowLength = grid.SizeX;
        for (var fileSlice = 0; fileSlice < grid.SizeZ; fileSlice++)
        {
            var k = grid.FileSlice(fileSlice);
            for (var fileRow = 0; fileRow < grid.SizeY; fileRow++)
            {
                var j = grid.FileRow(fileRow);
                output.Write(labels, rowLength * (j + grid.SizeY * k), rowLength);
            }
        }
    }

    private static void EncodeInt16(ReadOnlySpan<float> values, Span<byte> destination)
    {
        for (var index = 0; index < values.Length; index++)
        {
            var value = values[index];
            var stored = float.IsNaN(value)
                ? (short)0
                : (short)Math.Clamp(MathF.Round(value, MidpointRounding.AwayFromZero), short.MinValue, short.MaxValue);
            BinaryPrimitives.WriteInt16LittleEndian(destination[(2 * index)..], stored);
        }
    }

    private static void EncodeFloat32(ReadOnlySpan<float> values, Span<byte> destination)
    {
        for (var index = 0; index < values.Length; index++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(destination[(4 * index)..], values[index]);
        }
    }
}
