namespace QctPipeline.Dicom;

/// <summary>
/// The VRs an implicit-VR walk must know: sequences (to descend into defined-length ones) and the binary
/// elements whose byte order matters. Everything else is reported as UN and interpreted by the caller's request.
/// </summary>
internal static class ImplicitVRDictionary
{
    private static readonly Dictionary<DicomTag, DicomVR> Entries = new()
    {
        [DicomTag.PlanePositionSequence] = DicomVR.SQ,
        [DicomTag.PlaneOrientationSequence] = DicomVR.SQ,
        [DicomTag.PixelMeasuresSequence] = DicomVR.SQ,
        [DicomTag.PixelValueTransformationSequence] = DicomVR.SQ,
        [DicomTag.SharedFunctionalGroupsSequence] = DicomVR.SQ,
        [DicomTag.PerFrameFunctionalGroupsSequence] = DicomVR.SQ,
        [new DicomTag(0x0008, 0x1115)] = DicomVR.SQ, // ReferencedSeriesSequence
        [new DicomTag(0x0008, 0x1140)] = DicomVR.SQ, // ReferencedImageSequence
        [new DicomTag(0x0008, 0x9215)] = DicomVR.SQ, // DerivationCodeSequence
        [new DicomTag(0x0018, 0x9118)] = DicomVR.SQ, // CardiacSynchronizationSequence
        [new DicomTag(0x0018, 0x9301)] = DicomVR.SQ, // CTAcquisitionTypeSequence
        [new DicomTag(0x0018, 0x9304)] = DicomVR.SQ, // CTAcquisitionDetailsSequence
        [new DicomTag(0x0018, 0x9314)] = DicomVR.SQ, // CTReconstructionSequence
        [new DicomTag(0x0018, 0x9321)] = DicomVR.SQ, // CTExposureSequence
        [new DicomTag(0x0018, 0x9325)] = DicomVR.SQ, // CTXRayDetailsSequence
        [new DicomTag(0x0020, 0x9111)] = DicomVR.SQ, // FrameContentSequence
        [new DicomTag(0x0020, 0x9071)] = DicomVR.SQ, // FrameAnatomySequence
        [new DicomTag(0x0040, 0x0275)] = DicomVR.SQ, // RequestAttributesSequence
        [new DicomTag(0x0008, 0x9124)] = DicomVR.SQ, // DerivationImageSequence
        [new DicomTag(0x0028, 0x3010)] = DicomVR.SQ, // VOILUTSequence
        [new DicomTag(0x0028, 0x9132)] = DicomVR.SQ, // FrameVOILUTSequence
        [new DicomTag(0x0040, 0xA730)] = DicomVR.SQ, // ContentSequence
        [DicomTag.Rows] = DicomVR.US,
        [DicomTag.Columns] = DicomVR.US,
        [DicomTag.SamplesPerPixel] = DicomVR.US,
        [DicomTag.BitsAllocated] = DicomVR.US,
        [DicomTag.BitsStored] = DicomVR.US,
        [DicomTag.HighBit] = DicomVR.US,
        [DicomTag.PixelRepresentation] = DicomVR.US,
        [DicomTag.PixelData] = DicomVR.OW,
    };

    public static DicomVR Lookup(DicomTag tag) => Entries.TryGetValue(tag, out var vr) ? vr : DicomVR.UN;
}
