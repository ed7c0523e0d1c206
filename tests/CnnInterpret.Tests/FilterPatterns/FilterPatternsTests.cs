using CnnInterpret.Core;
using CnnInterpret.Core.Caching;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Models;
using CnnInterpret.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Tests.FilterPatterns;

/// <summary>Filter patterns on fashion-vgg: they work, batching changes nothing, the disk cache answers without the network.</summary>
public sealed class FilterPatternsTests
{
    private static Engine NewEngine(string? cacheDir = null) => new(Repo.Registry) { PatternCache = new FilterPatternCache(cacheDir ?? Repo.TempDir()) };

    /// <summary>
    /// The pattern drives its channel far above where it starts (gray) and above where any of the 30 sample images
    /// drives it. (This model's block-3 conv channels have negative means on every real image, so "a factor" is
    /// measured as a rise and a margin over the best real image, not a ratio.)
    /// </summary>
    [Theory]
    [InlineData("readable", "features.12", new[] { 0, 5, 9, 17 })]
    [InlineData("classic", "features.12", new[] { 0, 5, 9, 17 })]
    [InlineData("readable", "features.8", new[] { 5, 9 })]
    [InlineData("classic", "features.8", new[] { 5, 9 })]
    public void The_optimised_channel_activation_rises_far_above_the_start_and_every_sample_image(string preset, string layer, int[] channels)
    {
        var engine = NewEngine();
        var result = engine.FilterPatterns("fashion-vgg", layer, channels, new FilterPatternOptions(preset, UseCache: false));
        Assert.Equal(channels, result.Channels);
        Assert.Equal([1, 28, 28], result.PatternShape);
        Assert.Equal(channels.Length * 28 * 28, result.Pixels.Length);
        Assert.All(result.Pixels, v => Assert.InRange(v, 0f, 1f));
        var samples = Directory.GetFiles(Repo.Samples, "*.png").Select(f => engine.Activations(Repo.FashionVgg, f).Layers[layer]).ToList();
        foreach (var p in result.Patterns)
        {
            var best = samples.Max(a => a.Data.AsSpan(p.Channel * a.Shape[1] * a.Shape[2], a.Shape[1] * a.Shape[2]).ToArray().Average());
            Assert.True(p.ActivationAfter - p.ActivationBefore > 0.2, $"{preset} {layer} channel {p.Channel}: {p.ActivationBefore} → {p.ActivationAfter}");
            Assert.True(p.ActivationAfter > best + 0.1, $"{preset} {layer} channel {p.Channel}: {p.ActivationAfter}, best sample image {best}");
        }
    }

    [Theory]
    [InlineData("readable")]
    [InlineData("classic")]
    public void A_batch_gives_what_one_channel_at_a_time_gives(string preset)
    {
        var engine = NewEngine();
        int[] channels = [3, 1, 40, 7, 22];
        var options = new FilterPatternOptions(preset, Steps: 20, Seed: 5, UseCache: false);
        var batched = engine.FilterPatterns("fashion-vgg", "features.10", channels, options);
        var single = engine.FilterPatterns("fashion-vgg", "features.10", channels, options with { BatchSize = 1 });
        Assert.Equal(batched.Channels, single.Channels);
        var worst = batched.Pixels.Zip(single.Pixels, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-4, $"largest pixel difference {worst}");
        Assert.Equal(batched.Patterns.Select(p => p.ActivationAfter), single.Patterns.Select(p => p.ActivationAfter),
            new Close(1e-3 * batched.Patterns.Max(p => Math.Abs(p.ActivationAfter))));
        // Not trivially equal: the channels' patterns differ from each other.
        Assert.NotEqual(batched.PixelsOf(0).ToArray(), batched.PixelsOf(1).ToArray());
    }

    [Fact]
    public void The_seed_decides_the_pattern()
    {
        var engine = NewEngine();
        var options = new FilterPatternOptions(Steps: 10, Seed: 1, UseCache: false);
        var a = engine.FilterPatterns("fashion-vgg", "features.5", [2], options);
        var b = engine.FilterPatterns("fashion-vgg", "features.5", [2], options);
        var c = engine.FilterPatterns("fashion-vgg", "features.5", [2], options with { Seed = 2 });
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.NotEqual(a.Pixels, c.Pixels);
    }

