using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>
/// The arms. Raised (the usual position for chest and abdominal CT) they lie beside the head, out of a trunk scan
/// except for the proximal humerus rising from the shoulder above T1. Down, they lie along the trunk on the table:
/// humerus (about 320 mm; its head at the glenoid) to the elbow near L1–L2, radius and ulna (about 250 mm) to the
/// wrist by the hip — in the field of view along the sides, often cut by its edge, and a source of beam-hardening
/// streaks across the abdomen. Long bones: a thick cortex (3–4 mm in the humeral shaft) around fatty marrow.
/// </summary>
public sealed partial class PhantomAnatomy
{
    /// <summary>Whether the arms are raised above the head (true) or lie along the trunk (false).</summary>
    public bool ArmsRaised { get; private set; } = true;

    /// <summary>Decides the arms' position (drawn when the options say so) before the shoulder girdle is built.</summary>
    private void PlaceArms()
    {
        var random = PhantomRandom.Stream(options.Seed, "anatomy/arms");
        var drawnDown = random.NextDouble() < 0.4;
        ArmsRaised = options.Arms switch
        {
            ArmPosition.Down => false,
            ArmPosition.Drawn => !drawnDown,
            _ => true,
        };
        drawnParameters["armsDown"] = ArmsRaised ? 0 : 1;
    }

    private void BuildArms()
    {
        var random = PhantomRandom.Stream(options.Seed, "anatomy/arm-shape");
        var corticalHu = physics.Hu(MaterialLibrary.CorticalBone);
        var yellowMarrowHu = physics.Hu(MaterialLibrary.YellowMarrow);
        var bone = new Fill(FillKind.ShellCore, 0, TissueClass.Bone)
        {
            ShellHu = (float)(corticalHu * 0.85),
            ShellThicknessMm = 3.5f,
            CoreIntercept = (float)yellowMarrowHu,
            CoreTissue = TissueClass.Fat,
        };
        var epiphysis = bone with
        {
            ShellHu = (float)(corticalHu * 0.75),
            ShellThicknessMm = 1.2f,
            CoreIntercept = (float)vertebrae[0].TrabecularLine.Intercept,
            CoreSlope = (float)vertebrae[0].TrabecularLine.Slope,
            CoreDensity = (float)(options.L1BmdMgPerCm3 * 1.1),
            CoreTissue = TissueClass.Bone,
            TextureAmplitude = 0.2f,
        };
        var fat = (float)drawnParameters["subcutaneousFatMm"];
        var upperArmRadius = (float)((30 * build) + (0.6 * fat) + random.Normal(0, 3));
        var forearmRadius = upperArmRadius * 0.78f;
        var gap = (float)random.Uniform(0, 12);
        for (var side = -1; side <= 1; side += 2)
        {
            var head = glenoids[(side + 1) / 2] + new Vector3(side * 26 * build, 0, 0);
            Vector3 shoulder, elbow, wrist;
            if (ArmsRaised)
            {
                // Abducted ~160°: the humerus rises past the head; only its top is near the trunk's field.
                shoulder = head;
                elbow = head + (Vector3.Normalize(new Vector3(side * 0.3f, 0.05f, 1)) * 320 * build);
                wrist = elbow + (Vector3.Normalize(new Vector3(-side * 0.5f, -0.2f, 1)) * 250 * build);
            }
            else
            {
                // Along the trunk, resting on the table, a little apart from the flank.
                var elbowZ = head.Z - (320 * build);
                var flank = outer.At(elbowZ);
                var onTable = TableContactY(FlattenedBack) + ((FlattenedBack ? -1 : 1) * upperArmRadius * 0.95f);
                shoulder = head;
                elbow = new Vector3(flank.CentreX + (side * (flank.HalfWidth + gap + upperArmRadius)), onTable, elbowZ);
                wrist = elbow + new Vector3(-side * 10, FlattenedBack ? -25 : 25, -250 * build);
            }

            BuildArm(side, head, shoulder, elbow, wrist, upperArmRadius, forearmRadius, bone, epiphysis);
        }
    }

    private void BuildArm(int side, Vector3 head, Vector3 shoulder, Vector3 elbow, Vector3 wrist, float upperRadius, float foreRadius, Fill bone, Fill epiphysis)
    {
        var muscleHu = (float)contrast.Hu(TissueKind.Muscle);
        var fatHu = (float)physics.Hu(MaterialLibrary.Adipose);
        var skinHu = (float)physics.Hu(MaterialLibrary.Skin);
        var fatThickness = upperRadius * 0.3f;
        foreach (var (start, end, r0, r1) in new[] { (shoulder + new Vector3(-side * 10, 0, 10), elbow, upperRadius * 1.15f, upperRadius * 0.9f), (elbow, wrist, foreRadius, foreRadius * 0.7f) })
        {
            var limb = new Capsule(start, end, r0, r1);
            operations.Add(new PaintOperation("arm", limb, new Fill(FillKind.Layered, 0, TissueClass.SoftTissue)
            {
                Layers =
                [
                    new FillLayer(limb, skinHu, 0, TissueClass.SoftTissue),
                    new FillLayer(new Capsule(start, end, r0 - 1.5f, r1 - 1.5f), fatHu, 0, TissueClass.Fat),
                    new FillLayer(new Capsule(start, end, r0 - fatThickness, r1 - (fatThickness * 0.8f)), muscleHu, 0, TissueClass.SoftTissue),
                ],
            }));
        }

        // Humerus: head at the glenoid, shaft, the condyles at the elbow; then radius and ulna side by side.
        var axis = Vector3.Normalize(elbow - head);
        operations.Add(new PaintOperation("humeral head", new Ellipsoid(new Frame(head, Vector3.UnitX, Vector3.UnitY, Vector3.UnitZ), new Vector3(23, 23, 25) * build), epiphysis));
        operations.Add(new PaintOperation("humerus", new Capsule(head + (axis * 30), elbow - (axis * 25), 11 * build, 9.5f * build), bone));
        var across = Vector3.Normalize(Vector3.Cross(axis, Vector3.UnitY));
        operations.Add(new PaintOperation("humeral condyles", new Ellipsoid(new Frame(elbow - (axis * 12), across, Vector3.Normalize(Vector3.Cross(across, axis)), axis), new Vector3(30, 11, 16) * build), epiphysis));
        var forearm = Vector3.Normalize(wrist - elbow);
        var offset = across * (9 * build);
        operations.Add(new PaintOperation("ulna", new Capsule(elbow + offset - (forearm * 8), wrist + offset, 8 * build, 5 * build), bone with { ShellThicknessMm = 2.5f }));
        operations.Add(new PaintOperation("radius", new Capsule(elbow - offset + (forearm * 6), wrist - offset, 6 * build, 8 * build), bone with { ShellThicknessMm = 2.5f }));
    }
}
