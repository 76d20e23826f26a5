using QctPipeline.Segment.Onnx;

namespace QctPipeline.Tests.Segment;

public sealed class OnnxRuntimeLocatorTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void The_environment_variable_names_the_library_to_load()
    {
        var library = folder.File("libonnxruntime.so.1");
        File.WriteAllBytes(library, []);

        Assert.Equal(library, OnnxRuntimeLocator.Locate(library, folder.Path));
    }

    [Fact]
    public void An_environment_variable_naming_no_file_is_an_error_rather_than_a_fallback()
    {
        PlaceLibraryIn(folder.Path);
        var missing = folder.File("nowhere.so");

        var error = Assert.Throws<DllNotFoundException>(() => OnnxRuntimeLocator.Locate(missing, folder.Path));

        Assert.Contains(OnnxRuntimeLocator.EnvironmentVariable, error.Message);
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void Without_the_variable_the_nearest_tools_folder_above_the_program_is_used()
    {
        var program = Directory.CreateDirectory(Path.Combine(folder.Path, "checkout", "bin", "Release")).FullName;
        var expected = PlaceLibraryIn(Path.Combine(folder.Path, "checkout"));

        Assert.Equal(expected, OnnxRuntimeLocator.Locate(null, program));
    }

    [Fact]
    public void When_nothing_is_found_the_error_lists_what_was_tried_and_how_to_fetch_it()
    {
        var program = Directory.CreateDirectory(Path.Combine(folder.Path, "bin")).FullName;

        var error = Assert.Throws<DllNotFoundException>(() => OnnxRuntimeLocator.Locate("", program));

        Assert.Contains($"{OnnxRuntimeLocator.EnvironmentVariable} (not set)", error.Message);
        Assert.Contains(Path.Combine(program, OnnxRuntimeLocator.RelativeLibraryPath), error.Message);
        Assert.Contains(Path.Combine(folder.Path, OnnxRuntimeLocator.RelativeLibraryPath), error.Message);
        Assert.Contains(OnnxRuntimeLocator.FetchCommand, error.Message);
    }

    private static string PlaceLibraryIn(string root)
    {
        var library = Path.Combine(root, OnnxRuntimeLocator.RelativeLibraryPath);
        Directory.CreateDirectory(Path.GetDirectoryName(library)!);
        File.WriteAllBytes(library, []);
        return library;
    }
}