    [Fact]
    public void A_cache_hit_returns_identical_bytes_without_a_forward_pass()
    {
        var dir = Repo.TempDir();
        var first = NewEngine(dir);
        var options = new FilterPatternOptions("classic", Steps: 5);
        var computed = first.FilterPatterns("fashion-vgg", "block3_conv1", [0, 1, 2], options);
        Assert.Equal(5 + 2, computed.ForwardPasses); // one batch: before, 5 steps, after
        Assert.Equal(7, first.FilterPatternPasses);
        Assert.All(computed.Patterns, p => Assert.False(p.FromCache));
        Assert.Equal(3, Directory.GetFiles(dir, "*.pattern").Length);

        var second = NewEngine(dir); // a new process, as far as the cache can tell
        var cached = second.FilterPatterns("fashion-vgg", "block3_conv1", [2, 0, 1], options);
        Assert.Equal(0, second.FilterPatternPasses);
        Assert.Equal(0, cached.ForwardPasses);
        Assert.All(cached.Patterns, p => Assert.True(p.FromCache));
        Assert.Equal(computed.Pixels.AsSpan(2 * 784, 784).ToArray(), cached.PixelsOf(0).ToArray());
        var again = second.FilterPatterns("fashion-vgg", "block3_conv1", [0, 1, 2], options);
        Assert.Equal(computed.GridPng, again.GridPng);
        Assert.Equal(computed.Pixels, again.Pixels);
        Assert.Equal(computed.Patterns.Select(p => (p.ActivationBefore, p.ActivationAfter)), again.Patterns.Select(p => (p.ActivationBefore, p.ActivationAfter)));

        // Another preset, seed, step count or channel is another key: one new pattern is computed, the rest read.
        var mixed = second.FilterPatterns("fashion-vgg", "block3_conv1", [0, 3], options);
        Assert.Equal([true, false], mixed.Patterns.Select(p => p.FromCache));
        Assert.Equal(7, second.FilterPatternPasses);
        Assert.Equal(0, second.FilterPatterns("fashion-vgg", "block3_conv1", [0], options with { Seed = 1 }).Patterns.Count(p => p.FromCache));
    }

    [Fact]
    public void A_damaged_cache_file_is_recomputed()
    {
        var dir = Repo.TempDir();
        var options = new FilterPatternOptions("classic", Steps: 3);
        var computed = NewEngine(dir).FilterPatterns("fashion-vgg", "features.0", [4], options);
        var file = Directory.GetFiles(dir, "*.pattern").Single();
        File.WriteAllBytes(file, File.ReadAllBytes(file)[..40]);
        var engine = NewEngine(dir);
        var again = engine.FilterPatterns("fashion-vgg", "features.0", [4], options);
        Assert.False(again.Patterns[0].FromCache);
        Assert.Equal(computed.Pixels, again.Pixels);
        Assert.True(NewEngine(dir).FilterPatterns("fashion-vgg", "features.0", [4], options).Patterns[0].FromCache);
    }

    [Fact]
    public void Progress_is_reported_per_step_and_cancellation_stops_between_steps()
    {
        var engine = NewEngine();
        var reports = new List<ExplainProgress>();
        engine.FilterPatterns("fashion-vgg", "features.2", [0, 1], new FilterPatternOptions(Steps: 6, UseCache: false), new SyncProgress(reports.Add));
        Assert.Equal(Enumerable.Range(1, 6), reports.Select(r => r.Done));
        Assert.All(reports, r => Assert.Equal(6, r.Total));

        using var cancel = new CancellationTokenSource();
        var seen = 0;
        Assert.Throws<OperationCanceledException>(() => engine.FilterPatterns("fashion-vgg", "features.2", [0, 1], new FilterPatternOptions(Steps: 50, UseCache: false),
            new SyncProgress(r => { seen = r.Done; if (r.Done == 3) cancel.Cancel(); }), cancel.Token));
        Assert.Equal(3, seen);
    }

    [Fact]
    public void Bad_input_names_the_valid_choices()
    {
        var engine = NewEngine();
        var preset = Assert.Throws<CnnInterpretException>(() => engine.FilterPatterns("fashion-vgg", "features.12", [0], new FilterPatternOptions("pretty")));
        Assert.Equal(ErrorKind.InvalidArgument, preset.Kind);
        Assert.Contains("readable, classic", preset.Message);
        var channel = Assert.Throws<CnnInterpretException>(() => engine.FilterPatterns("fashion-vgg", "features.12", [3, 64]));
        Assert.Contains("channels 0–63; 64 is out of range", channel.Message);
        var page = Assert.Throws<CnnInterpretException>(() => Core.Explainers.FilterPatterns.Page(Repo.FashionVgg.GetLayer("features.12"), 1));
        Assert.Contains("1 page(s)", page.Message);
        Assert.Equal(ErrorKind.UnknownLayer, Assert.Throws<CnnInterpretException>(() => engine.FilterPatterns("fashion-vgg", "features.99", [0])).Kind);
        Assert.Contains("between 1 and 10000", Assert.Throws<CnnInterpretException>(() => engine.FilterPatterns("fashion-vgg", "features.0", [0], new FilterPatternOptions(Steps: 0))).Message);
    }

