using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using CnnInterpret.Core.Caching;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Core;

public sealed partial class Engine
{
    private static readonly ConditionalWeakTable<CnnModel, string> ParameterHashes = new();

    private long _patternPasses;

    /// <summary>Passes through truncated networks run for filter patterns so far: a cache hit runs none.</summary>
    public long FilterPatternPasses => Interlocked.Read(ref _patternPasses);

    /// <summary>Where filter patterns are kept between runs (see <see cref="FilterPatternCache"/>).</summary>
    public FilterPatternCache PatternCache { get; init; } = new(models.FilterPatternsDirectory);

    /// <summary>
    /// Filter patterns of <paramref name="channels"/> (default: the first 64) of <paramref name="layer"/>: cached ones
    /// from disk with no forward pass, the rest optimised in batches, each cached (and reported as a partial result) as
    /// soon as it is done — so a cancelled run keeps the batches it finished.
    /// </summary>
    public FilterPatternsResult FilterPatterns(string? modelId, string layer, IReadOnlyList<int>? channels = null,
        FilterPatternOptions? options = null, IProgress<ExplainProgress>? progress = null, CancellationToken cancellation = default)
        => FilterPatterns(GetModel(modelId), layer, channels, options, progress, cancellation);

    /// <inheritdoc cref="FilterPatterns(string?, string, IReadOnlyList{int}?, FilterPatternOptions?, IProgress{ExplainProgress}?, CancellationToken)"/>
    public FilterPatternsResult FilterPatterns(CnnModel model, string layer, IReadOnlyList<int>? channels = null,
        FilterPatternOptions? options = null, IProgress<ExplainProgress>? progress = null, CancellationToken cancellation = default)
    {
        options ??= new FilterPatternOptions();
        var preset = FilterPatternPreset.Get(options.Preset);
        var info = model.GetLayer(layer);
        var selected = (channels ?? Explainers.FilterPatterns.Page(info, 0)).ToArray();
        Explainers.FilterPatterns.RequireChannels(info, selected);
        var size = options.Size ?? Math.Max(model.Input.Height, model.Input.Width);
        var steps = options.Steps ?? preset.DefaultSteps;
        if (steps is < 1 or > 10_000)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Steps must be between 1 and 10000, not {steps}.");
        if (options.Seed < 0) throw new CnnInterpretException(ErrorKind.InvalidArgument, $"The seed must be 0 or more, not {options.Seed}.");
        if (options.BatchSize is < 1) throw new CnnInterpretException(ErrorKind.InvalidArgument, $"The batch size must be 1 or more, not {options.BatchSize}.");
        if (size is < 8 or > 1024)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Pattern size must be between 8 and 1024 pixels, not {size}.");

        var c = model.Input.ChannelCount;
        var weights = options.UseCache ? WeightsIdentity(model) : "";
        string KeyOf(int channel) => FilterPatternCache.Key(weights, info.Name, channel, preset.CacheName, steps, options.Seed, size, size);
        var found = options.UseCache
            ? selected.Distinct().Select(ch => (ch, PatternCache.TryGet(KeyOf(ch)))).Where(x => x.Item2 is not null).ToDictionary(x => x.ch, x => x.Item2!)
            : new Dictionary<int, CachedPattern>();
        var missing = selected.Distinct().Where(ch => !found.ContainsKey(ch)).ToArray();
        var computed = new List<int>();
        var passes = 0;
        if (missing.Length > 0)
        {
            var plane = c * size * size;
            void Done(Explainers.FilterPatterns.Batch batch)
            {
                for (var i = 0; i < batch.Channels.Length; i++)
                {
                    var pattern = new CachedPattern(batch.Pixels.AsSpan(i * plane, plane).ToArray(), [c, size, size], batch.Before[i], batch.After[i],
                        Responsive: batch.Responsive[i]);
                    RequireFinite(pattern, info, batch.Channels[i]);
                    found[batch.Channels[i]] = pattern;
                    computed.Add(batch.Channels[i]);
                    if (options.UseCache) PatternCache.Put(KeyOf(batch.Channels[i]), pattern);
                }
                if (computed.Count < missing.Length)
                    progress?.Report(new ExplainProgress(computed.Count, missing.Length,
                        $"filter patterns of {info.Name}: {computed.Count} of {missing.Length} done", Partial(info, preset, steps, options.Seed, selected, found, c, size, 0, missing)));
            }
            try
            {
                passes = Explainers.FilterPatterns.Optimise(model, info, missing, preset, steps, options.Seed, size,
                    options.BatchSize ?? Explainers.FilterPatterns.DefaultBatchSize, Done, progress, cancellation);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested && computed.Count > 0)
            {
                throw new OperationCanceledException(
                    $"Cancelled; the patterns of channel(s) {DescribeChannels(computed)} were done{(options.UseCache ? " and are cached: asking again returns them at once" : "")}.",
                    null, cancellation);
            }
            finally { Interlocked.Add(ref _patternPasses, passes); }
        }
        else progress?.Report(new ExplainProgress(1, 1, $"filter patterns of {info.Name}: all {selected.Length} from the cache"));
        return Partial(info, preset, steps, options.Seed, selected, found, c, size, computed.Count > 0 ? passes : 0, missing);
    }

