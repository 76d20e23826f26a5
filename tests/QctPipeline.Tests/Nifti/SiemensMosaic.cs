using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using QctPipeline.Dicom;
using QctPipeline.Domain;

namespace QctPipeline.Tests.Nifti;

/// <summary>
/// The dcm2niix reference files (dcm-qa-ts, dcm-qa-12bit) are Siemens MR mosaics: one 384x384 DICOM image holding
/// a 6x6 grid of 64x64 slices, 35 of them used. To compare with dcm2niix we build, by hand from the header, the
/// volume it converts: tiles become slices, ImagePositionPatient is moved from the mosaic's corner to the first
/// tile's, and slices step along row × column by SpacingBetweenSlices.
/// </summary>
internal static class SiemensMosaic
{
    private static readonly DicomTag NumberOfImagesInMosaic = new(0x0019, 0x100A);
    private static readonly DicomTag CsaImageHeader = new(0x0029, 0x1010);
    private static readonly DicomTag SpacingBetweenSlices = new(0x0018, 0x0088);

    public static VolumeGeometry Geometry(DicomDataset dataset)
    {
        var (tileColumns, tileRows, _, _) = Layout(dataset);
        var mosaicRows = (int)dataset.GetInteger(DicomTag.Rows)!.Value;
        var mosaicColumns = (int)dataset.GetInteger(DicomTag.Columns)!.Value;
        var position = dataset.GetNumbers(DicomTag.ImagePositionPatient)!;
        var cosines = dataset.GetNumbers(DicomTag.ImageOrientationPatient)!;
        var pixelSpacing = dataset.GetNumbers(DicomTag.PixelSpacing)!;
        var row = new Vector3(cosines[0], cosines[1], cosines[2]);
        var column = new Vector3(cosines[3], cosines[4], cosines[5]);
        var spacing = new Vector3(pixelSpacing[1], pixelSpacing[0], dataset.GetNumber(SpacingBetweenSlices)!.Value);
        var mosaicCorner = new Vector3(position[0], position[1], position[2]);
        var firstTileCorner = mosaicCorner
            + row * (spacing.X * (mosaicColumns - tileColumns) / 2.0)
            + column * (spacing.Y * (mosaicRows - tileRows) / 2.0);
        return new VolumeGeometry(
            tileColumns, tileRows, ImageCount(dataset),
            firstTileCorner, spacing, row, column, row.Cross(column));
    }

    /// <summary>The decoded mosaic image (our pipeline's output, DICOM row order) cut into its tiles as slices.</summary>
    public static CtVolume Volume(DicomDataset dataset, ReadOnlySpan<float> mosaic)
    {
        var geometry = Geometry(dataset);
        var (tileColumns, tileRows, tilesPerRow, mosaicColumns) = Layout(dataset);
        var voxels = new float[geometry.VoxelCount];
        for (var k = 0; k < geometry.SizeZ; k++)
        {
            var (tileRow, tileColumn) = Math.DivRem(k, tilesPerRow);
            for (var j = 0; j < tileRows; j++)
            {
                var source = mosaic.Slice(((tileRow * tileRows) + j) * mosaicColumns + (tileColumn * tileColumns), tileColumns);
                source.CopyTo(voxels.AsSpan(tileColumns * (j + (tileRows * k)), tileColumns));
            }
        }

        return new CtVolume(geometry, voxels);
    }

    private static (int TileColumns, int TileRows, int TilesPerRow, int MosaicColumns) Layout(DicomDataset dataset)
    {
        var tilesPerRow = (int)Math.Ceiling(Math.Sqrt(ImageCount(dataset)));
        var mosaicColumns = (int)dataset.GetInteger(DicomTag.Columns)!.Value;
        var mosaicRows = (int)dataset.GetInteger(DicomTag.Rows)!.Value;
        return (mosaicColumns / tilesPerRow, mosaicRows / tilesPerRow, tilesPerRow, mosaicColumns);
    }

    /// <summary>From (0019,100A) when present, else from the CSA image header (the dcm-qa-12bit files have only that).</summary>
    private static int ImageCount(DicomDataset dataset) =>
        (int?)dataset.GetInteger(NumberOfImagesInMosaic)
        ?? int.Parse(CsaValue(dataset.Find(CsaImageHeader)!.Value.Span, "NumberOfImagesInMosaic"), CultureInfo.InvariantCulture);

    /// <summary>
    /// The first value of a CSA2 ("SV10") element: after a 16-byte preamble, each element is a 64-byte name, then
    /// vm, vr, syngodt, item count and a marker (84 bytes in all), then its items, each a 16-byte header whose
    /// second int32 is the value length, and the value padded to 4 bytes.
    /// </summary>
    private static string CsaValue(ReadOnlySpan<byte> csa, string name)
    {
        Assert.True(csa[..4].SequenceEqual("SV10"u8), "not a CSA2 header");
        var elementCount = BinaryPrimitives.ReadInt32LittleEndian(csa[8..]);
        var position = 16;
        for (var element = 0; element < elementCount; element++)
        {
            var elementName = Encoding.ASCII.GetString(csa.Slice(position, 64)).Split('\0')[0];
            var itemCount = BinaryPrimitives.ReadInt32LittleEndian(csa[(position + 76)..]);
            position += 84;
            for (var item = 0; item < itemCount; item++)
            {
                var length = BinaryPrimitives.ReadInt32LittleEndian(csa[(position + 4)..]);
                if (elementName == name && item == 0)
                {
                    return Encoding.ASCII.GetString(csa.Slice(position + 16, length)).TrimEnd('\0', ' ');
                }

                position += 16 + (length + 3) / 4 * 4;
            }
        }

        throw new KeyNotFoundException($"CSA element {name} not found");
    }
}
