using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>The trunk: its layered cross-section along z, and the muscles of the back and abdominal wall.</summary>
public sealed partial class PhantomAnatomy
{
    private void BuildTrunk(float fat, float widthAtL1, PhantomRandom random)
    {
        const float step = 10;
        var bottom = vertebrae[^1].Frame.Origin.Z - 90;
        var top = vertebrae[0].Frame.Origin.Z + 40;
        var samples = (int)MathF.Ceiling((top - bottom) / step) + 1;
        var drawnWidthScale = (float)random.Normal(1, 0.04);
        var widthScale = widthAtL1 > 0 ? 1f : drawnWidthScale;
        var depthScale = (float)random.Normal(1, 0.05);
        var outerArrays = NewProfileArrays(samples);
        var leanArrays = NewProfileArrays(samples);
        var cavityArrays = NewProfileArrays(samples);
        var fasciaArrays = NewProfileArrays(samples);
        var backFatFactor = FlattenedBack ? 0.6f : 1.1f;
        var flatBack = SpineAt(0).Y + 72;
        var frontFatFactor = FlattenedBack ? 1.25f : 0.8f;

        for (var s = 0; s < samples; s++)
        {
            var z = bottom + s * step;
            var spine = SpineAt(z);
            var position = PositionAboveSacrum(z);
            var thoracic = position > labels.LumbarVertebrae + 0.5f;
            var leanHalfWidth = Interpolate(position, [0, 2, 5, 8, 12, 18], [150, 138, 132, 134, 140, 150]) * build * widthScale;
            var leanDepth = Interpolate(position, [0, 3, 5, 8, 12, 15, 17, 18], [185, 178, 190, 212, 220, 205, 165, 150]) * build * depthScale;
            // Lying on the table flattens the back: the posterior surface follows the spine's curves only partly. Above
            // the thoracic kyphosis's apex the upper back rises off the table with the spine, which runs forwards.
            var spineFollowing = spine.Y + Interpolate(position, [0, 3, 5.5f, 6.5f, 10, 13, 18], [68, 72, 70, 58, 58, 75, 75]);
            var upperBack = Math.Clamp((position - 10) / 3, 0, 1);
            var leanBack = ((0.1f * spineFollowing) + (0.9f * flatBack)) * (1 - upperBack) + (Math.Min(flatBack, spineFollowing) * upperBack);
            var leanFront = leanBack - leanDepth;
            var abdominal = Math.Clamp(1 - (position - 5) / 3, 0, 1);
            var lateralFat = fat * (0.8f + 0.3f * abdominal);
            var frontFat = fat * frontFatFactor * (0.6f + 0.6f * abdominal);
            var backFat = fat * backFatFactor;

            var leanCentre = (leanBack + leanFront) / 2;
            SetProfile(leanArrays, s, spine.X * 0.3f, leanCentre, leanHalfWidth, leanDepth / 2, leanDepth / 2);
            SetProfile(outerArrays, s, spine.X * 0.3f, leanCentre, leanHalfWidth + lateralFat, leanDepth / 2 + frontFat, leanDepth / 2 + backFat);

            // The cavity lies inside the muscle wall (thicker at the back: latissimus, posterior abdominal wall); the
            // paraspinal muscles are painted into it later, so fat surrounds them as it does on real scans.
            var wall = thoracic ? 13f : 11f;
            var backWall = thoracic ? 17f : 15f;
            // Above T5 the thorax narrows to its inlet: the first rib ring, about 100 mm across and 55 mm deep in front of
            // the spine, and the lung apices under the shoulder girdle's muscles.
            var inlet = Interpolate(position, [13, 14, 15, 16, 17, 18], [1, 0.9f, 0.78f, 0.62f, 0.46f, 0.3f]);
            var cavityHalfWidth = (leanHalfWidth - wall) * inlet;
            var halfFront = (leanDepth / 2 - wall) * Interpolate(position, [13, 15, 17, 18], [1, 0.85f, 0.62f, 0.45f]);
            var halfBack = (leanDepth / 2 - backWall) * Interpolate(position, [14, 18], [1, 0.8f]);
            var cavityCentre = leanCentre;
            SetProfile(fasciaArrays, s, spine.X * 0.3f, leanCentre, leanHalfWidth - 0.45f * wall, leanDepth / 2 - 0.45f * wall, leanDepth / 2 - 0.45f * backWall);
            SetProfile(cavityArrays, s, spine.X * 0.3f, cavityCentre, cavityHalfWidth, halfFront, halfBack);
        }

        if (widthAtL1 > 0)
        {
            var current = ProfileFrom(outerArrays, bottom, step).At(0).HalfWidth * 2;
            var factor = widthAtL1 / current;
            foreach (var arrays in new[] { outerArrays, leanArrays, cavityArrays, fasciaArrays })
            {
                for (var s = 0; s < samples; s++)
                {
                    arrays[2][s] *= factor;
                }
            }
        }

        outer = ProfileFrom(outerArrays, bottom, step);
        lean = ProfileFrom(leanArrays, bottom, step);
        cavity = ProfileFrom(cavityArrays, bottom, step);
        var fascia = ProfileFrom(fasciaArrays, bottom, step);
        drawnParameters["trunkWidthMmAtL1"] = outer.At(0).HalfWidth * 2;
        drawnParameters["trunkDepthMmAtL1"] = outer.At(0).HalfDepthFront + outer.At(0).HalfDepthBack;

        var flattenBack = FlattenedBack;
        var skinHu = physics.Hu(MaterialLibrary.Skin);
        var fatHu = physics.Hu(MaterialLibrary.Adipose);
        var skin = new TrunkLayer(outer, 0, 0, 0, flattenBack, !flattenBack, bottom, top);
        operations.Add(new PaintOperation("trunk", skin, new Fill(FillKind.Layered, 0, TissueClass.SoftTissue)
        {
            Layers =
            [
                new FillLayer(skin, (float)skinHu, 0, TissueClass.SoftTissue),
                new FillLayer(new TrunkLayer(outer, 2, 2, 2, flattenBack, !flattenBack, bottom, top), (float)fatHu, 0, TissueClass.Fat),
                new FillLayer(new TrunkLayer(lean, 0, 0, 0, flattenBack, !flattenBack, bottom, top), (float)contrast.Hu(TissueKind.Muscle), 0, TissueClass.SoftTissue),

                // A fascial fat plane splitting the wall's muscle in two, as between the oblique muscles.
                new FillLayer(new TrunkLayer(fascia, 0, 0, 0, flattenBack, !flattenBack, bottom, top), (float)fatHu + 20, 0, TissueClass.Fat),
                new FillLayer(new TrunkLayer(fascia, 1.6f, 1.6f, 1.6f, flattenBack, !flattenBack, bottom, top), (float)contrast.Hu(TissueKind.Muscle), 0, TissueClass.SoftTissue),
                new FillLayer(new TrunkLayer(cavity, 0, 0, 0, flattenBack, !flattenBack, bottom, top), (float)fatHu + 8, 14, TissueClass.Fat),
            ],
        }));
    }

