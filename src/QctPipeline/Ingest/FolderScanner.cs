using System.Collections.Concurrent;
using QctPipeline.Dicom;

namespace QctPipeline.Ingest;

/// <summary>A file the scan could not use, and why.</summary>
public sealed record FileProblem(string Path, string Reason);

/// <param name="Problems">DICOM files (or folders) that could not be read.</param>
/// <param name="Ignored">Files that are not DICOM at all, and DICOMDIR indexes.</param>
public sealed record ScanResult(IReadOnlyList<ImageFrame> Frames, IReadOnlyList<FileProblem> Problems, IReadOnlyList<FileProblem> Ignored, int FilesSeen);

/// <summary>Finds every file under a folder (or takes a single file) and reads its headers, in parallel.</summary>
public static class FolderScanner
{
    private const string MediaStorageDirectorySopClass = "1.2.840.10008.1.3.10";

    public static ScanResult Scan(string path, int maxParallelism)
    {
        var files = EnumerateFiles(path, out var enumerationProblems);
        var frames = new ConcurrentBag<(int Order, IReadOnlyList<ImageFrame> Frames)>();
        var problems = new ConcurrentBag<FileProblem>(enumerationProblems);
        var ignored = new ConcurrentBag<FileProblem>();
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = maxParallelism }, index =>
        {
            var file = files[index];
            try
            {
                var parsed = DicomFile.ReadHeader(file);
                if (parsed.Meta.GetString(new DicomTag(0x0002, 0x0002)) == MediaStorageDirectorySopClass)
                {
                    ignored.Add(new FileProblem(file, "DICOMDIR (media directory index), not an image"));
                    return;
                }

                frames.Add((index, FrameReader.Frames(parsed)));
            }
            catch (NotDicomException ex)
            {
                ignored.Add(new FileProblem(file, ex.Message));
            }
            catch (DicomFormatException ex)
            {
                problems.Add(new FileProblem(file, ex.Message));
            }
            catch (IOException ex)
            {
                problems.Add(new FileProblem(file, $"cannot be read: {ex.Message}"));
            }
            catch (UnauthorizedAccessException)
            {
                problems.Add(new FileProblem(file, "cannot be read: permission denied"));
            }
            catch (Exception ex) when (ex is ArgumentException or OverflowException or IndexOutOfRangeException or InvalidOperationException)
            {
                // A reader defect must cost one file, not the survey; the type names the defect for its report.
                problems.Add(new FileProblem(file, $"unreadable ({ex.GetType().Name}: {ex.Message})"));
            }
        });

        var ordered = frames.OrderBy(f => f.Order).SelectMany(f => f.Frames).ToArray();
        return new ScanResult(ordered, ByPath(problems), ByPath(ignored), files.Count);
    }

    private static FileProblem[] ByPath(IEnumerable<FileProblem> entries) => entries.OrderBy(p => p.Path, StringComparer.Ordinal).ToArray();

    /// <summary>Regular files only, sorted; symbolic links to folders are not followed (no loops), unreadable folders reported.</summary>
    private static List<string> EnumerateFiles(string path, out List<FileProblem> problems)
    {
        problems = [];
        if (File.Exists(path))
        {
            return [Path.GetFullPath(path)];
        }

        if (!Directory.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such file or folder", path);
        }

        var files = new List<string>();
        var pending = new Stack<string>([Path.GetFullPath(path)]);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            try
            {
                foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
                {
                    if (entry is DirectoryInfo directory)
                    {
                        if (directory.LinkTarget is null)
                        {
                            pending.Push(directory.FullName);
                        }
                        else
                        {
                            problems.Add(new FileProblem(directory.FullName, "symbolic link to a folder, not followed"));
                        }
                    }
                    // Hidden files are system litter (.DS_Store) or writes in progress (ours are .name.tmp until renamed).
                    else if (entry is FileInfo file && !file.Name.StartsWith('.'))
                    {
                        files.Add(file.FullName);
                    }
                }
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                problems.Add(new FileProblem(folder, $"folder cannot be read: {ex.Message}"));
            }
        }

        files.Sort(StringComparer.Ordinal);
        return files;
    }
}
