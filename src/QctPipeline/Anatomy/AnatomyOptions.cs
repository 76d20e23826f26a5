namespace QctPipeline.Anatomy;

/// <summary>
/// The constants of the image analysis of the spine, with where each comes from. Measured on the real series in
/// ../shared/realdata (LIDC-IDRI 0001, CPTAC B70f, TotalSegmentator's J2K spine, TPTBox's lumbar crop) and on phantoms;
/// decision 0012 records the figures.
/// </summary>
public sealed record AnatomyOptions
{
    /// <summary>In-plane pixel (mm) of the grid the canal is tracked on: the canal is 12–20 mm wide in adults.</summary>
    public double TrackingPixelMm { get; init; } = 2;

    /// <summary>Slab thickness (mm) the canal is tracked on; thinner series are averaged to it.</summary>
    public double TrackingSlabMm { get; init; } = 4;

    /// <summary>Air and lung end here (HU): the trunk is the largest region above it.</summary>
    public double TrunkHu { get; init; } = -400;

    /// <summary>
    /// Dense bone around the canal (HU, on 2 mm pixels): pedicles, laminae and the posterior wall. Above the
    /// trabecular range so that marrow never counts, and contrast-filled vessels, which reach 400 HU and more in the
    /// arterial phase (LIDC 0001's aorta: 396 HU median), are told apart by their core, not by this threshold.
    /// </summary>
    public double CanalWallHu { get; init; } = 300;

    /// <summary>Canal content (HU): cerebrospinal fluid and cord, 0–40 HU, with partial volume; mediastinal fat (−100) is not canal.</summary>
    public double CanalContentMinHu { get; init; } = -40;

    /// <summary>Upper end of the canal content range (HU).</summary>
    public double CanalContentMaxHu { get; init; } = 120;

    /// <summary>Half-width (mm) of the canal's core, which must hold canal content.</summary>
    public double CanalCoreMm { get; init; } = 4;

    /// <summary>Inner half-width (mm) of the ring of bone around the canal.</summary>
    public double CanalRingInnerMm { get; init; } = 7;

    /// <summary>Outer half-width (mm) of the ring of bone around the canal.</summary>
    public double CanalRingOuterMm { get; init; } = 15;

    /// <summary>
    /// The canal lies behind the middle of the trunk: candidates in front of this fraction of the trunk's depth
    /// (measured from the front) are not considered, and the prior rises to 1 over the next <see cref="CanalPriorRampFraction"/>.
    /// Keeps the superior vena cava and a contrast-filled aortic arch, ring-like in a slice, out of the track.
    /// </summary>
    public double CanalMinDepthFraction { get; init; } = 0.45;

    /// <summary>See <see cref="CanalMinDepthFraction"/>.</summary>
    public double CanalPriorRampFraction { get; init; } = 0.15;

    /// <summary>The canal lies within this fraction of the trunk's width from its middle (half of the middle 60 %).</summary>
    public double CanalMaxLateralFraction { get; init; } = 0.3;

    /// <summary>Candidate canal positions kept per slab (local maxima of the score, 10 mm apart).</summary>
    public int CanalCandidates { get; init; } = 10;

    /// <summary>
    /// Cost of the canal moving sideways between slabs: per (mm of in-plane shift per mm along the spine) beyond
    /// <see cref="CanalFreeSlope"/>, squared. The spine's steepest adult curve (lumbosacral lordosis) stays near a slope of 1.
    /// </summary>
    public double CanalShiftCost { get; init; } = 0.05;

    /// <summary>In-plane shift per mm along the spine that costs nothing (natural curvature).</summary>
    public double CanalFreeSlope { get; init; } = 0.4;

    /// <summary>Cost of starting or ending the track (the scan runs past the spine, or a slab lacks any candidate).</summary>
    public double CanalGapCost { get; init; } = 3;

    /// <summary>Bone (HU) of the vertebral body's cortex and endplates when the body is outlined in a slice (after 0.8 mm smoothing).</summary>
    public double BodyBoneHu { get; init; } = 150;

    /// <summary>Radius (mm) of the body's central cylinder whose mean HU profile shows the discs.</summary>
    public double CoreRadiusMm { get; init; } = 10;

    /// <summary>
    /// Adult vertebral pitch (body plus disc, mm) along the spine: about 20 mm at T1–T4, 25–30 at T10–T12, 30–40 in the
    /// lumbar spine (Panjabi et al., Spine 1991;16:888 and 1992;17:299). Discs are never closer than this …
    /// </summary>
    public double MinPitchMm { get; init; } = 17;

