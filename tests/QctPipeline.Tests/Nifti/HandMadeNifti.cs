using System.Buffers.Binary;
using QctPipeline.Nifti;

namespace QctPipeline.Tests.Nifti;

/// <summary>Minimal NIfTI-1 files built byte by byte, for reader cases our writer never produces.</summary>
internal sealed record HandMadeNifti
{
    public NiftiDataType DataType { get; init; } = NiftiDataType.Int16;
    public short[] Dimensions { get; init; } = [3, 2, 2, 1, 1, 1, 1, 1];
    public double[] Values { get; init; } = [1, 2, 3, 4];
    public bool BigEndian { get; init; }
    public float ScaleSlope { get; init; } = 1;
    public float ScaleIntercept { get; init; }
    public int ExtensionBytes { get; init; }
    public string Magic { get; init; } = "n+1";

    public byte[] ToBytes()
    {
        var bytesPerVoxel = DataType switch
        {
            NiftiDataType.UInt8 or NiftiDataType.Int8 => 1,
            NiftiDataType.Int16 or NiftiDataType.UInt16 => 2,
            NiftiDataType.Int32 or NiftiDataType.Float32 => 4,
            _ => 8,
        };
        var voxelOffset = 352 + ExtensionBytes;
        var bytes = new byte[voxelOffset + Values.Length * bytesPerVoxel];
        var span = bytes.AsSpan();
        WriteInt32(span, 0, 348);
        for (var index = 0; index < Dimensions.Length; index++)
        {
            WriteInt16(span, 40 + 2 * index, Dimensions[index]);
        }

        WriteInt16(span, 70, (short)DataType);
        WriteInt16(span, 72, (short)(8 * bytesPerVoxel));
        for (var index = 0; index < 8; index++)
        {
            WriteSingle(span, 76 + 4 * index, 1);
        }

        WriteSingle(span, 108, voxelOffset);
        WriteSingle(span, 112, ScaleSlope);
        WriteSingle(span, 116, ScaleIntercept);
        System.Text.Encoding.ASCII.GetBytes(Magic).CopyTo(span[344..]);
        for (var index = 0; index < Values.Length; index++)
        {
            var at = span[(voxelOffset + index * bytesPerVoxel)..];
            var value = Values[index];
            switch (DataType)
            {
                case NiftiDataType.UInt8: at[0] = (byte)value; break;
                case NiftiDataType.Int8: at[0] = (byte)(sbyte)value; break;
                case NiftiDataType.Int16: WriteInt16(at, 0, (short)value); break;
                case NiftiDataType.UInt16: WriteInt16(at, 0, (short)(ushort)value); break;
                case NiftiDataType.Int32: WriteInt32(at, 0, (int)value); break;
                case NiftiDataType.Float32: WriteSingle(at, 0, (float)value); break;
                default:
                    var bits = BitConverter.DoubleToInt64Bits(value);
                    WriteInt32(at, BigEndian ? 0 : 4, (int)(bits >> 32));
                    WriteInt32(at, BigEndian ? 4 : 0, (int)bits);
                    break;
            }
        }

        return bytes;
    }

    public string WriteTo(TempFolder folder, string name)
    {
        var path = folder.File(name);
        File.WriteAllBytes(path, ToBytes());
        return path;
    }

    private void WriteInt16(Span<byte> span, int offset, short value)
    {
        if (BigEndian)
        {
            BinaryPrimitives.WriteInt16BigEndian(span[offset..], value);
        }
        else
        {
            BinaryPrimitives.WriteInt16LittleEndian(span[offset..], value);
        }
    }

    private void WriteInt32(Span<byte> span, int offset, int value)
    {
        if (BigEndian)
        {
            BinaryPrimitives.WriteInt32BigEndian(span[offset..], value);
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[offset..], value);
        }
    }

    private void WriteSingle(Span<byte> span, int offset, float value) =>
        WriteInt32(span, offset, BitConverter.SingleToInt32Bits(value));
}
