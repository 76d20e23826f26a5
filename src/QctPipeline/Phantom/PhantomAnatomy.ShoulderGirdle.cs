using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>
/// The upper chest: the sternum from the manubrium down, the clavicles, the scapulae and the airways. Positions follow
/// standard anatomy (Gray's Anatomy, 42nd ed.): the jugular notch at the T2–T3 disc, the sternal angle at T4–T5, the
/// xiphisternal joint at T9; the scapula over ribs 2–7, its superior angle at T2, inferior angle at T7, medial border
/// 5–6 cm from the midline, its plane turned ~30° forward so that the glenoid lies level with the vertebral bodies; the
/// clavicle from the manubrium's notch to the acromion; the carina at T4–T5. With the arms raised the scapula rotates
/// upwards about 40–60° (inferior angle out and up, glenoid up; Ludewig et al., J Bone Joint Surg Am 2009;91:378).
/// None of these bones carries a label.
/// </summary>
public sealed partial class PhantomAnatomy
{
    /// <summary>The glenoids' centres (right, left), where the humeral heads sit.</summary>
    private readonly Vector3[] glenoids = new Vector3[2];

    private float JugularNotchZ => (Thoracic(2).Frame.Origin.Z + Thoracic(3).Frame.Origin.Z) / 2;

    private float SternalAngleZ => (Thoracic(4).Frame.Origin.Z + Thoracic(5).Frame.Origin.Z) / 2;

    /// <summary>The n-th thoracic vertebra (T1 = 1), or the lowest rib-bearing one for short thoracic spines.</summary>
    private VertebraModel Thoracic(int number) => vertebrae[Math.Min(number, labels.RibPairs) - 1];

    /// <summary>Manubrium, body and xiphoid, each in front of the cavity at its own height.</summary>
    private void BuildSternum(Fill boneFill)
    {
        var xiphisternal = VertebraAbove("L1", 4).Frame.Origin.Z;
        var notch = JugularNotchZ;
        var angle = SternalAngleZ;
        Vector3 Front(float z, float depthHalf) => new(0, cavity.At(z).CentreY - cavity.At(z).HalfDepthFront - 4 - depthHalf, z);

        // The manubrium: wide at the clavicular notches, narrowing to the sternal angle.
        var manubriumTop = Front(notch - 8, 6);
        var manubriumBottom = Front(angle + 6, 6);
        operations.Add(new PaintOperation("manubrium", new RoundedBox(new Frame(manubriumTop, Vector3.UnitX, Vector3.UnitY, Vector3.UnitZ), new Vector3(25, 6, 10) * build, 4), boneFill));
        operations.Add(new PaintOperation("manubrium", RoundedBox.Along(manubriumTop, manubriumBottom, Vector3.UnitX, 6, 18 * build, 4), boneFill));
        var bodyTop = Front(angle, 5);
        var bodyBottom = Front(xiphisternal, 5);
        operations.Add(new PaintOperation("sternum", RoundedBox.Along(bodyTop, bodyBottom, Vector3.UnitX, 5, 14 * build, 4), boneFill));
        var xiphoid = Front(xiphisternal - 25, 3);
        Add("xiphoid process", RoundedBox.Along(bodyBottom, xiphoid, Vector3.UnitX, 3, 8, 2.5f), Fill.Uniform(physics.Hu(MaterialLibrary.Cartilage), TissueClass.SoftTissue));
    }

    private void BuildShoulderGirdle()
    {
        var random = PhantomRandom.Stream(options.Seed, "anatomy/shoulder");
        var corticalHu = physics.Hu(MaterialLibrary.CorticalBone);
        var marrow = vertebrae[0].TrabecularLine;
        var fill = new Fill(FillKind.ShellCore, 0, TissueClass.Bone)
        {
            ShellHu = (float)(corticalHu * 0.78),
            ShellThicknessMm = 1.2f,
            CoreIntercept = (float)marrow.Intercept,
            CoreSlope = (float)marrow.Slope,
            CoreDensity = (float)(options.L1BmdMgPerCm3 * 1.1),
            TextureAmplitude = 0.2f,
        };
        var rotation = ArmsRaised ? (float)random.Uniform(0.7, 1.0) : 0;
        for (var side = -1; side <= 1; side += 2)
        {
            var glenoid = BuildScapula(side, rotation, fill, random);
            glenoids[(side + 1) / 2] = glenoid;
            BuildClavicle(side, glenoid, fill);
        }

        BuildAirways();
    }