    /// <summary>Nothing past the layer runs: a counting module after it is never called.</summary>
    [Fact]
    public void The_network_is_cut_after_the_layer()
    {
        var counter = new CountingIdentity();
        var layers = new List<(string, string, string, string, Module<Tensor, Tensor>)>
        {
            ("features.0", "block1_conv1", "Conv2d", "block1", Conv2d(1, 4, 3, padding: 1)),
            ("features.1", "block1_conv1_relu", "ReLU", "block1", ReLU()),
            ("features.2", "probe", "Identity", "block1", counter),
            ("avgpool", "avgpool", "AdaptiveAvgPool2d", "head", AdaptiveAvgPool2d([1, 1])),
            ("flatten", "flatten", "Flatten", "head", Flatten()),
            ("classifier.0", "predictions", "Linear", "classifier", Linear(4, 2)),
        };
        using var model = new CnnModel("tiny-cut", "Tiny", new Preprocessing("gray", 8, [8, 8], [0.5f], [0.5f]), ["a", "b"], layers);
        counter.Calls = 0;
        var result = NewEngine().FilterPatterns(model, "features.0", [0, 1, 2, 3], new FilterPatternOptions(Steps: 4, UseCache: false));
        Assert.Equal(0, counter.Calls);
        Assert.Equal(4, result.Patterns.Count);
        NewEngine().FilterPatterns(model, "features.2", [0], new FilterPatternOptions(Steps: 4, UseCache: false));
        Assert.Equal(4 + 2, counter.Calls);
    }

    /// <summary>A small RGB network at 112 px: readable runs coarse to fine there (a quarter, half and the full side).</summary>
    private static CnnModel SmallRgb(string id, Action<Module<Tensor, Tensor>>? edit = null)
    {
        manual_seed(3);
        var conv = Conv2d(3, 4, 3, padding: 1);
        edit?.Invoke(conv);
        var layers = new List<(string, string, string, string, Module<Tensor, Tensor>)>
        {
            ("features.0", "block1_conv1", "Conv2d", "block1", conv),
            ("features.1", "block1_conv1_relu", "ReLU", "block1", ReLU()),
            ("features.2", "block1_conv2", "Conv2d", "block1", Conv2d(4, 4, 3, padding: 1)),
            ("features.3", "block1_conv2_relu", "ReLU", "block1", ReLU()),
            ("avgpool", "avgpool", "AdaptiveAvgPool2d", "head", AdaptiveAvgPool2d([1, 1])),
            ("flatten", "flatten", "Flatten", "head", Flatten()),
            ("classifier.0", "predictions", "Linear", "classifier", Linear(4, 2)),
        };
        return new CnnModel(id, id, new Preprocessing("rgb", 112, [112, 112], [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]), ["a", "b"], layers);
    }

    /// <summary>RGB Fourier patterns were NaN once (the colour matrix); fast ones, coarse to fine, must be finite and rise.</summary>
    [Fact]
    public void Fast_RGB_patterns_run_coarse_to_fine_finite_and_rising()
    {
        using var model = SmallRgb("small-rgb");
        var reports = new List<ExplainProgress>();
        var result = NewEngine().FilterPatterns(model, "features.2", [0, 1, 2, 3], new FilterPatternOptions("fast", UseCache: false), new SyncProgress(reports.Add));
        Assert.Equal(48, result.Steps);
        Assert.Equal([3, 112, 112], result.PatternShape);
        Assert.All(result.Pixels, v => Assert.True(float.IsFinite(v) && v is >= 0 and <= 1));
        Assert.All(result.Patterns, p => Assert.True(p.ActivationAfter > p.ActivationBefore, $"channel {p.Channel}: {p.ActivationBefore} → {p.ActivationAfter}"));
        Assert.All(result.Patterns, p => Assert.Null(p.Note));
        // One pass per step (four items fit one chunk) plus the before and after measurements.
        Assert.Equal(48 + 2, result.ForwardPasses);
        // Tiling up and restarting Adam are per item: one channel at a time gives the same patterns.
        var single = NewEngine().FilterPatterns(model, "features.2", [0, 1, 2, 3], new FilterPatternOptions("fast", BatchSize: 1, UseCache: false));
        Assert.True(result.Pixels.Zip(single.Pixels, (a, b) => Math.Abs(a - b)).Max() < 1e-4);
    }

