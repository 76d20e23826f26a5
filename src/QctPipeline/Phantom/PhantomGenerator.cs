using QctPipeline.Domain;

namespace QctPipeline.Phantom;

/// <summary>A generated study: the volume, its labels on the same grid and everything truth.json states.</summary>
public sealed class PhantomStudy
{
    internal PhantomStudy(PhantomOptions options, CtNumberModel physics, PhantomAnatomy anatomy, ScanSetup setup, ReconstructionModel reconstruction, int subPlanes, CtVolume volume, byte[] bodyLabels, byte[] vertebraLabels, byte[] ribLabels)
    {
        Options = options;
        Physics = physics;
        Anatomy = anatomy;
        Setup = setup;
        Reconstruction = reconstruction;
        SubPlanes = subPlanes;
        Volume = volume;
        BodyLabels = bodyLabels;
        VertebraLabels = vertebraLabels;
        RibLabels = ribLabels;
    }

    public PhantomOptions Options { get; }

    public CtNumberModel Physics { get; }

    public PhantomAnatomy Anatomy { get; }

    public ScanSetup Setup { get; }

    public ReconstructionModel Reconstruction { get; }

    public int SubPlanes { get; }

    public CtVolume Volume { get; }

    /// <summary>Vertebral bodies by level code (<see cref="SpineLabels"/>), same voxel order as <see cref="Volume"/>.</summary>
    public byte[] BodyLabels { get; }

    /// <summary>Whole vertebrae (body and posterior elements) by level code.</summary>
    public byte[] VertebraLabels { get; }

    /// <summary>Bony ribs by the code of the vertebra each articulates with (T1 → 1 … T13 → 13); costal cartilage is not labelled.</summary>
    public byte[] RibLabels { get; }
}

public static class PhantomGenerator
{
    /// <summary>Builds the anatomy and renders the series; throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public static PhantomStudy Generate(PhantomOptions options)
    {
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem);
        }

        var physics = new CtNumberModel(options.Kvp);
        var anatomy = new PhantomAnatomy(options, physics);
        var setup = new ScanSetup(options, anatomy, physics);
        var reconstruction = new ReconstructionModel(options.Kernel, options.ResolvedPixelSpacingMm, options.NoiseSigmaHu);
        var renderer = new PhantomRenderer(options, anatomy, setup, reconstruction);
        var (hu, bodies, vertebrae, ribs) = renderer.Render();
        return new PhantomStudy(options, physics, anatomy, setup, reconstruction, renderer.SubPlanes, new CtVolume(setup.Geometry, hu), bodies, vertebrae, ribs);
    }
}
