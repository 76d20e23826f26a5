using System.Globalization;
using System.Net;
using System.Text;

namespace QctPipeline.Report;

/// <summary>One study in the cohort index: what the table shows and where its report is (relative to the index).</summary>
public sealed record CohortRow(string Patient, string? StudyDate, string? Level, double? VbmdMgPerCm3, string? Category, double? PercentChangeFromBaseline, bool Declined, string Status, string? ReportLink);

/// <summary>
/// The cohort's index.html: a histogram of vBMD coloured by ACR category and the studies' table, sortable by any
/// column (a few lines of inline script); self-contained like the study reports.
/// </summary>
public static class CohortIndexHtml
{
    public static string Render(string title, IReadOnlyList<CohortRow> rows, double declineThresholdPercent)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title>\n")
            .Append("<style>body{font-family:sans-serif;margin:24px}table{border-collapse:collapse}th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}")
            .Append("th{cursor:pointer;background:#f4f4f4}td.n{text-align:right}tr.decline td{background:#fde2e2}</style></head>\n<body>\n");
        html.Append("<h1>").Append(E(title)).Append("</h1>\n");
        var measured = rows.Where(r => r.VbmdMgPerCm3 is not null).ToList();
        html.Append("<p>").Append(rows.Count).Append(" studies, ").Append(measured.Count).Append(" with a vBMD; ")
            .Append(rows.Count(r => r.Declined)).Append(" declined ≥ ").Append(Number(declineThresholdPercent, "0.##")).Append(" % from their baseline.</p>\n");
        html.Append("<img alt=\"vBMD histogram by ACR category\" src=\"data:image/png;base64,")
            .Append(Convert.ToBase64String(Histogram([.. measured.Select(r => r.VbmdMgPerCm3!.Value)]).ToPng())).Append("\">\n");
        html.Append("<table id=\"studies\"><thead><tr>");
        foreach (var header in new[] { "patient", "date", "level", "vBMD mg/cm³", "category", "% from baseline", $"decline ≥ {Number(declineThresholdPercent, "0.##")} %", "status", "report" })
        {
            html.Append("<th>").Append(E(header)).Append("</th>");
        }

        html.Append("</tr></thead><tbody>\n");
        foreach (var r in rows)
        {
            html.Append(r.Declined ? "<tr class=\"decline\">" : "<tr>")
                .Append("<td>").Append(E(r.Patient)).Append("</td><td>").Append(E(r.StudyDate ?? "")).Append("</td><td>").Append(E(r.Level ?? ""))
                .Append("</td><td class=\"n\">").Append(Number(r.VbmdMgPerCm3, "0.0")).Append("</td><td>").Append(E(r.Category ?? ""))
                .Append("</td><td class=\"n\">").Append(Number(r.PercentChangeFromBaseline, "+0.0;-0.0")).Append("</td><td>").Append(r.Declined ? "yes" : "")
                .Append("</td><td>").Append(E(r.Status)).Append("</td><td>")
                .Append(r.ReportLink is { } link ? $"<a href=\"{E(link)}\">report</a>" : string.Empty).Append("</td></tr>\n");
        }

        html.Append("</tbody></table>\n<script>\n")
            .Append("document.querySelectorAll('#studies th').forEach(function(th,col){th.addEventListener('click',function(){")
            .Append("var body=document.querySelector('#studies tbody');var rows=Array.from(body.rows);var up=th.dataset.up!=='1';th.dataset.up=up?'1':'0';")
            .Append("rows.sort(function(a,b){var x=a.cells[col].textContent,y=b.cells[col].textContent,p=parseFloat(x),q=parseFloat(y);")
            .Append("var c=(!isNaN(p)&&!isNaN(q))?p-q:x.localeCompare(y);return up?c:-c;});rows.forEach(function(r){body.appendChild(r);});});});\n")
            .Append("</script>\n</body></html>\n");
        return html.ToString();
    }

    /// <summary>Counts of vBMD in 10 mg/cm³ bins from 0 to 300, each bar in its ACR category's colour.</summary>
    public static RenderedImage Histogram(IReadOnlyList<double> values)
    {
        const int width = 640, height = 240, left = 40, bottom = 32, top = 12, bins = 30;
        var image = new RenderedImage(width, height, 3, new byte[width * height * 3]);
        PixelFont.Fill(image, 0, 0, width, height, (255, 255, 255));
        var counts = new int[bins];
        foreach (var value in values)
        {
            counts[Math.Clamp((int)(value / 10), 0, bins - 1)]++;
        }

        var most = Math.Max(1, counts.Max());
        var barWidth = (width - left - 8) / bins;
        for (var bin = 0; bin < bins; bin++)
        {
            var barHeight = (int)Math.Round((height - top - bottom) * (double)counts[bin] / most);
            (byte, byte, byte) colour = bin * 10 < 80 ? ((byte)200, (byte)60, (byte)60) : bin * 10 < 120 ? ((byte)220, (byte)160, (byte)40) : ((byte)60, (byte)150, (byte)60);
            PixelFont.Fill(image, left + (bin * barWidth) + 1, height - bottom - barHeight, barWidth - 2, barHeight, colour);
        }

        PixelFont.Fill(image, left, height - bottom, width - left - 8, 1, (120, 120, 120));
        foreach (var mark in new[] { 0, 80, 120, 200, 300 })
        {
            PixelFont.Draw(image, mark.ToString(CultureInfo.InvariantCulture), left + (mark / 10 * barWidth) - 8, height - bottom + 6, 2, (60, 60, 60));
        }

        PixelFont.Draw(image, most.ToString(CultureInfo.InvariantCulture), 2, top, 2, (60, 60, 60));
        return image;
    }

    private static string Number(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? string.Empty;

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