    /// <summary>
    /// Readable (since its colour matrix was fixed, v2) and fast (tiled up, v2) compute other patterns than before for the
    /// same options: their cache names are new, so files cached under the old names ("readable", "fast") are never read.
    /// </summary>
    [Fact]
    public void Changed_presets_are_cached_under_new_names()
    {
        var names = FilterPatternPreset.All.ToDictionary(p => p.Name, p => p.CacheName);
        Assert.Equal("readable-v2", names["readable"]);
        Assert.Equal("fast-v2", names["fast"]);
        Assert.Equal("classic", names["classic"]);
    }

    /// <summary>A channel that cannot respond (zero weights and bias) keeps its start, with finite figures and a note.</summary>
    [Fact]
    public void A_dead_channel_gets_its_starting_pattern_finite_figures_and_a_note()
    {
        using var model = SmallRgb("small-rgb-dead", m =>
        {
            using var _ = no_grad();
            var conv = (TorchSharp.Modules.Conv2d)m;
            conv.weight![1].zero_();
            conv.bias![1].zero_();
        });
        foreach (var preset in new[] { "readable", "classic", "fast" })
        {
            var result = NewEngine().FilterPatterns(model, "features.0", [0, 1], new FilterPatternOptions(preset, Steps: 8, UseCache: false));
            var dead = result.Patterns[1];
            Assert.Equal(0f, dead.ActivationBefore);
            Assert.Equal(0f, dead.ActivationAfter);
            Assert.Contains("never responded", dead.Note);
            Assert.Null(result.Patterns[0].Note);
            Assert.All(result.Pixels, v => Assert.True(float.IsFinite(v)));
        }
    }

    /// <summary>Each finished batch is cached and reported at once; cancelling later keeps it, and the message says which.</summary>
    [Fact]
    public void A_cancelled_run_keeps_the_finished_batches_and_says_which()
    {
        var dir = Repo.TempDir();
        var options = new FilterPatternOptions("classic", Steps: 3, BatchSize: 2);
        using var cancel = new CancellationTokenSource();
        var partials = new List<FilterPatternsResult>();
        var error = Assert.Throws<OperationCanceledException>(() => NewEngine(dir).FilterPatterns("fashion-vgg", "features.2", [4, 5, 6, 7], options,
            new SyncProgress(r =>
            {
                if (r.Partial is FilterPatternsResult done) partials.Add(done);
                if (partials.Count > 0) cancel.Cancel();
            }), cancel.Token));
        Assert.Equal([4, 5], Assert.Single(partials).Channels);
        Assert.Contains("channel(s) 4–5 were done and are cached", error.Message);
        var again = NewEngine(dir).FilterPatterns("fashion-vgg", "features.2", [4, 5, 6, 7], options);
        Assert.Equal([true, true, false, false], again.Patterns.Select(p => p.FromCache));
        Assert.Equal(partials[0].PixelsOf(1).ToArray(), again.PixelsOf(1).ToArray());
    }

    /// <summary>
    /// Items per forward + backward: every layer up to the target keeps its output and gets a gradient (2 × 4 bytes per
    /// element), plus 16 bytes per input pixel and colour (pixels, transform, gradients). Small RGB at 112 px, to
    /// features.2: 3 × 4·112² elements → 1 204 224 B + 602 112 B; the default budget's batch share, 2 GiB ÷ 8 = 256 MiB,
    /// ÷ 1 806 336 B = 148.6. At 56 px, a quarter of both: 594.4.
    /// </summary>
    [Fact]
    public void Steps_run_in_chunks_that_fit_the_step_memory()
    {
        using var model = SmallRgb("small-rgb-chunks");
        Assert.Equal(Core.Memory.MemoryBudget.DefaultBytes, Core.Memory.MemoryBudget.Bytes);
        Assert.Equal(148, Core.Explainers.FilterPatterns.ChunkSize(model, model.GetLayer("features.2"), 112));
        Assert.Equal(594, Core.Explainers.FilterPatterns.ChunkSize(model, model.GetLayer("features.2"), 56));
    }

