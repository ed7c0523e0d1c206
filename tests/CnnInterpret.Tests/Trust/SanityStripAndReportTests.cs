using System.Text.RegularExpressions;
using CnnInterpret.Core;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Tests.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Tests.Trust;

/// <summary>The sanity strip's rank correlations, and the HTML report's scores under every view (issue 8).</summary>
public sealed class SanityStripAndReportTests
{
    /// <summary>True when the strip's pixels in the box where <paramref name="text"/> is drawn are exactly that text, drawn by the font.</summary>
    private static bool ShowsText(Image<Rgb24> strip, string text, int left, int top)
    {
        var width = BitmapFont.Measure(text, MapStrip.Scale) + MapStrip.Scale;
        var height = BitmapFont.GlyphHeight * MapStrip.Scale;
        using var expected = new Image<Rgb24>(width, height, MapStrip.Background);
        BitmapFont.Draw(expected, text, 0, 0, MapStrip.Scale, MapStrip.Text);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                if (strip[left + x, top + y] != expected[x, y]) return false;
        return true;
    }

    [Fact]
    public void The_correlation_note_reads_rho_with_two_decimals()
    {
        Assert.Equal("ρ 0.12", MapStrip.Correlation(0.1234));
        Assert.Equal("ρ -0.87", MapStrip.Correlation(-0.866));
        Assert.Equal("ρ 1.00", MapStrip.Correlation(1));
        Assert.Equal("ρ N/A", MapStrip.Correlation(double.NaN)); // a flat map has no ranking
        // The font draws ρ (a glyph of its own, not a blank or the capital P).
        using var rho = new Image<Rgb24>(8, 10, MapStrip.Background);
        BitmapFont.Draw(rho, "ρ", 0, 0, MapStrip.Scale, MapStrip.Text);
        using var p = new Image<Rgb24>(8, 10, MapStrip.Background);
        BitmapFont.Draw(p, "P", 0, 0, MapStrip.Scale, MapStrip.Text);
        var lit = 0;
        var differ = false;
        for (var y = 0; y < 10; y++)
            for (var x = 0; x < 8; x++)
            {
                if (rho[x, y] == MapStrip.Text) lit++;
                differ |= rho[x, y] != p[x, y];
            }
        Assert.Equal(6 * 4, lit); // 6 lit cells of the 3×5 glyph, 2×2 pixels each
        Assert.True(differ);
    }

    [Fact]
    public void The_strip_draws_each_note_under_its_map_and_only_the_note_changes_with_it()
    {
        using var picture = new Image<Rgb24>(28, 28, new Rgb24(90, 90, 90));
        var random = new Random(3);
        float[] Map() => Enumerable.Range(0, 28 * 28).Select(_ => (float)random.NextDouble()).ToArray();
        var (a, b) = (Map(), Map());
        using var first = Image.Load<Rgb24>(MapStrip.Render(picture, [(a, "original", "ρ 1.00"), (b, "fc3", "ρ 0.12")]));
        using var second = Image.Load<Rgb24>(MapStrip.Render(picture, [(a, "original", "ρ 1.00"), (b, "fc3", "ρ -0.87")]));
        using var plain = Image.Load<Rgb24>(MapStrip.Render(picture, [(a, "original"), (b, "fc3")]));

        Assert.Equal(plain.Height + MapStrip.LineHeight, first.Height); // one more line for the notes
        var (left, top) = MapStrip.LabelAt(1, 1);
        Assert.True(ShowsText(first, "ρ 0.12", left, top));
        Assert.True(ShowsText(second, "ρ -0.87", left, top));
        Assert.False(ShowsText(first, "ρ -0.87", left, top));
        (left, top) = MapStrip.LabelAt(1, 0);
        Assert.True(ShowsText(first, "FC3", left, top)); // the label stays above the note
        // Everything above the notes (the maps and their labels) is the same whatever the correlation.
        for (var y = 0; y < MapStrip.LabelAt(0, 1).Top; y++)
            for (var x = 0; x < first.Width; x++)
                Assert.Equal(first[x, y], second[x, y]);
    }

    [Fact]
    public void The_sanity_strip_shows_each_stages_rank_correlation()
    {
        using var engine = Repo.NewPrivateEngine();
        var result = engine.Sanity("fashion-vgg", Path.Combine(Repo.Samples, "bag-0.png"), new TrustRequest("grad-cam"), maxStages: 3);
        using var strip = Image.Load<Rgb24>(result.StripPng);
        var stages = result.Result.Stages;
        Assert.Equal(4, stages.Count);
        for (var i = 0; i < stages.Count; i++)
        {
            var (left, top) = MapStrip.LabelAt(i, 1);
            Assert.True(ShowsText(strip, MapStrip.Correlation(stages[i].RankCorrelation), left, top),
                $"stage {i}: the strip does not show {MapStrip.Correlation(stages[i].RankCorrelation)}");
        }
        Assert.True(ShowsText(strip, "ρ 1.00", MapStrip.LabelAt(0, 1).Left, MapStrip.LabelAt(0, 1).Top));
        Assert.Contains(stages.Skip(1), s => s.RankCorrelation < 0.995); // not all "ρ 1.00": the notes follow the maps
    }

