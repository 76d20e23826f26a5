namespace QctPipeline.Ingest;

/// <summary>Names of the storage SOP classes a CT exam folder typically holds, for readable skip reasons.</summary>
public static class SopClassNames
{
    public const string SecondaryCapturePrefix = "1.2.840.10008.5.1.4.1.1.7";

    private static readonly Dictionary<string, string> Names = new()
    {
        ["1.2.840.10008.5.1.4.1.1.2"] = "CT Image Storage",
        ["1.2.840.10008.5.1.4.1.1.2.1"] = "Enhanced CT Image Storage",
        ["1.2.840.10008.5.1.4.1.1.4"] = "MR Image Storage",
        ["1.2.840.10008.5.1.4.1.1.7"] = "Secondary Capture Image Storage",
        ["1.2.840.10008.5.1.4.1.1.88.67"] = "X-Ray Radiation Dose SR",
        ["1.2.840.10008.5.1.4.1.1.88.22"] = "Enhanced SR",
        ["1.2.840.10008.5.1.4.1.1.88.33"] = "Comprehensive SR",
        ["1.2.840.10008.5.1.4.1.1.88.11"] = "Basic Text SR",
        ["1.2.840.10008.5.1.4.1.1.11.1"] = "Grayscale Softcopy Presentation State",
        ["1.2.840.10008.5.1.4.1.1.66.4"] = "Segmentation Storage",
        ["1.2.840.10008.5.1.4.1.1.104.1"] = "Encapsulated PDF Storage",
        ["1.2.840.10008.5.1.4.1.1.481.3"] = "RT Structure Set Storage",
        ["1.2.840.10008.5.1.4.1.1.128"] = "PET Image Storage",
    };

    public static string Describe(string sopClassUid) =>
        sopClassUid.Length == 0 ? "no SOP class" : Names.TryGetValue(sopClassUid, out var name) ? $"{name} ({sopClassUid})" : $"SOP class {sopClassUid}";
}
