using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>The thorax: diaphragm, lungs, heart, mediastinum and pulmonary vessels.</summary>
public sealed partial class PhantomAnatomy
{

    private void BuildThorax()
    {
        var random = PhantomRandom.Stream(options.Seed, "anatomy/thorax");
        var cavityShape = new TrunkLayer(cavity, 0, 0, 0, false, false, BottomZ, TopZ);
        var t9 = VertebraAbove("L1", 4);
        var lungDensity = random.Uniform(0.13, 0.19);
        drawnParameters["lungDensity"] = lungDensity;

        Add("diaphragm", new Intersection(cavityShape, diaphragm.Above(-4)), Fill.Uniform(contrast.Hu(TissueKind.Muscle), TissueClass.SoftTissue));
        Add("lungs", new Intersection(cavityShape, diaphragm.Above(1)), Fill.Uniform(physics.Hu(MaterialLibrary.LungTissue, lungDensity), TissueClass.Lung, 12));

        // Mediastinum: fat around the heart, aorta, oesophagus and the front of the spine.
        var aboveDiaphragm = diaphragm.Above(-1);
        var front = cavity.At(t9.Frame.Origin.Z);
        var heartCentre = new Vector3(22 * build, front.CentreY - front.HalfDepthFront * 0.35f, diaphragm.HighestPoint + 30);
        var heartFrame = Frame.Axial(heartCentre).Rotated(Quaternion.CreateFromAxisAngle(Vector3.UnitZ, 0.55f)).Rotated(Quaternion.CreateFromAxisAngle(Vector3.UnitY, -0.35f));
        var heart = new Ellipsoid(heartFrame, new Vector3(62, 46, 52) * build);
        Add("pericardial fat", new Intersection(new Offset(heart, 7), aboveDiaphragm), Fill.Uniform(physics.Hu(MaterialLibrary.Adipose) + 10, TissueClass.Fat, 8));
        Add("heart", new Intersection(heart, aboveDiaphragm), Fill.Uniform(contrast.Hu(TissueKind.Myocardium), TissueClass.SoftTissue));
        Add("cardiac chambers", new Intersection(new Offset(heart, -9), aboveDiaphragm), Fill.Uniform(contrast.Hu(TissueKind.ArterialBlood), TissueClass.SoftTissue));

        for (var index = 0; index < labels.RibPairs; index++)
        {
            var v = vertebrae[index];
            var mediastinum = new Ellipsoid(Frame.Axial(v.Frame.Origin + new Vector3(8, -v.Depth / 2 - 8, 0)), new Vector3(30, 26, v.Height + v.DiscBelowMm + 6));
            operations.Add(new PaintOperation("posterior mediastinum", new Intersection(mediastinum, aboveDiaphragm), Fill.Uniform(physics.Hu(MaterialLibrary.Adipose) + 15, TissueClass.Fat, 10)));
        }

        var oesophagus = Enumerable.Range(0, labels.RibPairs - 1).Select(index => vertebrae[index].Frame.Origin + new Vector3(index > labels.RibPairs - 4 ? 14 : 3, -vertebrae[index].Depth / 2 - 8, 0)).ToList();
        AddTube("oesophagus", oesophagus, oesophagus.Select(_ => 7.5f).ToList(), Fill.Uniform(contrast.Hu(TissueKind.BowelWall), TissueClass.SoftTissue));

        // Pulmonary vessels: tapering branches from each hilum down and out into the lower lobes, painted only over lung.
        var vesselHu = contrast.Hu(TissueKind.PulmonaryBlood);
        var hilumZ = vertebrae[Math.Max(0, labels.IndexOf("L1") - 7)].Frame.Origin.Z;
        for (var side = -1; side <= 1; side += 2)
        {
            var hilum = new Vector3(side * 55 * build, front.CentreY + 10, hilumZ);
            for (var branch = 0; branch < 45; branch++)
            {
                var start = hilum + new Vector3((float)random.Normal(0, 8), (float)random.Normal(0, 10), (float)random.Normal(0, 10));
                var direction = Vector3.Normalize(new Vector3(side * (float)random.Uniform(0.1, 0.9), (float)random.Uniform(-0.7, 0.9), -(float)random.Uniform(0.5, 1.3)));
                var radius = (float)random.Uniform(1.8, 4.5);
                for (var generation = 0; generation < 4; generation++)
                {
                    var length = (float)random.Uniform(25, 50);
                    var end = start + direction * length;
                    var endRadius = radius * 0.7f;
                    operations.Add(new PaintOperation("pulmonary vessel", new Capsule(start, end, radius, endRadius), Fill.Uniform(vesselHu, TissueClass.SoftTissue)) { Condition = PaintCondition.Over(TissueClass.Lung) });
                    if (generation > 0)
                    {
                        var twig = Vector3.Normalize(direction + new Vector3((float)random.NextGaussian(), (float)random.NextGaussian(), (float)random.NextGaussian()) * 0.8f);
                        operations.Add(new PaintOperation("pulmonary vessel", new Capsule(start, start + twig * length * 0.6f, endRadius * 0.8f, 0.6f), Fill.Uniform(vesselHu, TissueClass.SoftTissue)) { Condition = PaintCondition.Over(TissueClass.Lung) });
                    }

                    start = end;
                    radius = endRadius;
                    direction = Vector3.Normalize(direction + new Vector3((float)random.NextGaussian(), (float)random.NextGaussian(), (float)random.NextGaussian()) * 0.35f);
                }
            }
        }
    }
}
