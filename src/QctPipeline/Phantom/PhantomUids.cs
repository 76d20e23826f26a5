using QctPipeline.Dicom;

namespace QctPipeline.Phantom;

/// <summary>The phantom's UIDs: <see cref="DicomUids.FromText"/> of the seed and a description of the object.</summary>
public static class PhantomUids
{
    public static string Make(long seed, params string[] parts) => DicomUids.FromText($"qct-phantom|{seed}|{string.Join('|', parts)}");
}
