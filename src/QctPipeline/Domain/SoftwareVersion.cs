using System.Reflection;

namespace QctPipeline.Domain;

/// <summary>The pipeline's version as stored with every result (Directory.Build.props' Version, without the commit).</summary>
public static class SoftwareVersion
{
    public static string Current { get; } =
        typeof(SoftwareVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    /// <summary>With the commit it was built from, for logs.</summary>
    public static string Build { get; } =
        typeof(SoftwareVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
