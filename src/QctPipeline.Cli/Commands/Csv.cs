using System.Globalization;

namespace QctPipeline.Cli.Commands;

/// <summary>RFC 4180 fields for the CSV outputs (history, batch summary).</summary>
internal static class Csv
{
    public static string? Number(double? value) => value?.ToString("0.###", CultureInfo.InvariantCulture);

    public static string Bool(bool value) => value ? "true" : "false";

    /// <summary>Quoted when it holds a comma, quote or line break; a leading = + - @ is neutralised so a spreadsheet never runs it as a formula.</summary>
    public static string Field(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        var safe = value[0] is '=' or '+' or '@' || (value[0] == '-' && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) ? "'" + value : value;
        return safe.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + safe.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : safe;
    }

    public static string Row(IEnumerable<string?> fields) => string.Join(',', fields.Select(Field)) + "\r\n";
}