    private static float[][] NewProfileArrays(int samples) => [new float[samples], new float[samples], new float[samples], new float[samples], new float[samples]];

    private static void SetProfile(float[][] arrays, int s, float centreX, float centreY, float halfWidth, float halfFront, float halfBack)
    {
        arrays[0][s] = centreX;
        arrays[1][s] = centreY;
        arrays[2][s] = halfWidth;
        arrays[3][s] = halfFront;
        arrays[4][s] = halfBack;
    }

    private static TrunkProfile ProfileFrom(float[][] arrays, float start, float step) => new(start, step, arrays[0], arrays[1], arrays[2], arrays[3], arrays[4]);

    private static float Interpolate(float x, float[] xs, float[] ys)
    {
        if (x <= xs[0])
        {
            return ys[0];
        }

        for (var index = 1; index < xs.Length; index++)
        {
            if (x <= xs[index])
            {
                return ys[index - 1] + (ys[index] - ys[index - 1]) * (x - xs[index - 1]) / (xs[index] - xs[index - 1]);
            }
        }

        return ys[^1];
    }


    // ---------------------------------------------------------------- muscles

    private void BuildMuscles()
    {
        var random = PhantomRandom.Stream(options.Seed, "anatomy/muscles");
        var muscleHu = contrast.Hu(TissueKind.Muscle);
        var l1 = labels.IndexOf("L1");
        var psoasScale = build * (float)random.Normal(1, 0.08);

        // Psoas: from T12/L1, lateral to the bodies, growing to ~35 mm by L4–L5, then moving forward into the pelvis.
        for (var side = -1; side <= 1; side += 2)
        {
            Vector3? previous = null;
            var previousRadius = 0f;
            for (var index = l1 - 1; index < vertebrae.Count; index++)
            {
                var v = vertebrae[index];
                var below = index - l1;
                var radius = Math.Clamp(5 + 5.5f * below, 4, 19) * psoasScale;
                var offset = new Vector3(side * (v.Width / 2 + radius * 0.75f), -v.Depth * 0.05f - Math.Max(0, below - 3) * 10, 0);
                var centre = v.Frame.Origin + v.Frame.DirectionToWorld(offset);
                if (previous is { } start)
                {
                    Add("psoas", new Capsule(start, centre, previousRadius, radius), Fill.Uniform(muscleHu, TissueClass.SoftTissue));
                }

                previous = centre;
                previousRadius = radius;
            }

            // Quadratus lumborum behind the transverse processes, T12 to L4.
            for (var index = l1 - 1; index < vertebrae.Count - 2; index++)
            {
                var upper = vertebrae[index].Frame;
                var lower = vertebrae[index + 1].Frame;
                var lateral = 62 * build;
                var start = upper.Origin + upper.DirectionToWorld(new Vector3(side * lateral, 30, 0));
                var end = lower.Origin + lower.DirectionToWorld(new Vector3(side * (lateral + 4), 30, 0));
                Add("quadratus lumborum", new Capsule(start, end, 9 * build), Fill.Uniform(muscleHu, TissueClass.SoftTissue));
            }

        }
    }

