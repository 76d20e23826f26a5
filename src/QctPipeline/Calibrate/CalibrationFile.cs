using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using QctPipeline.Domain;

namespace QctPipeline.Calibrate;

/// <summary>A calibration file that cannot be read; the message is one line naming the file.</summary>
public sealed class CalibrationFileException(string message, Exception? inner = null) : Exception(message, inner);

public sealed record ScannerIdentity(string? Manufacturer, string? Model, string? SerialNumber);

/// <summary>An asynchronous calibration as stored: the line, how it was made, and the scan conditions it is valid for.</summary>
public sealed record CalibrationRecord
{
    public const int CurrentFormatVersion = 1;

    public int FormatVersion { get; init; } = CurrentFormatVersion;

    public required double InterceptHu { get; init; }

    public required double SlopeHuPerMgPerCm3 { get; init; }

    public double? R { get; init; }

    /// <summary>How the stored line was made (normally phantom).</summary>
    public required CalibrationMethod Method { get; init; }

    public required string Reference { get; init; }

    public IReadOnlyList<CalibrationPoint> Points { get; init; } = [];

    public IReadOnlyList<string> Warnings { get; init; } = [];

    public required ScannerIdentity Scanner { get; init; }

    public double? Kvp { get; init; }

    public string? Kernel { get; init; }

    /// <summary>Date of the phantom scan (StudyDate); the age of the calibration counts from it.</summary>
    public DateOnly? ScanDate { get; init; }

    public static CalibrationRecord From(Calibration calibration, SeriesMetadata metadata) => calibration.HasLine
        ? new CalibrationRecord
        {
            InterceptHu = calibration.InterceptHu,
            SlopeHuPerMgPerCm3 = calibration.SlopeHuPerMgPerCm3,
            R = calibration.R,
            Method = calibration.Method,
            Reference = calibration.Reference,
            Points = calibration.Points,
            Warnings = calibration.Warnings,
            Scanner = new ScannerIdentity(metadata.Manufacturer, metadata.ManufacturerModelName, metadata.DeviceSerialNumber),
            Kvp = metadata.Kvp,
            Kernel = metadata.ConvolutionKernel,
            ScanDate = metadata.StudyDate,
        }
        : throw new ArgumentException($"nothing to store: {calibration.NoneReason}", nameof(calibration));
}

