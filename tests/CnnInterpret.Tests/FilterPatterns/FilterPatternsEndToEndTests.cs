using System.Text.Json;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.GradCam;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.FilterPatterns;

/// <summary>Filter patterns as a user gets them: the CLI's files and the daemon's explain/filterPatterns, both cached on disk.</summary>
public sealed class FilterPatternsEndToEndTests
{
    [Fact]
    public void Cli_writes_the_grid_one_png_per_channel_the_npy_and_activations_then_reads_them_from_the_cache()
    {
        var cache = Repo.TempDir();
        var outDir = Repo.TempDir();
        var (code, stdout, stderr) = GradCamEndToEndTests.RunCli(cache, "explain", "--method", "filter-patterns", "--layer", "block2_conv1",
            "--channels", "3-6", "--preset", "classic", "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Contains("0 from the cache", stdout);
        var (pixels, shape) = NpyReader.ReadFloats(Path.Combine(outDir, "filter-patterns.npy"));
        Assert.Equal([4, 1, 28, 28], shape);
        Assert.All(pixels, v => Assert.InRange(v, 0f, 1f));
        foreach (var c in new[] { 3, 4, 5, 6 }) Assert.True(File.Exists(Path.Combine(outDir, $"channel-{c}.png")));
        Assert.True(File.Exists(Path.Combine(outDir, "filter-patterns.png")));
        var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "result.json"))).RootElement;
        Assert.Equal("classic", result.GetProperty("preset").GetString());
        Assert.Equal(30, result.GetProperty("steps").GetInt32());
        Assert.Equal(32, result.GetProperty("forwardPasses").GetInt32());
        var patterns = result.GetProperty("patterns").EnumerateArray().ToList();
        Assert.Equal([3, 4, 5, 6], patterns.Select(p => p.GetProperty("channel").GetInt32()));
        Assert.All(patterns, p => Assert.True(p.GetProperty("activationAfter").GetSingle() > p.GetProperty("activationBefore").GetSingle()));

        var again = Repo.TempDir();
        (code, stdout, stderr) = GradCamEndToEndTests.RunCli(cache, "explain", "--method", "filter-patterns", "--layer", "features.5",
            "--channels", "3-6", "--preset", "classic", "--out", again);
        Assert.True(code == 0, stderr);
        Assert.Contains("4 from the cache", stdout);
        Assert.Equal(File.ReadAllBytes(Path.Combine(outDir, "filter-patterns.npy")), File.ReadAllBytes(Path.Combine(again, "filter-patterns.npy")));
        Assert.Equal(0, JsonDocument.Parse(File.ReadAllText(Path.Combine(again, "result.json"))).RootElement.GetProperty("forwardPasses").GetInt32());
    }

    [Fact]
    public void Cli_refuses_an_image_and_an_unknown_preset()
    {
        var (code, _, stderr) = GradCamEndToEndTests.RunCli(Repo.TempDir(), "explain", Path.Combine(Repo.Samples, "bag-0.png"), "--method", "filter-patterns",
            "--layer", "features.0", "--out", Repo.TempDir());
        Assert.Equal(64, code);
        Assert.Contains("takes no IMAGE", stderr);
        (code, _, stderr) = GradCamEndToEndTests.RunCli(Repo.TempDir(), "explain", "--method", "filter-patterns", "--layer", "features.0", "--preset", "fancy", "--out", Repo.TempDir());
        Assert.Equal(64, code);
        Assert.StartsWith("error: Unknown filter-pattern preset 'fancy'. Use one of: readable, classic, fast.", stderr);
    }

    [Fact]
    public async Task Daemon_reports_progress_per_step_and_answers_a_repeat_from_the_cache()
    {
        await using var daemon = new DaemonProcess(new Dictionary<string, string> { ["CNN_INTERPRET_CACHE"] = Repo.TempDir() });
        var id = await daemon.SendAsync("explain/filterPatterns", new { layer = "features.7", channels = new[] { 1, 2, 3 }, steps = 12, seed = 3, raw = true, workDoneToken = "fp-1" });
        var progress = new List<JsonElement>();
        JsonElement response;
        while (true)
        {
            var message = await daemon.ReadAsync();
            if (message.TryGetProperty("id", out var got) && got.ValueKind == JsonValueKind.Number && got.GetInt32() == id)
            {
                response = message;
                break;
            }
            Assert.Equal("$/progress", message.GetProperty("method").GetString());
            progress.Add(message.GetProperty("params"));
        }
        Assert.False(response.TryGetProperty("error", out var error), error.ToString());
        var result = response.GetProperty("result");
        Assert.NotEmpty(progress);
        Assert.All(progress, p => Assert.Equal("fp-1", p.GetProperty("token").GetString()));
        Assert.Equal("begin", progress[0].GetProperty("value").GetProperty("kind").GetString());
        Assert.Equal("end", progress[^1].GetProperty("value").GetProperty("kind").GetString());
        Assert.Equal("readable", result.GetProperty("preset").GetString());
        Assert.Equal(12, result.GetProperty("steps").GetInt32());
        Assert.Equal(14, result.GetProperty("forwardPasses").GetInt32());
        Assert.Equal([3, 1, 28, 28], result.GetProperty("raw").GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(1, result.GetProperty("pageCount").GetInt32());

        var repeat = await daemon.ResultAsync("explain/filterPatterns", new { layer = "block2_conv2", channels = new[] { 3, 2, 1 }, steps = 12, seed = 3 });
        Assert.Equal(0, repeat.GetProperty("forwardPasses").GetInt32());
        Assert.All(repeat.GetProperty("patterns").EnumerateArray(), p => Assert.True(p.GetProperty("fromCache").GetBoolean()));

        var page = await daemon.ErrorAsync("explain/filterPatterns", new { layer = "features.7", page = 1 });
        Assert.Contains("page 1 does not exist", page.Message);
        var channel = await daemon.ErrorAsync("explain/filterPatterns", new { layer = "features.7", channels = new[] { 32 } });
        Assert.Contains("channels 0–31", channel.Message);
    }
}