    /// <summary>
    /// Erector spinae and multifidus either side of the spinous processes, behind the laminae and transverse
    /// processes, in a thin fat sheath; painted after the lungs, whose posterior recesses they bound.
    /// </summary>
    private void BuildParaspinals()
    {
        var muscleHu = contrast.Hu(TissueKind.Muscle);
        var fatHu = physics.Hu(MaterialLibrary.Adipose);
        foreach (var v in vertebrae)
        {
            var thoracic = v.RibBearing;
            var radiusX = (thoracic ? 24f : 31f) * build;
            var radiusY = (thoracic ? 16f : 22f) * build;
            // Thoracic erector spinae lie behind the ribs' angles, leaving the lungs' paravertebral gutters in front of them.
            var centreY = v.Depth / 2 + CanalDepth(v) + (thoracic ? 21 : 18);
            var halfLength = (v.Height + v.DiscBelowMm) / 2 + 1.5f;
            for (var side = -1; side <= 1; side += 2)
            {
                var frame = new Frame(v.Frame.ToWorld(new Vector3(side * (radiusX + 5), centreY, -v.DiscBelowMm / 2)), v.Frame.AxisX, v.Frame.AxisY, v.Frame.AxisZ);
                var muscle = new EllipticCylinder(frame, radiusX, radiusY, halfLength);
                Add("paraspinal fat sheath", new Offset(muscle, 2.5f), Fill.Uniform(fatHu, TissueClass.Fat));
                Add("paraspinal muscle", muscle, Fill.Uniform(muscleHu, TissueClass.SoftTissue));
            }
        }
    }
}
