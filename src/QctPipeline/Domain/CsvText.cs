using System.Text;

namespace QctPipeline.Domain;

/// <summary>One CSV row and the line of the file it starts on (1-based).</summary>
public sealed record CsvRow(int Line, string[] Fields);

/// <summary>Reads the CSV manifests people write by hand (qct batch, qct eval-real).</summary>
public static class CsvText
{
    /// <summary>The rows' fields, trimmed; blank rows are skipped.</summary>
    public static List<string[]> Parse(string text) => [.. Rows(text).Select(row => row.Fields)];

    /// <summary>
    /// RFC 4180: fields separated by commas, optionally quoted with doubled quotes inside; CRLF or LF rows. Each row
    /// carries the 1-based line it starts on, so a message can point a person at it; blank rows are skipped.
    /// </summary>
    public static List<CsvRow> Rows(string text)
    {
        var rows = new List<CsvRow>();
        var line = 1;
        var rowLine = 1;
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var index = 0; index < text.Length; index++)
        {
            var c = text[index];
            if (c == '\n')
            {
                line++;
            }

            if (quoted)
            {
                if (c == '"' && index + 1 < text.Length && text[index + 1] == '"')
                {
                    field.Append('"');
                    index++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r')
                {
                    // CRLF is one line break, and so is a lone CR; the LF of a CRLF is consumed here.
                    index += index + 1 < text.Length && text[index + 1] == '\n' ? 1 : 0;
                    line++;
                }

                fields.Add(field.ToString());
                field.Clear();
                if (fields.Any(f => f.Length > 0))
                {
                    rows.Add(new CsvRow(rowLine, [.. fields.Select(f => f.Trim())]));
                }

                fields.Clear();
                rowLine = line;
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        if (fields.Any(f => f.Length > 0))
        {
            rows.Add(new CsvRow(rowLine, [.. fields.Select(f => f.Trim())]));
        }

        return rows;
    }
}
