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
    /// from disk with no forward pass, the rest optimised together in one batch and then cached.
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
        var steps = options.Steps ?? preset.DefaultSteps;
        if (steps is < 1 or > 10_000)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Steps must be between 1 and 10000, not {steps}.");
        if (options.Seed < 0) throw new CnnInterpretException(ErrorKind.InvalidArgument, $"The seed must be 0 or more, not {options.Seed}.");
        var size = options.Size ?? Math.Max(model.Input.Height, model.Input.Width);
        if (size is < 8 or > 1024)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Pattern size must be between 8 and 1024 pixels, not {size}.");

        var c = model.Input.ChannelCount;
        var weights = options.UseCache ? WeightsIdentity(model) : "";
        string KeyOf(int channel) => FilterPatternCache.Key(weights, info.Name, channel, preset.Name, steps, options.Seed, size, size);
        var found = options.UseCache
            ? selected.Distinct().Select(ch => (ch, PatternCache.TryGet(KeyOf(ch)))).Where(x => x.Item2 is not null).ToDictionary(x => x.ch, x => x.Item2!)
            : new Dictionary<int, CachedPattern>();
        var missing = selected.Distinct().Where(ch => !found.ContainsKey(ch)).ToArray();
        var passes = 0;
        if (missing.Length > 0)
        {
            var (pixels, before, after, run) = Explainers.FilterPatterns.Optimise(model, info, missing, preset, steps, options.Seed, size,
                options.BatchSize ?? Memory.MemoryBudget.BatchSize(Memory.MemoryBudget.BytesThrough(model, info.Name, size, size, gradients: true),
                    missing.Length, what: $"filter patterns of {info.Name} at {size}×{size}"),
                progress, cancellation);
            passes = run;
            Interlocked.Add(ref _patternPasses, run);
            var plane = c * size * size;
            for (var i = 0; i < missing.Length; i++)
            {
                var pattern = new CachedPattern(pixels.AsSpan(i * plane, plane).ToArray(), [c, size, size], before[i], after[i]);
                found[missing[i]] = pattern;
                if (options.UseCache) PatternCache.Put(KeyOf(missing[i]), pattern);
            }
        }
        else progress?.Report(new ExplainProgress(1, 1, $"filter patterns of {info.Name}: all {selected.Length} from the cache"));

        var all = selected.Select(ch => found[ch]).ToList();
        var values = all.SelectMany(p => p.Pixels).ToArray();
        using var grid = PatternGrid.Render(values, selected.Length, c, size, size, selected);
        return new FilterPatternsResult(info, preset.Name, steps, options.Seed, [c, size, size],
            selected.Select((ch, i) => new FilterPattern(ch, all[i].ActivationBefore, all[i].ActivationAfter, !missing.Contains(ch))).ToList(),
            values, ChannelGrid.ToPng(grid), passes);
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
