using QctPipeline.Dicom;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Nifti;

namespace QctPipeline.Evaluation;

/// <summary>A case's input that cannot be used (missing file, unknown label, empty mask); the message names the file and the reason.</summary>
public sealed class EvaluationInputException(string message) : Exception(message);

/// <summary>A series as the analyze chain takes it: the volume, its metadata and what ingest had to assume.</summary>
public sealed record EvaluationSeries(string Path, CtVolume Volume, SeriesMetadata Metadata, IReadOnlyList<string> Warnings)
{
    /// <summary>
    /// A DICOM folder (the series `qct analyze` would choose) or a NIfTI CT volume. A NIfTI file carries no DICOM
    /// metadata (kVp, kernel, contrast agent, scanner): the chain runs without them and a warning says so.
    /// </summary>
    public static EvaluationSeries Load(string path)
    {
        var isNifti = path.EndsWith(".nii", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase);
        if (isNifti ? !File.Exists(path) : !Directory.Exists(path) && !File.Exists(path))
        {
            throw new EvaluationInputException($"{path}: no such {(isNifti ? "NIfTI file" : "DICOM folder or file")}");
        }

        if (isNifti)
        {
            try
            {
                var volume = NiftiVolumes.ReadCt(path);
                var metadata = new SeriesMetadata { SeriesInstanceUid = "nifti:" + System.IO.Path.GetFileName(path), Modality = "CT" };
                return new EvaluationSeries(path, volume, metadata,
                    ["NIfTI volume: no DICOM metadata (kVp, kernel, contrast agent, scanner, patient); values taken as HU"]);
            }
            catch (NiftiFormatException exception)
            {
                throw new EvaluationInputException($"{path}: {exception.Message}");
            }
        }

        var options = new IngestOptions();
        try
        {
            var survey = DicomIngest.Survey(path, options);
            if (survey.Selection.Selected is not { } selected)
            {
                throw new EvaluationInputException($"{path}: no usable CT series ({survey.Selection.Reason})");
            }

            var loaded = DicomIngest.Load(selected, options);
            return new EvaluationSeries(path, loaded.Volume, selected.Metadata, loaded.Warnings);
        }
        catch (DicomFormatException exception)
        {
            throw new EvaluationInputException($"{path}: {exception.Message}");
        }
    }
}
