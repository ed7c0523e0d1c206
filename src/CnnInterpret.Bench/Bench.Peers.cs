using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Core.Caching;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Bench;

public static partial class Bench
{
    private const string PeerCamLayer = "features.29", PeerPatternLayer = "features.28";

    /// <summary>
    /// The physical limit beside our figures: the same arithmetic in plain PyTorch (scripts/bench-pytorch.py on
    /// Debian's python3-torch, a child process of this run, same VGG16 weights, same photo, same thread count), and
    /// our time ÷ PyTorch's for each view. Then 64 fast filter patterns of features.28 from a cold cache beside
    /// 64 × PyTorch's time for one channel's 30 classic steps (target: under 60 s on a quiet 2-core machine).
    /// Needs torchvision VGG16 weights (--weights FILE, else the seed-0 fixture scripts/test-deps.sh makes).
    /// </summary>
    private static void BenchPeers(bool json, List<string> images, string? weights, int patternChannels)
    {
        void Say(string line) { if (!json) Console.Out.WriteLine(line); }
        weights ??= FindVgg16Fixture();
        if (weights is null || !File.Exists(weights))
        {
            Say("skipped: no VGG16 weights (pass --weights FILE, or run scripts/test-deps.sh for the seed-0 fixture)");
            return;
        }
        using var engine = new Engine(new ModelRegistry(), new ActivationCache(budgetBytes: 0), ownsModels: true);
        var model = engine.GetModel(engine.Models.Register("vgg16", weights).Id);
        var image = images.FirstOrDefault() ?? Path.Combine(engine.Models.ModelsDirectory, "samples", "photos", "dog.jpg");
        var script = Path.Combine(Path.GetDirectoryName(engine.Models.ModelsDirectory)!, "scripts", "bench-pytorch.py");
        var threads = get_num_threads();
        var runs = 5;
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
        Say($"VGG16 ({Path.GetFileName(weights)}), {Path.GetFileName(image)}, {threads} threads, load average {load} (ratios come from this one run)");

        // PyTorch first, then ours: each figure is a median of a few runs after a warm-up.
        var peer = RunPeer(script, weights, image, threads, runs);
        var pattern = model.GetLayer(PeerPatternLayer);
        using var decoded = ImageLoader.Load(image, background: model.Input.Background);
        using var input = ImagePreprocessor.Prepare(decoded.Pixels, model.Input);
        var ours = new Dictionary<string, double>
        {
            ["forwardBatch8"] = MedianOf(runs, () =>
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                model.Forward(input.ToBatch().expand(8, -1, -1, -1).contiguous());
            }),
            ["forwardBackward"] = MedianOf(runs, () =>
            {
                using var scope = NewDisposeScope();
                var x = input.ToBatch().requires_grad_(true);
                autograd.grad([model.ForwardTo(x, pattern.Name)[0, 0].mean()], [x]);
            }),
            ["gradCamNewImage"] = MedianOf(runs, () => engine.GradCam(model, image, PeerCamLayer, render: false)),
            ["ascent30"] = MedianOf(Math.Max(1, runs / 5), () =>
                engine.FilterPatterns(model, pattern.Name, [0], new FilterPatternOptions(FilterPatternPreset.Classic, 30, Size: 224, UseCache: false))),
        };
        var rows = new (string Key, string View)[]
        {
            ("forwardBatch8", "forward, batch 8"),
            ("forwardBackward", $"forward + backward to {pattern.Name}"),
            ("gradCamNewImage", $"grad-cam at {PeerCamLayer}, new image (decode + forward + backward)"),
            ("ascent30", $"filter pattern, 30 classic steps, 1 channel of {pattern.Name}"),
        };
        Say($"{"view",-64} {"ours ms",10} {"PyTorch ms",11} {"ratio",6}");
        foreach (var (key, view) in rows)
            Say($"{view,-64} {ours[key],10:F1} {peer[key],11:F1} {ours[key] / peer[key],6:F2}");

        // 64 channels, readable, cold: ours in one request, PyTorch's as 64 × its one-channel time (its ascent is one channel at a time).
        var channels = Enumerable.Range(0, patternChannels).ToArray();
        var clock = Stopwatch.StartNew();
        var patterns = engine.FilterPatterns(model, pattern.Name, channels, new FilterPatternOptions(FilterPatternPreset.Fast, UseCache: false));
        var patternsMs = clock.Elapsed.TotalMilliseconds;
        var peerPatternsMs = peer["ascent30"] * patternChannels;
        var meanReached = patterns.Patterns.Average(p => p.ActivationAfter);
        Say($"{$"filter patterns, fast ({patterns.Steps} steps), {patternChannels} channels of {pattern.Name}, cold",-64} {patternsMs,10:F0} " +
            $"{peerPatternsMs,11:F0} {patternsMs / peerPatternsMs,6:F2}   (PyTorch: {patternChannels} × one channel's 30 classic steps; " +
            $"mean activation reached {meanReached:F3}; quiet 2 cores: target < 60 s)");
        if (json)
            Output.WriteJson(new
            {
                model = model.Id, weights = Path.GetFileName(weights), image = Path.GetFileName(image), threads, loadAverage = load,
                views = rows.Select(r => new { view = r.View, oursMs = Math.Round(ours[r.Key], 1), pytorchMs = Math.Round(peer[r.Key], 1), ratio = Math.Round(ours[r.Key] / peer[r.Key], 2) }),
                filterPatterns = new { channels = patternChannels, layer = pattern.Name, preset = patterns.Preset, steps = patterns.Steps, oursMs = Math.Round(patternsMs),
                    pytorchMs = Math.Round(peerPatternsMs), ratio = Math.Round(patternsMs / peerPatternsMs, 2), meanActivationReached = Math.Round(meanReached, 4) },
            });
    }

    private static double MedianOf(int runs, Action action)
    {
        action(); // warm-up
        return Median(Enumerable.Range(0, runs).Select(_ => Time(action)).ToArray());
    }

    /// <summary>scripts/bench-pytorch.py's medians (ms); its failure is this bench's failure, with PyTorch's own message.</summary>
    private static Dictionary<string, double> RunPeer(string script, string weights, string image, int threads, int runs)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, weights, image, PeerPatternLayer.Split('.')[1], PeerCamLayer.Split('.')[1], threads.ToString(CultureInfo.InvariantCulture), runs.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        start.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start /usr/bin/python3");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"bench-pytorch.py failed ({process.ExitCode}); Debian's python3-torch and python3-torchvision are needed: {stderr.Result}");
        using var document = JsonDocument.Parse(stdout);
        return document.RootElement.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number)
            .ToDictionary(p => p.Name, p => p.Value.GetDouble());
    }

    /// <summary>The seed-0 VGG16 checkpoint scripts/test-deps.sh makes, if it is there.</summary>
    private static string? FindVgg16Fixture()
    {
        var folder = Environment.GetEnvironmentVariable("CNN_INTERPRET_TEST_FIXTURES") is { Length: > 0 } f ? f
            : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "cnn-interpret", "test-fixtures");
        return Directory.Exists(folder) ? Directory.GetFiles(folder, "vgg16-*.pth").Order().FirstOrDefault() : null;
    }
}
