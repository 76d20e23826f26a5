using QctPipeline.Calibrate;
using QctPipeline.Dicom;
using QctPipeline.Nifti;
using QctPipeline.Pacs;
using QctPipeline.Segment;
using QctPipeline.Segment.Onnx;
using QctPipeline.Store;

namespace QctPipeline.Cli;

/// <summary>The exit codes every command uses, and the one place exceptions become them.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int NoUsableSeries = 3;
    public const int UnreadableInput = 4;

    /// <summary>Runs a command body; a failure becomes one line on standard error and its exit code.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or DicomFormatException or NiftiFormatException or CalibrationFileException or InvalidDataException)
        {
            return Fail(ex.Message, UnreadableInput);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ModelManifestException or OnnxRuntimeException or DllNotFoundException or ResultStoreException or DicomWebException)
        {
            return Fail(ex.Message, Failure);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A defect still ends in one line naming it, never a stack trace on a clinician's terminal.
            return Fail($"internal error ({ex.GetType().Name}): {ex.Message.ReplaceLineEndings(" ")}", Failure);
        }
    }

    public static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"qct: {message}");
        return code;
    }
}