    /// <summary>The result over the channels in <paramref name="found"/> (all of them once the run is over).</summary>
    private static FilterPatternsResult Partial(LayerInfo info, FilterPatternPreset preset, int steps, int seed, int[] selected,
        Dictionary<int, CachedPattern> found, int c, int size, int passes = 0, int[]? computedNow = null)
    {
        var shown = selected.Where(found.ContainsKey).ToArray();
        var all = shown.Select(ch => found[ch]).ToList();
        var values = all.SelectMany(p => p.Pixels).ToArray();
        using var grid = PatternGrid.Render(values, shown.Length, c, size, size, shown);
        return new FilterPatternsResult(info, preset.Name, steps, seed, [c, size, size],
            shown.Select((ch, i) => new FilterPattern(ch, all[i].ActivationBefore, all[i].ActivationAfter, computedNow is not null && !computedNow.Contains(ch),
                all[i].Responsive ? null : DeadNote)).ToList(),
            values, ChannelGrid.ToPng(grid), passes);
    }

    private const string DeadNote = "This channel never responded to the input: its gradient was zero at every step (a dead channel, e.g. a ReLU " +
                                    "that never opens, or one that is constant on every input). The pattern is its starting image.";

    /// <summary>"0–15, 32" for channels 0 to 15 and 32.</summary>
    private static string DescribeChannels(IEnumerable<int> channels)
    {
        var runs = new List<string>();
        foreach (var ch in channels.Distinct().Order())
            if (runs.Count > 0 && runs[^1].Split('–')[^1] == (ch - 1).ToString(System.Globalization.CultureInfo.InvariantCulture))
                runs[^1] = $"{runs[^1].Split('–')[0]}–{ch}";
            else runs.Add(ch.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return string.Join(", ", runs);
    }

    /// <summary>A pattern or figure that is not a number is a bug in the ascent, never something the caller asked for.</summary>
    private static void RequireFinite(CachedPattern pattern, LayerInfo layer, int channel)
    {
        if (!float.IsFinite(pattern.ActivationBefore) || !float.IsFinite(pattern.ActivationAfter) || pattern.Pixels.Any(v => !float.IsFinite(v)))
            throw new CnnInterpretException(ErrorKind.Internal,
                $"The filter pattern of channel {channel} of {layer.Name} came out non-finite (activation {pattern.ActivationBefore} → {pattern.ActivationAfter}); " +
                "please report it with the model. The channels before it are cached.");
    }

    /// <summary>The loaded weights' sha256, or for random weights a hash of the parameters themselves (computed once per model).</summary>
    private static string WeightsIdentity(CnnModel model) => model.WeightsHash is { Length: > 0 } hash ? hash
        : ParameterHashes.GetValue(model, m =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var scope = NewDisposeScope();
            foreach (var (name, tensor) in m.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                sha.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
                sha.AppendData(tensor.detach().cpu().contiguous().bytes);
            }
            return "params-" + Convert.ToHexStringLower(sha.GetHashAndReset());
        });
}