    /// <summary>One scapula; returns the centre of its glenoid.</summary>
    private Vector3 BuildScapula(int side, float upwardRotation, Fill fill, PhantomRandom random)
    {
        var b = build;
        var superior = OnChestWall(side * 55 * b, Thoracic(2).Frame.Origin.Z);
        var inferiorZ = Thoracic(7).Frame.Origin.Z + (upwardRotation * (Thoracic(5).Frame.Origin.Z - Thoracic(7).Frame.Origin.Z));
        var inferior = OnChestWall(side * (82 + (35 * upwardRotation)) * b, inferiorZ);
        var lateralZ = ((Thoracic(2).Frame.Origin.Z + Thoracic(3).Frame.Origin.Z) / 2) + (upwardRotation * 30);
        var spineY = SpineAt(lateralZ).Y;
        var lateral = new Vector3(side * (126 + (8 * upwardRotation)) * b, spineY + (float)random.Uniform(-5, 10), lateralZ);
        var middle = OnChestWall((superior.X + inferior.X + lateral.X) / 3, (superior.Z + inferior.Z + lateral.Z) / 3);
        middle.Y = Math.Max(middle.Y, ((superior.Y + inferior.Y + lateral.Y) / 3) + 3);

        // The blade: a thin plate bent over the chest wall (three triangles about a middle point), thicker borders.
        foreach (var (a, c) in new[] { (superior, lateral), (lateral, inferior), (inferior, superior) })
        {
            operations.Add(new PaintOperation("scapula", new ThinTriangle(a, c, middle, 1.6f), fill));
        }

        operations.Add(new PaintOperation("scapula", new Capsule(inferior, lateral, 3.5f, 5.5f), fill));
        operations.Add(new PaintOperation("scapula", new Capsule(superior, inferior, 2.5f), fill));

        // The spine of the scapula, standing off the blade's back, and the acromion over the glenoid.
        var spineStart = Vector3.Lerp(superior, inferior, 0.2f) + new Vector3(0, 4, 0);
        var acromionBase = lateral + new Vector3(side * 10 * b, 26, 24);
        operations.Add(new PaintOperation("scapular spine", RoundedBox.Along(spineStart, acromionBase, Vector3.UnitZ, 5, 4, 2), fill));
        var acromionTip = lateral + new Vector3(side * 32 * b, 6, 30);
        operations.Add(new PaintOperation("acromion", RoundedBox.Along(acromionBase, acromionTip, Vector3.UnitY, 12 * b, 4, 2.5f), fill));
        operations.Add(new PaintOperation("coracoid", new Capsule(lateral + new Vector3(-side * 8, -6, 12), lateral + new Vector3(side * 4, -36, 6), 6, 4), fill));
        var glenoid = lateral + new Vector3(side * 6, 0, 0);
        operations.Add(new PaintOperation("glenoid", new Ellipsoid(new Frame(glenoid, Vector3.UnitX, Vector3.UnitY, Vector3.UnitZ), new Vector3(8, 14, 18) * b), fill));
        return glenoid;
    }

    /// <summary>The S-shaped clavicle from the manubrium's notch to the acromion.</summary>
    private void BuildClavicle(int side, Vector3 glenoid, Fill fill)
    {
        var notch = JugularNotchZ;
        var sternalEnd = new Vector3(side * 24 * build, cavity.At(notch).CentreY - cavity.At(notch).HalfDepthFront - 6, notch + 2);
        var acromialEnd = glenoid + new Vector3(side * 18 * build, 14, 30);
        var medialBow = Vector3.Lerp(sternalEnd, acromialEnd, 0.35f) + new Vector3(0, -10, 4);
        var lateralBow = Vector3.Lerp(sternalEnd, acromialEnd, 0.75f) + new Vector3(0, 6, 2);
        AddTube("clavicle", [sternalEnd, medialBow, lateralBow, acromialEnd], [8f, 7, 6, 5.5f], fill);
    }

    /// <summary>Trachea (air in a 2 mm wall) from above T1 to the carina at T4–T5, then the main bronchi towards the hila.</summary>
    private void BuildAirways()
    {
        var wall = Fill.Uniform(contrast.Hu(TissueKind.Muscle) - 10, TissueClass.SoftTissue);
        var air = Fill.Uniform(physics.Hu(MaterialLibrary.Air), TissueClass.Air);
        var top = Thoracic(1).Frame.ToWorld(new Vector3(0, -Thoracic(1).Depth / 2 - 22, 30));
        var carinaLevel = Thoracic(4).Frame.Origin.Z - (Thoracic(4).Height / 2);
        var carina = new Vector3(2, SpineAt(carinaLevel).Y - (Thoracic(4).Depth / 2) - 24, carinaLevel);
        var radius = 9 * build;
        var hilumZ = vertebrae[Math.Max(0, labels.IndexOf("L1") - 7)].Frame.Origin.Z;
        var bronchi = new[] { -1, 1 }.Select(side => new Vector3(side * 34 * build, carina.Y + 12, Math.Max(hilumZ, carina.Z - 28))).ToArray();
        Add("trachea", new Capsule(top, carina, radius + 2), wall);
        foreach (var end in bronchi)
        {
            Add("main bronchus", new Capsule(carina, end, radius * 0.75f + 2, radius * 0.6f + 2), wall);
        }

        Add("tracheal lumen", new Capsule(top, carina, radius), air);
        foreach (var end in bronchi)
        {
            Add("bronchial lumen", new Capsule(carina, end, radius * 0.75f, radius * 0.6f), air);
        }
    }

    /// <summary>A point behind the ribs at (x, z): the rib cage's outer surface plus ~10 mm of muscle (serratus, subscapularis).</summary>
    private Vector3 OnChestWall(float x, float z)
    {
        var section = cavity.At(z);
        var (a, b) = (section.HalfWidth + 22, section.HalfDepthBack + 22);
        var u = Math.Clamp((x - section.CentreX) / a, -0.95f, 0.95f);
        return new Vector3(x, section.CentreY + (b * MathF.Sqrt(1 - (u * u))), z);
    }
}