    private sealed class CountingIdentity() : Module<Tensor, Tensor>("CountingIdentity")
    {
        public int Calls;

        public override Tensor forward(Tensor input)
        {
            Calls++;
            return input.alias();
        }
    }

    private sealed class SyncProgress(Action<ExplainProgress> report) : IProgress<ExplainProgress>
    {
        public void Report(ExplainProgress value) => report(value);
    }

    private sealed class Close(double tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}

[Collection(SerialTorch.Name)]
public sealed class FilterPatternsMemoryTests
{
    [Fact]
    public void Requests_leave_no_live_tensors_behind()
    {
        var engine = new Engine(Repo.Registry) { PatternCache = new FilterPatternCache(Repo.TempDir()) };
        engine.FilterPatterns("fashion-vgg", "features.5", [0], new FilterPatternOptions(Steps: 2, UseCache: false)); // warm-up
        var before = LiveTensors.Count();
        foreach (var preset in new[] { "readable", "classic" })
        {
            engine.FilterPatterns("fashion-vgg", "features.5", [0, 1, 2], new FilterPatternOptions(preset, Steps: 3));
            engine.FilterPatterns("fashion-vgg", "features.5", [0, 1, 2], new FilterPatternOptions(preset, Steps: 3)); // cache hit
            Assert.Throws<CnnInterpretException>(() => engine.FilterPatterns("fashion-vgg", "features.5", [99]));
        }
        Assert.Equal(before, LiveTensors.Count());
    }
}

/// <summary>The disk cache's file format and its failure modes, without the network.</summary>
public sealed class FilterPatternCacheTests
{
    [Fact]
    public void Round_trips_bit_for_bit_and_tells_keys_apart()
    {
        var cache = new FilterPatternCache(Path.Combine(Repo.TempDir(), "nested", "patterns"));
        var pattern = new CachedPattern([0f, 0.25f, float.Epsilon, 1f, 0.1f, 0.7f], [1, 2, 3], -1.5f, 2.25f);
        var key = FilterPatternCache.Key("sha", "features.3", 7, "readable", 128, 0, 2, 3);
        Assert.Null(cache.TryGet(key));
        Assert.True(cache.Put(key, pattern));
        var read = cache.TryGet(key)!;
        Assert.Equal(pattern.Pixels, read.Pixels);
        Assert.Equal(pattern.Shape, read.Shape);
        Assert.Equal((pattern.ActivationBefore, pattern.ActivationAfter), (read.ActivationBefore, read.ActivationAfter));
        Assert.Null(cache.TryGet(FilterPatternCache.Key("sha", "features.3", 7, "readable", 128, 1, 2, 3)));
        Assert.Equal((1L, 2L), (cache.Hits, cache.Misses));
    }

    [Fact]
    public void An_unwritable_folder_is_not_an_error()
    {
        var file = Path.Combine(Repo.TempDir(), "not-a-folder");
        File.WriteAllText(file, "");
        var cache = new FilterPatternCache(Path.Combine(file, "patterns")); // a folder inside a file cannot exist
        Assert.False(cache.Put("k", new CachedPattern([0.5f], [1, 1, 1], 0, 1)));
        var engine = new Engine(Repo.Registry) { PatternCache = cache };
        var result = engine.FilterPatterns("fashion-vgg", "features.0", [1], new FilterPatternOptions("classic", Steps: 2));
        Assert.Single(result.Patterns);
    }

    [Fact]
    public void The_patterns_live_in_the_cache_folder_the_engine_was_given()
    {
        var cacheDir = Repo.TempDir();
        using var engine = new Engine(new ModelRegistry(cacheDirectory: cacheDir), ownsModels: true);
        Assert.Equal(Path.Combine(cacheDir, "filter-patterns"), engine.PatternCache.Directory);
        var first = engine.FilterPatterns("fashion-vgg", "features.0", [1, 2], new FilterPatternOptions("classic", Steps: 2));
        Assert.All(first.Patterns, p => Assert.False(p.FromCache));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(cacheDir, "filter-patterns"), "*", SearchOption.AllDirectories));
        // Another cache folder starts empty: nothing comes from the first one (or from CNN_INTERPRET_CACHE).
        using var other = new Engine(new ModelRegistry(cacheDirectory: Repo.TempDir()), ownsModels: true);
        Assert.All(other.FilterPatterns("fashion-vgg", "features.0", [1, 2], new FilterPatternOptions("classic", Steps: 2)).Patterns, p => Assert.False(p.FromCache));
    }
}