    /// <summary>… nor further apart than this.</summary>
    public double MaxPitchMm { get; init; } = 45;

    /// <summary>Cost of a change between successive pitches, per squared log ratio: neighbouring vertebrae differ by a few per cent.</summary>
    public double PitchChangeCost { get; init; } = 8;

    /// <summary>A disc must stand out by this fraction of the scan's strong disc signals (their 90th percentile) to be worth a vertebra.</summary>
    public double DiscEvidenceCost { get; init; } = 0.3;

    /// <summary>
    /// A vertebra cut by the scan's end is named only when at least this much of it (mm along the spine, from its disc)
    /// is in view: less is mostly half a disc. TotalSegmentator's 40 mm series ends 6 mm above the T11/T12 disc; that
    /// sliver's centre lay in the disc, outside T11's label, yet it stays in the column, since its localizer label is
    /// what names T12 below it.
    /// </summary>
    public double MinNamedCutVertebraMm { get; init; } = 10;

    /// <summary>
    /// A vertebra's pitch is about this fraction of its body's width, from T1 to L5: 0.56–0.78 (median 0.70) on LIDC-IDRI
    /// 0001 and CPTAC's chest CT, 0.73–0.98 on the phantoms. Half that means a body's middle taken for a disc.
    /// </summary>
    public double PitchPerBodyWidth { get; init; } = 0.75;

    /// <summary>
    /// Cost of a pitch unlike the bodies' width, per squared log ratio to <see cref="PitchPerBodyWidth"/> × width: 0.25
    /// at the real and phantom extremes, 1.2 for a pitch of half the width's (every body split in two).
    /// </summary>
    public double BodySizePitchCost { get; init; } = 3;

    /// <summary>Window (mm along the spine) of the running median over the bodies' widths: a few vertebrae, so disc slices and a misread outline do not count.</summary>
    public double BodyWidthWindowMm { get; init; } = 41;

    /// <summary>
    /// Cost (in units of a strong disc's gain) of a disc showing as a hump after one showing as a valley, or the reverse:
    /// a spine's discs show one way, so alternating kinds at half the pitch mark bodies' middles taken for discs.
    /// </summary>
    public double DiscKindChangeCost { get; init; } = 0.5;

    /// <summary>
    /// A disc whose signal (HU of its valley or hump) is below this barely shows: a 5 mm phantom's thoracolumbar discs at
    /// 110 mg/cm³ read 7–19 HU and their chain can fall half a vertebra off; real thoracolumbar discs read 23–134 HU
    /// (LIDC-IDRI 0001 at 2.5 mm, CPTAC's chest CT). With both discs of L1 this faint its limits are uncertain: review.
    /// </summary>
    public double FaintDiscSignalHu { get; init; } = 20;

    /// <summary>Disc signals are measured against at least this (HU): a scan with no clear disc must not make noise look like discs.</summary>
    public double MinDiscSignalHu { get; init; } = 40;

    /// <summary>Gaussian σ (mm) applied before outlining a body: the TPTBox crop's noise (σ ≈ 100 HU at 1.5 mm) needs it, thinner structures than 1 mm are not outlined.</summary>
    public double OutlineSmoothingMm { get; init; } = 1;

    /// <summary>Each plane's outline stays within this (mm) of the mid-body outline: bodies flare towards their endplates by a few mm.</summary>
    public double OutlineSectionToleranceMm { get; init; } = 4;

    /// <summary>Gaussian σ (mm) before the body's cross-section is found on a slice to place the centreline: enough to keep noise speckle (σ 100 HU in the TPTBox crop) from joining the body.</summary>
    public double BodyCentreSmoothingMm { get; init; } = 1.5;

    /// <summary>The body lies in front of this much (mm) in front of the canal's centre: the canal's radius, 6–9 mm in adults, less a margin.</summary>
    public double CanalFrontMm { get; init; } = 5;

    /// <summary>
    /// A body cross-section's outline must follow an edge at least this strong (mean HU lost per mm outwards): a cortex
    /// blurred over 1–2 mm drops 100–400 HU into the surrounding muscle and fat; a disc's annulus barely drops.
    /// </summary>
    public double MinBodyEdgeHuPerMm { get; init; } = 15;

    /// <summary>The outline is drawn this far (mm) inside the steepest outward fall of the smoothed cortex, which lies outside the bone's surface by about half the smoothing.</summary>
    public double OutlineInsetMm { get; init; } = 0.5;

    /// <summary>Rib bone (HU, 3 × 3-voxel mean) at slices up to 3 mm: a rib's cortex and marrow average 250–600 HU; muscle and fat never reach it.</summary>
    public double RibBoneHu { get; init; } = 200;

