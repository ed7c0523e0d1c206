using System.Diagnostics;
using CnnInterpret.Core.Caching;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CnnInterpret.Core;

/// <summary>
/// The one entry point the daemon and the CLI share: resolves models and images, runs (and caches) the
/// forward pass, and hands the numbers to the explainers. Thread-safe; knows nothing of JSON-RPC.
/// </summary>
/// <param name="ownsModels">Dispose the registry (and its models) with the engine: true only when the engine made it its own.</param>
public sealed partial class Engine(ModelRegistry models, ActivationCache? cache = null, ImageLimits? imageLimits = null, bool ownsModels = false) : IDisposable
{
    public ModelRegistry Models { get; } = models;
    public ActivationCache Cache { get; } = cache ?? new ActivationCache();
    public ImageLimits ImageLimits { get; } = imageLimits ?? ImageLimits.Configured();

    private long _forwardPasses;

    /// <summary>Forward passes run so far (cache misses): lets tests prove a cache hit ran no network.</summary>
    public long ForwardPasses => Interlocked.Read(ref _forwardPasses);

    public static string TorchSharpVersion => typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "unknown";
    public static string LibTorchVersion => "2.10.0"; // the libtorch-cpu package TorchSharp-cpu 0.107 ships
    public static string Device => cuda.is_available() ? "cuda" : "cpu";

    public CnnModel GetModel(string? id) => Models.Get(string.IsNullOrWhiteSpace(id) ? ModelRegistry.DefaultModelId : id);

    public Prediction Predict(string? modelId, string imagePath, int topK = 5, CancellationToken cancellation = default)
    {
        var model = GetModel(modelId);
        var activations = Activations(model, imagePath, cancellation);
        return Predictions.FromLogits(activations.Logits, model.Classes, Math.Min(topK, activations.Logits.Length));
    }

    public FeatureMapsResult FeatureMaps(string? modelId, string imagePath, string layer, IReadOnlyList<int>? channels = null,
        GridOptions? grid = null, CancellationToken cancellation = default)
    {
        var model = GetModel(modelId);
        var info = model.GetLayer(layer);
        Explainers.FeatureMaps.RequireSpatial(info);
        var activations = Activations(model, imagePath, cancellation);
        return Explainers.FeatureMaps.Explain(activations, info, channels, grid ?? new GridOptions());
    }

    /// <summary>
    /// The activations of every layer for an image, from the cache when this model has seen these bytes
    /// before (no decode, no forward), else from one forward pass inside a dispose scope.
    /// </summary>
    public ImageActivations Activations(CnnModel model, string imagePath, CancellationToken cancellation = default)
    {
        cancellation.ThrowIfCancellationRequested();
        return Activations(model, ImageLoader.ReadFile(imagePath, ImageLimits), imagePath, graph: null, cancellation);
    }

    /// <param name="graph">
    /// Null: a cache miss runs without gradients. Otherwise a miss runs with them, in the caller's dispose scope, and
    /// hands the logits and every layer's output, autograd graph and all, to <paramref name="graph"/>: a backward
    /// then needs no second forward.
    /// </param>
    private ImageActivations Activations(CnnModel model, byte[] bytes, string imagePath,
        Action<Tensor, Dictionary<string, Tensor>>? graph, CancellationToken cancellation)
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        // Weights changed in place (a sanity check's stage) are seen once: caching their activations would only push out others.
        return model.IsModified ? Compute() : Cache.GetOrAdd(ActivationCache.Key(model.Id, model.WeightsHash, hash), Compute);

        ImageActivations Compute()
        {
            using var decoded = ImageLoader.Decode(bytes, imagePath, ImageLimits, model.Input.Background, hash);
            using var input = ImagePreprocessor.Prepare(decoded.Pixels, model.Input);
            cancellation.ThrowIfCancellationRequested();
            Interlocked.Increment(ref _forwardPasses);
            var names = model.Layers.Select(l => l.Name).ToHashSet();
            if (graph is not null)
            {
                var (logits, captured) = model.Forward(input.ToBatch(), names);
                graph(logits, captured);
                return ToActivations(model, logits, captured, input, hash);
            }
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var run = model.Forward(input.ToBatch(), names);
            return ToActivations(model, run.Logits, run.Captured, input, hash);
        }
    }

    /// <summary>Decodes and preprocesses an image for a model: what the model sees (the caller disposes it).</summary>
    public ModelInput PrepareInput(CnnModel model, string imagePath)
    {
        using var decoded = ImageLoader.Decode(ImageLoader.ReadFile(imagePath, ImageLimits), imagePath, ImageLimits, model.Input.Background);
        return ImagePreprocessor.Prepare(decoded.Pixels, model.Input);
    }

    /// <summary>One forward pass's outputs as a cache entry (managed copies; the tensors stay the caller's).</summary>
    private static ImageActivations ToActivations(CnnModel model, Tensor logits, Dictionary<string, Tensor> captured, ModelInput input, string hash)
    {
        var layers = model.Layers.ToDictionary(l => l.Name,
            l => new Activation(captured[l.Name].detach()[0].contiguous().data<float>().ToArray(), l.OutputShape));
        return new ImageActivations(hash, logits.detach()[0].contiguous().data<float>().ToArray(), layers, Png.Encode(input.Display));
    }

    /// <summary>Times <paramref name="runs"/> uncached forward passes of one image (batch 1), in milliseconds.</summary>
    public static double[] TimeForward(CnnModel model, ModelInput input, int runs)
    {
        var times = new double[runs];
        using var _ = no_grad();
        for (var i = 0; i < runs; i++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            model.Forward(input.ToBatch());
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        return times;
    }

    public void Dispose()
    {
        if (ownsModels) Models.Dispose();
    }
}