/// <summary>
/// Asynchronous calibration files (JSON): save atomically, load with a one-line error naming the file, and pick the
/// file matching a series' scanner (manufacturer, model, serial when both state it), kVp and kernel.
/// </summary>
public static class CalibrationFile
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Writes to a temporary file beside the target, then renames it, so a reader never sees half a file.</summary>
    public static void Save(CalibrationRecord record, string path)
    {
        var full = Path.GetFullPath(path);
        var temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temporary, JsonSerializer.Serialize(record, JsonOptions));
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public static CalibrationRecord Load(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CalibrationFileException($"{path}: cannot read the calibration file: {ex.Message}", ex);
        }

        CalibrationRecord? record;
        try
        {
            record = JsonSerializer.Deserialize<CalibrationRecord>(json, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new CalibrationFileException($"{path}: not a calibration file: {ex.Message.Split('\n')[0]}", ex);
        }

        return record switch
        {
            null => throw new CalibrationFileException($"{path}: not a calibration file: empty JSON"),
            { FormatVersion: not CalibrationRecord.CurrentFormatVersion } => throw new CalibrationFileException(
                $"{path}: calibration file format {record.FormatVersion}, this program reads {CalibrationRecord.CurrentFormatVersion}"),
            _ when !double.IsFinite(record.SlopeHuPerMgPerCm3) || record.SlopeHuPerMgPerCm3 <= 0 || !double.IsFinite(record.InterceptHu) =>
                throw new CalibrationFileException(string.Create(CultureInfo.InvariantCulture, $"{path}: calibration slope {record.SlopeHuPerMgPerCm3} HU per mg/cm³ is not a positive number")),
            _ => record,
        };
    }

    /// <summary>A file, or every *.json file of a folder (not recursive), in name order.</summary>
    public static IReadOnlyList<(string Path, CalibrationRecord Record)> LoadAll(string fileOrFolder) =>
        Directory.Exists(fileOrFolder)
            ? [.. Directory.GetFiles(fileOrFolder, "*.json").Order(StringComparer.Ordinal).Select(file => (file, Load(file)))]
            : [(fileOrFolder, Load(fileOrFolder))];

    /// <summary>The matching calibration as an Async calibration (with an age warning when old), or method None saying why none matched.</summary>
    public static Calibration Match(IReadOnlyList<(string Path, CalibrationRecord Record)> files, SeriesMetadata metadata, CalibrationOptions options)
    {
        var rejections = new List<string>();
        var matches = new List<(string Path, CalibrationRecord Record)>();
        foreach (var (path, record) in files)
        {
            var mismatch = Mismatch(record, metadata);
            if (mismatch is null)
            {
                matches.Add((path, record));
            }
            else
            {
                rejections.Add($"{Path.GetFileName(path)}: {mismatch}");
            }
        }

        if (matches.Count == 0)
        {
            var why = rejections.Count == 0 ? "no calibration files" : string.Join("; ", rejections);
            return Calibration.None($"no calibration file matches this scanner, kVp and kernel ({why})", []);
        }

        // The newest calibration is the one closest to the scanner's present state.
        var (chosenPath, chosen) = matches.OrderByDescending(match => match.Record.ScanDate ?? DateOnly.MinValue).First();
        var warnings = new List<string>(chosen.Warnings.Select(w => $"from {Path.GetFileName(chosenPath)}: {w}"));
        if (chosen.ScanDate is { } calibrated && metadata.StudyDate is { } scanned)
        {
            var age = scanned.DayNumber - calibrated.DayNumber;
            if (age > options.MaxCalibrationAgeDays)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"calibration {Path.GetFileName(chosenPath)} is {age} days older than the scan (limit {options.MaxCalibrationAgeDays})"));
            }
            else if (age < 0)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"calibration {Path.GetFileName(chosenPath)} was made {-age} days after the scan"));
            }
        }
        else
        {
            warnings.Add($"age of calibration {Path.GetFileName(chosenPath)} unknown: scan or calibration date missing");
        }

        return new Calibration
        {
            Method = CalibrationMethod.Async,
            InterceptHu = chosen.InterceptHu,
            SlopeHuPerMgPerCm3 = chosen.SlopeHuPerMgPerCm3,
            R = chosen.R,
            Reference = $"{chosenPath} ({chosen.Reference}, {chosen.ScanDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "undated"})",
            Points = chosen.Points,
            Warnings = warnings,
        };
    }

    private static string? Mismatch(CalibrationRecord record, SeriesMetadata metadata)
    {
        static bool Same(string? a, string? b) => string.Equals(a?.Trim(), b?.Trim(), StringComparison.OrdinalIgnoreCase);
        if (!Same(record.Scanner.Manufacturer, metadata.Manufacturer) || !Same(record.Scanner.Model, metadata.ManufacturerModelName))
        {
            return $"scanner {record.Scanner.Manufacturer} {record.Scanner.Model}, series {metadata.Manufacturer} {metadata.ManufacturerModelName}";
        }

        if (record.Scanner.SerialNumber is not null && metadata.DeviceSerialNumber is not null && !Same(record.Scanner.SerialNumber, metadata.DeviceSerialNumber))
        {
            return $"serial {record.Scanner.SerialNumber}, series {metadata.DeviceSerialNumber}";
        }

        if (record.Kvp is null || metadata.Kvp is null || Math.Abs(record.Kvp.Value - metadata.Kvp.Value) > 0.5)
        {
            return string.Create(CultureInfo.InvariantCulture, $"kVp {record.Kvp?.ToString() ?? "unknown"}, series {metadata.Kvp?.ToString() ?? "unknown"}");
        }

        return Same(record.Kernel, metadata.ConvolutionKernel) ? null : $"kernel {record.Kernel}, series {metadata.ConvolutionKernel}";
    }
}
