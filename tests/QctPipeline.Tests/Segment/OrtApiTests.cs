using System.Text.RegularExpressions;
using QctPipeline.Segment.Onnx;

namespace QctPipeline.Tests.Segment;

/// <summary>
/// Checks of the function table itself. A wrong slot number calls some other ORT function, which crashes or returns
/// nonsense; these tests, together with the metadata and run tests that go through every other slot, would show it.
/// </summary>
public sealed unsafe class OrtApiTests
{
    [Fact]
    public void The_loaded_library_is_onnx_runtime_1_30_or_later()
    {
        var match = Regex.Match(OnnxRuntimeLibrary.Version, @"^1\.(\d+)\.\d+");

        Assert.True(match.Success, OnnxRuntimeLibrary.Version);
        Assert.True(int.Parse(match.Groups[1].Value) >= 30, OnnxRuntimeLibrary.Version);
        Assert.True(File.Exists(OnnxRuntimeLibrary.LibraryPath));
    }

    [Fact]
    public void A_status_made_by_create_status_comes_back_with_its_code_and_message_through_check()
    {
        // Goes through slots 0 (CreateStatus), 1 (GetErrorCode), 2 (GetErrorMessage) and 93 (ReleaseStatus).
        var api = OnnxRuntimeLibrary.Runtime.Api;
        nint status;
        fixed (byte* message = "made here for a slot check\0"u8)
        {
            status = api.CreateStatus((int)OnnxErrorCode.NoSuchFile, message);
        }

        var error = Assert.Throws<OnnxRuntimeException>(() => api.Check(status, "SlotCheck"));

        Assert.Equal(OnnxErrorCode.NoSuchFile, error.ErrorCode);
        Assert.Equal("made here for a slot check", error.RuntimeMessage);
        Assert.Equal("SlotCheck", error.Operation);
        Assert.Equal("ONNX Runtime SlotCheck failed (NoSuchFile): made here for a slot check", error.Message);
    }
}