    /// <summary>Rib bone (HU) at thicker slices, where a 10 mm rib crossing a 5 mm slice obliquely is averaged with muscle.</summary>
    public double RibBoneThickSliceHu { get; init; } = 160;

    /// <summary>
    /// A rib is picked up this far (mm) beside the canal (each in turn), inside the scapula's medial border and where even a short
    /// 12th rib still runs; lumbar transverse processes (tips 35–50 mm from the midline, longest at L3) reach it too,
    /// and are told apart by their course (<see cref="RibMinRiseMm"/>).
    /// </summary>
    public int[] RibStartsMm { get; init; } = [45, 38];

    /// <summary>… and followed in to this far (mm) beside the canal, where its neck meets the transverse process and its head the body.</summary>
    public int RibAttachmentMm { get; init; } = 25;

    /// <summary>A bar thicker than this (mm along the spine) where the rib is picked up is not one rib (the scapula, the iliac wing).</summary>
    public double RibMaxThicknessMm { get; init; } = 25;

    /// <summary>Depth (mm) of the boxes on the canal's four sides that must hold bone: a pedicle is 5–10 mm wide, a lamina 5–8 mm thick.</summary>
    public double CanalQuadrantMm { get; init; } = 8;

    /// <summary>
    /// From where it is picked up to its attachment, a rib rises at least this much (mm) towards the head: the lower
    /// ribs descend 25–45° from the horizontal beside the spine, so 20 mm inwards rises 9–20 mm; a lumbar transverse
    /// process runs out level or slightly upwards.
    /// </summary>
    public double RibMinRiseMm { get; init; } = 4;

    /// <summary>A bar running out beyond this (mm beside the canal) is a rib whatever its course: lumbar transverse processes end by 50 mm.</summary>
    public int RibMinReachMm { get; init; } = 60;

    /// <summary>A rib's head lies about this far (mm) beside the canal's centre, at the body's posterolateral corner.</summary>
    public double RibHeadMm { get; init; } = 12;

    /// <summary>Bone must run unbroken beside the canal from here (mm; the body's side) …</summary>
    public int SacrumInnerMm { get; init; } = 20;

    /// <summary>… to here (mm; past the sacroiliac joints, 35–50 mm from the midline) for a sample to show the sacral alae and the ilium.</summary>
    public int SacrumOuterMm { get; init; } = 55;

    /// <summary>A break up to this long (mm) is the sacroiliac joint's space, 2–4 mm in adults, not soft tissue.</summary>
    public int SacrumMaxGapMm { get; init; } = 4;

    /// <summary>Share of a vertebra's samples (its middle 60 %) that must show it on both sides: L5, beside the iliac crests, shows it over its lower part only.</summary>
    public double SacrumMinShare { get; init; } = 0.7;

    /// <summary>The alae and iliac wings beside S1 stand at least this tall (mm along the spine); a rib is a bar of 10–15 mm.</summary>
    public double SacrumMinRunMm { get; init; } = 25;

    /// <summary>
    /// Fluid regions an outline must not cross: mean HU at least this (contrast-filled vessels 150–600 HU; bone marrow
    /// reads as much, but not evenly) …
    /// </summary>
    public double FluidMinHu { get; init; } = 130;

    /// <summary>… with a standard deviation under this (HU, after 1 mm smoothing) over a box of <see cref="FluidWindowMm"/>: trabecular bone and cortex vary far more …</summary>
    public double FluidMaxSpreadHu { get; init; } = 35;

    /// <summary>Side of the box (mm) the evenness is measured over.</summary>
    public double FluidWindowMm { get; init; } = 5;

    /// <summary>… covering at least this (mm²): the aorta's lumen is 300–700 mm².</summary>
    public double FluidMinAreaMm2 { get; init; } = 80;

    /// <summary>The fluid region grown by this (mm): its measured core stops half a box short of the vessel's wall.</summary>
    public double FluidMarginMm { get; init; } = 3;

    /// <summary>
    /// No radius of a body's mid-section outline may exceed its median radius by more than this factor: a lumbar body's
    /// half-width is about 1.3 times its half-depth, while LIDC-IDRI 0001's T11 outline reached 25 mm forward into the
    /// tissue before its aorta (median radius 15 mm) and its anterior height read 14 mm for 26.
    /// </summary>
    public double MaxRadiusOverMedian { get; init; } = 1.4;

    /// <summary>A fluid region reaching within this (mm) of the body's centre is the body's own even marrow, not a vessel.</summary>
    public double FluidCentreClearanceMm { get; init; } = 8;
}
