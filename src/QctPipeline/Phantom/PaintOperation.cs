using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>What a pixel mostly is, so later parts can be painted only into some tissue (vessels only into lung).</summary>
public enum TissueClass : byte
{
    Air,
    Equipment,
    Fat,
    SoftTissue,
    Lung,
    Bone,
    Metal,
}

/// <summary>Which coordinates a shape is defined in: the patient's anatomy (moves with re-positioning) or the scanner's (table, phantom).</summary>
public enum ShapeSpace
{
    Anatomy,
    Scanner,
}

public enum FillKind
{
    /// <summary>One CT number, optionally modulated by the soft texture.</summary>
    Uniform,

    /// <summary>Cortical shell of a thickness around a trabecular core whose HA density is textured and mapped through an HU line.</summary>
    ShellCore,

    /// <summary>A lumen with gas above a level (against gravity) and fluid or faeces below.</summary>
    GasFluid,

    /// <summary>
    /// Nested layers (the trunk's skin, fat, muscle wall, cavity) painted as one: each pixel is split between the
    /// layers by their coverages, so neighbouring layers blend with each other and never with what lies beneath.
    /// </summary>
    Layered,
}

/// <summary>One layer of a <see cref="FillKind.Layered"/> fill: the solid it fills (inside the previous one) and its CT number.</summary>
public sealed record FillLayer(Shape Shape, float Hu, float TextureHu, TissueClass Tissue);

/// <summary>How a painted shape's pixels get their CT number.</summary>
public sealed record Fill(FillKind Kind, float Hu, TissueClass Tissue)
{
    /// <summary>Relative amplitude of the texture modulation: HU for Uniform and GasFluid, density fraction for ShellCore.</summary>
    public float TextureAmplitude { get; init; }

    public float ShellHu { get; init; }

    public float ShellThicknessMm { get; init; }

    /// <summary>Core HU = CoreIntercept + CoreSlope × density, density = CoreDensity × (1 + amplitude × texture).</summary>
    public float CoreIntercept { get; init; }

    public float CoreSlope { get; init; }

    public float CoreDensity { get; init; }

    public TissueClass CoreTissue { get; init; } = TissueClass.Bone;

    /// <summary>Gravity's "up" in the shape's space and the gas–fluid level along it (mm).</summary>
    public Vector3 Up { get; init; }

    public float LevelAlongUp { get; init; }

    public float GasHu { get; init; } = -1000;

    /// <summary>For <see cref="FillKind.Layered"/>: outermost first; the operation's shape is the outermost layer's.</summary>
    public IReadOnlyList<FillLayer> Layers { get; init; } = [];

    /// <summary>For <see cref="FillKind.ShellCore"/>: a factor on the core's density at each point (endplate sclerosis), or null.</summary>
    public DensityField? DensityModifier { get; init; }

    /// <summary>For <see cref="FillKind.ShellCore"/>: a factor on the shell's CT number at each point (thinner endplate cortex), or null.</summary>
    public DensityField? ShellModifier { get; init; }

    public static Fill Uniform(double hu, TissueClass tissue, double textureHu = 0) =>
        new(FillKind.Uniform, (float)hu, tissue) { TextureAmplitude = (float)textureHu };
}

/// <summary>Where painting is allowed.</summary>
public readonly record struct PaintCondition(TissueClass? OnlyOver, byte OnlyInsideBodyLabel)
{
    public static readonly PaintCondition Always = new(null, 0);

    public static PaintCondition Over(TissueClass tissue) => new(tissue, 0);

    public static PaintCondition InsideBody(byte label) => new(null, label);
}

/// <summary>
/// One step of the painter's algorithm: later operations cover earlier ones in proportion to their coverage, which is
/// how partial volume between tissues arises. Labels are set where a shape covers at least half of a pixel.
/// </summary>
public sealed record PaintOperation(string Name, Shape Shape, Fill Fill, ShapeSpace Space = ShapeSpace.Anatomy)
{
    public PaintCondition Condition { get; init; } = PaintCondition.Always;

    public byte BodyLabel { get; init; }

    public byte VertebraLabel { get; init; }

    /// <summary>The code of the vertebra a rib articulates with (its thoracic label), 0 for everything that is not rib.</summary>
    public byte RibLabel { get; init; }

    /// <summary>Removes body and vertebra labels where it covers (disc material in a Schmorl node is not bone).</summary>
    public bool ClearsLabels { get; init; }
}
