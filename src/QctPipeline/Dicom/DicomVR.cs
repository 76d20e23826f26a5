namespace QctPipeline.Dicom;

/// <summary>A value representation: the two ASCII letters packed big-endian into a ushort.</summary>
public readonly record struct DicomVR(ushort Code)
{
    public static DicomVR FromLetters(byte first, byte second) => new((ushort)((first << 8) | second));

    private static DicomVR Of(string letters) => FromLetters((byte)letters[0], (byte)letters[1]);

    public static readonly DicomVR None = new(0);
    public static readonly DicomVR AE = Of("AE");
    public static readonly DicomVR AS = Of("AS");
    public static readonly DicomVR AT = Of("AT");
    public static readonly DicomVR CS = Of("CS");
    public static readonly DicomVR DA = Of("DA");
    public static readonly DicomVR DS = Of("DS");
    public static readonly DicomVR DT = Of("DT");
    public static readonly DicomVR FD = Of("FD");
    public static readonly DicomVR FL = Of("FL");
    public static readonly DicomVR IS = Of("IS");
    public static readonly DicomVR LO = Of("LO");
    public static readonly DicomVR LT = Of("LT");
    public static readonly DicomVR OB = Of("OB");
    public static readonly DicomVR OD = Of("OD");
    public static readonly DicomVR OF = Of("OF");
    public static readonly DicomVR OL = Of("OL");
    public static readonly DicomVR OV = Of("OV");
    public static readonly DicomVR OW = Of("OW");
    public static readonly DicomVR PN = Of("PN");
    public static readonly DicomVR SH = Of("SH");
    public static readonly DicomVR SL = Of("SL");
    public static readonly DicomVR SQ = Of("SQ");
    public static readonly DicomVR SS = Of("SS");
    public static readonly DicomVR ST = Of("ST");
    public static readonly DicomVR SV = Of("SV");
    public static readonly DicomVR TM = Of("TM");
    public static readonly DicomVR UC = Of("UC");
    public static readonly DicomVR UI = Of("UI");
    public static readonly DicomVR UL = Of("UL");
    public static readonly DicomVR UN = Of("UN");
    public static readonly DicomVR UR = Of("UR");
    public static readonly DicomVR US = Of("US");
    public static readonly DicomVR UT = Of("UT");
    public static readonly DicomVR UV = Of("UV");

    private static readonly HashSet<DicomVR> Known =
    [
        AE, AS, AT, CS, DA, DS, DT, FD, FL, IS, LO, LT, OB, OD, OF, OL, OV, OW, PN, SH, SL, SQ, SS, ST, SV, TM, UC,
        UI, UL, UN, UR, US, UT, UV,
    ];

    public bool IsKnown => Known.Contains(this);

    /// <summary>Explicit-VR encodings give these a reserved 2 bytes and a 4-byte length (PS3.5 7.1.2).</summary>
    public bool HasLongLength =>
        this == OB || this == OD || this == OF || this == OL || this == OV || this == OW || this == SQ ||
        this == UC || this == UN || this == UR || this == UT || this == SV || this == UV;

    public override string ToString() => Code == 0 ? "--" : $"{(char)(Code >> 8)}{(char)(Code & 0xFF)}";
}
