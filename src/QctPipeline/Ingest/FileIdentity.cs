using System.Runtime.InteropServices;

namespace QctPipeline.Ingest;

/// <summary>
/// What a path points at, after every link: its device and inode from stat(2). Two paths with one identity are one
/// folder or file, however they are reached (links, bind mounts).
/// </summary>
internal readonly record struct FileIdentity(ulong Device, ulong Inode)
{
    /// <summary>
    /// The identity of <paramref name="path"/>. On x86-64 and AArch64 Linux, <c>struct stat</c> opens with
    /// <c>st_dev</c> and <c>st_ino</c>, both 64-bit; the rest of the buffer is room for the fields not read.
    /// </summary>
    /// <returns>Null with errno when stat(2) fails (the file went, or cannot be reached).</returns>
    public static unsafe (FileIdentity? Identity, int Errno) Of(string path)
    {
        var buffer = stackalloc ulong[32];
        return Stat(path, buffer) == 0 ? (new FileIdentity(buffer[0], buffer[1]), 0) : (null, Marshal.GetLastPInvokeError());
    }

    [DllImport("libc.so.6", EntryPoint = "stat", SetLastError = true)]
    private static extern unsafe int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, ulong* buffer);
}
