using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    /// <summary>
    /// explain --method filter-patterns --layer L [--channels A-B] [--preset classic|readable] [--steps N] [--seed S] [--size PX]:
    /// no image; writes the grid (one PNG per 64 channels), one PNG per channel, filter-patterns.npy [K,C,H,W] in [0,1],
    /// and result.json with each channel's activation before and after.
    /// </summary>
    private static void WriteFilterPatterns(Engine engine, CommandLine line, string? modelId, List<string> images, string outDir)
    {
        var layerName = line.Require("layer", "a layer name such as features.12 or block3_conv2; see 'layers'");
        var channelsText = line.Option("channels");
        var options = new FilterPatternOptions(line.Option("preset"), line.Int("steps"), line.Int("seed") ?? 0, line.Int("size"));
        var quiet = line.Flag("quiet");
        line.RejectUnknown();
        if (images.Count > 0) throw CommandLine.Usage("filter-patterns takes no IMAGE: the patterns are made from scratch.");
        var model = engine.GetModel(modelId);
        var layer = model.GetLayer(layerName);
        var channels = channelsText is null ? FilterPatterns.Page(layer, 0) : FeatureMaps.ParseChannels(channelsText);
        var result = engine.FilterPatterns(model, layer.Name, channels, options, new ConsoleProgress(quiet));

        var files = new List<object>();
        void Add(string file, string kind, string description) => files.Add(new { file, kind, description });
        int c = result.PatternShape[0], h = result.PatternShape[1], w = result.PatternShape[2];
        var pages = result.Patterns.Select((p, i) => (p.Channel, Index: i)).Chunk(FilterPatterns.PageSize).ToList();
        for (var p = 0; p < pages.Count; p++)
        {
            var file = pages.Count == 1 ? "filter-patterns.png" : $"filter-patterns-{p}.png";
            var first = pages[p][0].Index;
            using var grid = PatternGrid.Render(result.Pixels.AsSpan(first * c * h * w, pages[p].Length * c * h * w), pages[p].Length, c, h, w,
                pages[p].Select(x => x.Channel).ToArray());
            File.WriteAllBytes(Path.Combine(outDir, file), ChannelGrid.ToPng(grid));
            Add(file, "png", $"grid of channels {pages[p][0].Channel}–{pages[p][^1].Channel}, labelled");
        }
        for (var i = 0; i < result.Patterns.Count; i++)
        {
            var file = $"channel-{result.Patterns[i].Channel}.png";
            using var single = PatternGrid.Single(result.PixelsOf(i), c, h, w);
            File.WriteAllBytes(Path.Combine(outDir, file), ChannelGrid.ToPng(single));
        }
        Add("channel-N.png", "png", $"one pattern per channel N, enlarged (nearest neighbour) from {h}×{w}");
        NpyWriter.Write(Path.Combine(outDir, "filter-patterns.npy"), result.Pixels, [result.Patterns.Count, c, h, w]);
        Add("filter-patterns.npy", "npy", $"float32 [{result.Patterns.Count}, {c}, {h}, {w}]: the patterns in pixel space [0,1], in the order of 'patterns'");
        Output.WriteJsonFile(Path.Combine(outDir, "result.json"), new
        {
            method = "filter-patterns", model = model.Id, layer = result.Layer, preset = result.Preset, steps = result.Steps, seed = result.Seed,
            patternShape = result.PatternShape, channels = result.Channels, forwardPasses = result.ForwardPasses,
            cache = engine.PatternCache.Directory, patterns = result.Patterns, files,
        });
        var cached = result.Patterns.Count(p => p.FromCache);
        Console.Out.WriteLine($"{result.Patterns.Count} {result.Preset} pattern(s) of {layer.Name} ({layer.DisplayName}), {cached} from the cache: " +
                              $"wrote {result.Patterns.Count + pages.Count + 1} file(s) and result.json to {Path.GetFullPath(outDir)}");
    }

    /// <summary>Prints progress to stderr every 10%.</summary>
    private sealed class ConsoleProgress(bool quiet) : IProgress<ExplainProgress>
    {
        private int _lastDecile = -1;

        public void Report(ExplainProgress value)
        {
            var decile = (int)(value.Fraction * 10);
            if (quiet || decile == _lastDecile) return;
            _lastDecile = decile;
            Console.Error.WriteLine($"{value.Message} ({value.Fraction:P0})");
        }
    }
}