    private static (int Code, string Stdout, string Stderr) Cli(params string[] args) => CliProcess.Run(args);

    [Fact]
    public void Images_that_differ_only_in_extension_get_their_own_pages()
    {
        var folder = Repo.TempDir();
        File.Copy(Path.Combine(Repo.Samples, "bag-0.png"), Path.Combine(folder, "same.png"));
        using (var image = Image.Load(Path.Combine(Repo.Samples, "sandal-0.png")))
            image.SaveAsJpeg(Path.Combine(folder, "same.jpg"));
        var outDir = Repo.TempDir();
        var (code, _, stderr) = Cli("report", folder, "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(Path.Combine(outDir, "same-png", "index.html")));
        Assert.True(File.Exists(Path.Combine(outDir, "same-jpg", "index.html")));
        Assert.Contains("Bag", File.ReadAllText(Path.Combine(outDir, "same-png", "index.html")));
        Assert.Contains("Sandal", File.ReadAllText(Path.Combine(outDir, "same-jpg", "index.html")));
    }

    [Fact]
    public void A_folder_report_scores_every_view_and_lists_a_bad_image_without_a_page()
    {
        var folder = Repo.TempDir();
        File.Copy(Path.Combine(Repo.Samples, "sandal-0.png"), Path.Combine(folder, "a-sandal.png"));
        File.Copy(Path.Combine(Repo.Samples, "trouser-1.png"), Path.Combine(folder, "c-trouser.png"));
        File.WriteAllText(Path.Combine(folder, "b-broken.png"), "not a picture");
        var outDir = Repo.TempDir();

        var (code, stdout, stderr) = Cli("report", folder, "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Equal(Path.Combine(outDir, "index.html"), stdout.Trim());

        // The bad file: no folder left behind, a row saying why.
        Assert.False(Directory.Exists(Path.Combine(outDir, "b-broken")));
        var index = File.ReadAllText(Path.Combine(outDir, "index.html"));
        Assert.Matches("<tr class=\"failed\"><td></td><td>b-broken.png</td><td colspan=\"7\">skipped \\(BadImage\\): ", index);
        Assert.Contains("3 images, 1 skipped", index);

        // Each good image: every view scored in the index and under the view on its page.
        string[] methods = ["grad-cam", "grad-cam++", "lime", "kernel-shap", "gradient-shap"];
        Assert.Contains(string.Concat(methods.Select(m => $"<th>{m}</th>")), index);
        foreach (var page in new[] { "a-sandal", "c-trouser" })
        {
            var row = Regex.Match(index, $"<tr><td><a href=\"{page}/index.html\">.*?</tr>").Value;
            Assert.Equal(methods.Length, Regex.Count(row, @"<td>\d\.\d{3} / \d\.\d{3}<br>\d\.\d{3} / \d\.\d{3}</td>"));
            var html = File.ReadAllText(Path.Combine(outDir, page, "index.html"));
            var scores = Regex.Matches(html, "<div class=\"score\">deletion AUC (\\d\\.\\d{3}) \\(random (\\d\\.\\d{3})\\).*?<img src=\"(metrics-[a-z-]+\\.png)\"");
            Assert.Equal(["metrics-grad-cam.png", "metrics-grad-campp.png", "metrics-lime.png", "metrics-kernel-shap.png", "metrics-gradient-shap.png"],
                scores.Select(s => s.Groups[3].Value));
            Assert.All(scores, s => Assert.True(File.Exists(Path.Combine(outDir, page, s.Groups[3].Value))));
            Assert.Single(scores.Select(s => s.Groups[2].Value).Distinct()); // one random reference per image, shared by its views
            // The index shows the same numbers as the page.
            Assert.Contains($"<td>{scores[2].Groups[1].Value} / {scores[2].Groups[2].Value}<br>", row);
        }

        // The progress line counts each image's own forward passes (1: every feature map comes from the cache), in the singular.
        var passes = Regex.Matches(stderr, @"layers of feature maps from (\d+) forward (pass\w*)");
        Assert.Equal(2, passes.Count);
        Assert.All(passes, p => Assert.Equal(("1", "pass"), (p.Groups[1].Value, p.Groups[2].Value)));
        Assert.Contains("1 of 3 images skipped", stderr);
    }

    [Fact]
    public void A_single_bad_image_report_fails_without_creating_its_folder()
    {
        var bad = Path.Combine(Repo.TempDir(), "broken.png");
        File.WriteAllText(bad, "not a picture");
        var outDir = Path.Combine(Repo.TempDir(), "report");
        var (code, _, stderr) = Cli("report", bad, "--out", outDir);
        Assert.NotEqual(0, code);
        Assert.StartsWith("error: ", stderr);
        Assert.False(Directory.Exists(outDir));
    }
}
