using System.Runtime.InteropServices;

namespace QctPipeline.Segment.Onnx;

/// <summary>
/// Owns one ONNX Runtime object and releases it with the matching <c>Release*</c> function. A SafeHandle rather than
/// a bare pointer so that Dispose racing a Run on another thread defers the release until that Run has finished.
/// </summary>
internal sealed unsafe class OrtHandle : SafeHandle
{
    private readonly delegate* unmanaged<nint, void> release;

    public OrtHandle(nint handle, delegate* unmanaged<nint, void> release)
        : base(0, ownsHandle: true)
    {
        this.release = release;
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        release(handle);
        return true;
    }
}
