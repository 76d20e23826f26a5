using System.Net;
using System.Text;

namespace QctPipeline.Report;

/// <summary>What one study's report shows; text is plain (encoded here), images PNG.</summary>
public sealed record StudyReportContent(
    string Title,
    string Headline,
    IReadOnlyList<(string Label, string Value)> Facts,
    string? ComparisonLine,
    IReadOnlyList<string> Flags,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<(string Caption, byte[] Png)> Figures);

/// <summary>
/// A study's report.html: one self-contained page (inline CSS, images as data: URIs, no script, nothing fetched), so it
/// opens from a PACS share, an e-mail or a USB stick the same way.
/// </summary>
public static class StudyReportHtml
{
    public static string Render(StudyReportContent content)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(content.Title)).Append("</title>\n")
            .Append("<style>body{font-family:sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:24px}")
            .Append(".headline{font-size:18px;font-weight:bold}.flag{display:inline-block;background:#c0392b;color:#fff;padding:2px 8px;margin:2px;border-radius:4px}")
            .Append("table{border-collapse:collapse}td{padding:2px 12px 2px 0;vertical-align:top}td.k{color:#555}")
            .Append("figure{display:inline-block;margin:0 16px 16px 0;vertical-align:top}figcaption{font-size:12px;color:#555}")
            .Append("li.warning{color:#7a4b00}</style></head>\n<body>\n");
        html.Append("<h1>").Append(E(content.Title)).Append("</h1>\n<p class=\"headline\">").Append(E(content.Headline)).Append("</p>\n");
        foreach (var flag in content.Flags)
        {
            html.Append("<span class=\"flag\">").Append(E(flag)).Append("</span>");
        }

        if (content.ComparisonLine is { } comparison)
        {
            html.Append("\n<h2>Change over time</h2>\n<p>").Append(E(comparison)).Append("</p>\n");
        }

        html.Append("<h2>Figures</h2>\n");
        foreach (var (caption, png) in content.Figures)
        {
            // Small CT images (a 256² series) are shown at twice their size, pixels kept square and sharp.
            var width = (png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19];
            var scale = width < 400 ? " style=\"width:" + (2 * width).ToString(System.Globalization.CultureInfo.InvariantCulture) + "px;image-rendering:pixelated\"" : string.Empty;
            html.Append("<figure><img").Append(scale).Append(" alt=\"").Append(E(caption)).Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png))
                .Append("\"><figcaption>").Append(E(caption)).Append("</figcaption></figure>\n");
        }

        html.Append("<h2>Measurement</h2>\n<table>\n");
        foreach (var (label, value) in content.Facts)
        {
            html.Append("<tr><td class=\"k\">").Append(E(label)).Append("</td><td>").Append(E(value)).Append("</td></tr>\n");
        }

        html.Append("</table>\n<h2>Warnings</h2>\n<ul>\n");
        foreach (var warning in content.Warnings)
        {
            html.Append("<li class=\"warning\">").Append(E(warning)).Append("</li>\n");
        }

        return html.Append("</ul>\n<p><small>QctPipeline: research software, not a medical device.</small></p>\n</body></html>\n").ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
