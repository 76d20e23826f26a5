namespace QctPipeline.Segment;

/// <summary>Thresholds of the L1 stage; the defaults are what `qct segment` and `qct analyze` use.</summary>
public sealed record SegmentOptions
{
    /// <summary>
    /// A model whose manifest reports a lower held-out level accuracy is still in training: its results carry a warning.
    /// 99 % is the level accuracy issue 4 requires of a shipped model.
    /// </summary>
    public double MinModelLevelAccuracy { get; init; } = 0.99;

    /// <summary>Probability above which a series voxel belongs to L1 once mapped back from the localizer's grid (a model without a refiner).</summary>
    public float ProbabilityThreshold { get; init; } = 0.5f;

    /// <summary>Below this the result abstains ("no-l1") rather than name a vertebra L1.</summary>
    public double MinConfidence { get; init; } = 0.5;

    /// <summary>A level's component (whole vertebra) must be at least this big to count: smaller blobs are noise …</summary>
    public double MinVertebraMl { get; init; } = 3;

    /// <summary>… and at most this big: larger ones are several vertebrae run together.</summary>
    public double MaxVertebraMl { get; init; } = 250;

    /// <summary>A vertebral body slab of the body channel smaller than this is not counted as a vertebra.</summary>
    public double MinBodyMl { get; init; } = 1.5;

    /// <summary>A body slab taller than this is two bodies the coarse grid failed to separate; counting through it stops …</summary>
    public double MaxBodyHeightMm { get; init; } = 45;

    /// <summary>
    /// … and so does one shorter than this: a dip inside a body, not a vertebra, where the body channel is too uncertain
    /// to count through. Adult lumbar bodies are 25–30 mm tall; a fractured one keeps more than half of that.
    /// </summary>
    public double MinBodyHeightMm { get; init; } = 12;

    /// <summary>
    /// A slice is a disc between two bodies when its body-voxel count is a local minimum at most this fraction of the
    /// fuller slices on both sides. Measured on the shipped localizer over phantom spines: discs dip to 0.1–0.55 of
    /// the neighbouring bodies (T12/L1 the shallowest), slices inside a body vary by less than a third.
    /// </summary>
    public double DiscDipFraction { get; init; } = 0.65;

    /// <summary>Bodies counted up from the sacrum start this far above S1's centroid.</summary>
    public double MinBodySeparationMm { get; init; } = 10;

    /// <summary>A count agrees with the localizer when it lands this close to the localizer's L1 body centroid.</summary>
    public double CountAgreementMm { get; init; } = 12;

    /// <summary>The refiner's L1 further than this from the localizer's is a warning and lowers the confidence.</summary>
    public double RefinerShiftMm { get; init; } = 15;

    /// <summary>
    /// An L1 body reaching this close to the first or last slice is cut by the scan's edge: the refiner stops a slice or
    /// two short of an edge that cuts the body (a phantom L1 cut by 6 mm ended 1.25 mm inside the scan).
    /// </summary>
    public double ScanEndMarginMm { get; init; } = 3;

    /// <summary>
    /// The refiner's above-L1 and L2 bodies must lie within this of L1's centroid to be the next vertebra: the adult
    /// thoraco-lumbar pitch (body plus disc) is 25–42 mm, the phantoms' L1–L2 35–38 mm.
    /// </summary>
    public double MaxNeighbourDistanceMm { get; init; } = 50;

    /// <summary>Levels up to this many classes from L1 must lie on the right side of it and within reach …</summary>
    public int NeighbourLevels { get; init; } = 4;

    /// <summary>
    /// … of this many mm per class step: adult thoraco-lumbar body height plus disc is about 25–40 mm, and the class
    /// list holds T13 and L6, which a spine may lack, so one step can span two vertebrae.
    /// </summary>
    public double MaxLevelSpacingMm { get; init; } = 80;

    /// <summary>
    /// Two levels' body centroids closer than this along the patient's long axis are one vertebra given two names: thoraco-lumbar body height plus disc
    /// is 25–40 mm in adults, so half the smallest pitch. Seen where a scan ends inside L1 and the localizer squeezes
    /// T12, "L1" and "L2" into the last 35 mm, or called T12 "L1" with its own T12 label 8 mm above.
    /// </summary>
    public double MinLevelSpacingMm { get; init; } = 15;

    /// <summary>Confidence factor when no independent count confirms the localizer's L1.</summary>
    public double UnconfirmedLevelFactor { get; init; } = 0.85;
}
