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
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A reader defect must cost one file, not the survey; the type names the defect for its report.
                problems.Add(new FileProblem(file, $"unreadable ({ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")})"));
            }
        });

        var ordered = frames.OrderBy(f => f.Order).SelectMany(f => f.Frames).ToArray();
        return new ScanResult(ordered, ByPath(problems), ByPath(ignored), files.Count);
    }

    private static FileProblem[] ByPath(IEnumerable<FileProblem> entries) => entries.OrderBy(p => p.Path, StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Every file below the folder, sorted. Symbolic links to folders and files are followed (a research root is often
    /// made of links to study folders); each folder and file is taken once, by its device and inode,
    /// so a link loop or a second link to the same place is reported once and not followed. Links that point nowhere
    /// and unreadable folders are reported, one line each.
    /// <para>Identity is the device and inode (as find and GNU tar use), so a bind mount of a parent folder is a loop too.</para>
    /// </summary>
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
        var seenFiles = new HashSet<FileIdentity>();
        var root = Path.GetFullPath(path);
        var seenFolders = new HashSet<FileIdentity>();
        if (FileIdentity.Of(root).Identity is { } rootIdentity)
        {
            seenFolders.Add(rootIdentity);
        }
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            try
            {
                // In name order, so that of two links to one folder the same one is always read and the other reported.
                foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
                {
                    var (identity, errno) = FileIdentity.Of(entry.FullName);
                    if (entry.LinkTarget is not null && LinkProblem(entry) is { } problem)
                    {
                        problems.Add(new FileProblem(entry.FullName, problem));
                    }
                    else if (identity is not { } id)
                    {
                        problems.Add(new FileProblem(entry.FullName, $"cannot be read: stat failed (errno {errno})"));
                    }
                    else if (entry is DirectoryInfo directory)
                    {
                        if (seenFolders.Add(id))
                        {
                            pending.Push(directory.FullName);
                        }
                        else
                        {
                            var what = directory.LinkTarget is not null ? $"symbolic link to {directory.ResolveLinkTarget(returnFinalTarget: true)?.FullName}" : "mount of";
                            problems.Add(new FileProblem(directory.FullName, $"{what} a folder already read (a loop or a second way in): not followed again"));
                        }
                    }

                    // Hidden files are system litter (.DS_Store) or writes in progress (ours are .name.tmp until renamed).
                    else if (entry is FileInfo file && !file.Name.StartsWith('.') && seenFiles.Add(id))
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

    /// <summary>Why a symbolic link cannot be followed (it points nowhere, or links lead round in a circle); null when it can.</summary>
    private static string? LinkProblem(FileSystemInfo link)
    {
        try
        {
            return link.ResolveLinkTarget(returnFinalTarget: true) is { Exists: true } ? null : $"symbolic link to {link.LinkTarget}, which does not exist";
        }
        catch (IOException ex)
        {
            return $"symbolic link to {link.LinkTarget} cannot be resolved (a loop of links?): {ex.Message}";
        }
    }
}
