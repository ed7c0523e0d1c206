using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// One attribution method, in the shape of Captum's <c>attribute()</c> and pytorch-grad-cam's <c>BaseCAM</c>: given the
/// model, what it saw, a target and typed options, it returns numbers (a map, and where the method has them per-channel
/// attributions, a layer-resolution map, channel weights, figures such as a completeness error). Rendering is someone
/// else's job. Implementations are stateless and registered once in <see cref="ExplainerRegistry"/>: a new method is
/// one file plus one line there, and the CLI, the daemon (<c>daemon/methods</c>, <c>explain/attribution</c>), metrics,
/// the sanity check and the panel pick it up from the registry.
/// </summary>
public interface IExplainer
{
    ExplainerInfo Info { get; }

    /// <summary>
    /// Explains <see cref="ExplainContext.Target"/> for <see cref="ExplainContext.Input"/>. Runs inside the caller's
    /// dispose scope: tensors it makes and does not return are freed when the caller's scope ends, but long methods
    /// should free per-batch tensors themselves (a scope per batch).
    /// </summary>
    Attribution Explain(ExplainContext context);
}

/// <summary>Where a method's map lives.</summary>
public enum MapKind
{
    /// <summary>Attributions of the input pixels ([C,H,W], summed over channels for the [H,W] map): gradients, occlusion, RISE.</summary>
    Pixel,

    /// <summary>A map computed at a spatial layer and upsampled to the input (the CAM family); needs a layer.</summary>
    Layer,

    /// <summary>Weights of superpixels painted over their pixels (LIME, KernelSHAP).</summary>
    Superpixel,
}

public enum OptionType { Integer, Number, Choice, Boolean }

/// <summary>An option a method takes: its CLI flag is <c>--Name</c>, its daemon field <c>options.Name</c>.</summary>
/// <param name="Default">The value used when the option is left out (an int, double, string or bool).</param>
/// <param name="Choices">For <see cref="OptionType.Choice"/>: the allowed values.</param>
public sealed record ExplainerOption(string Name, OptionType Type, object Default, string Description,
    IReadOnlyList<string>? Choices = null, double? Minimum = null, double? Maximum = null);

/// <summary>What the registry says of a method: enough for a CLI's help, the panel's picker and its option form.</summary>
/// <param name="Name">The method's name everywhere: <c>explain --method NAME</c>, <c>explain/attribution {method}</c>, <c>NAME.npy</c>.</param>
/// <param name="Group">How the panel groups it: "gradients", "cam", "perturbation" or "superpixels".</param>
/// <param name="Signed">The map has a sign (positive: raises the score; negative: lowers it), so it is drawn with a diverging scale.</param>
/// <param name="Sampling">Runs many forward passes: queued, with progress and cancellation.</param>
/// <param name="Paper">The paper the method comes from (and the peer implementation it follows), for help and tooltips.</param>
public sealed record ExplainerInfo(string Name, string DisplayName, string Group, MapKind Kind, bool Signed, bool Sampling,
    string Paper, IReadOnlyList<ExplainerOption> Options)
{
    /// <summary>
    /// A pixel method that is also computed at a spatial layer (Guided Grad-CAM: guided backprop × the Grad-CAM of a
    /// layer): its requests take a layer as the CAMs' do, though its map is of the input's pixels.
    /// </summary>
    public bool UsesLayer { get; init; }

    /// <summary>
    /// The panel's own view of the method, when it has one richer than a group tab's ("lime", "shap": the fit, the
    /// top segments, two targets, pictures that converge while sampling): the panel lists the method there, not in a
    /// tab of its group. Null for most methods.
    /// </summary>
    public string? View { get; init; }

    /// <summary>True when the method explains at a spatial layer (the CAM family, and pixel methods that <see cref="UsesLayer"/>), so a request needs one (or gets the default).</summary>
    public bool NeedsLayer => Kind == MapKind.Layer || UsesLayer;
}

/// <summary>
/// Everything a method needs for one explanation, already checked: the target resolved against the model, the layer
/// (for methods that <see cref="ExplainerInfo.NeedsLayer"/>) a spatial one, the options validated.
/// </summary>
/// <param name="inputShape">[C,H,W] of <paramref name="input"/>; default the model's input size (parity tests use others:
/// a network with a global pool takes any size).</param>
public sealed class ExplainContext(CnnModel model, float[] input, Target target, LayerInfo? layer, ExplainerOptions options,
    IProgress<ExplainProgress>? progress = null, int[]? inputShape = null, CancellationToken cancellation = default)
{
    public CnnModel Model { get; } = model;

    /// <summary>The normalised pixels the model sees, [C,H,W] row-major.</summary>
    public float[] Input { get; } = input;

    public Target Target { get; } = target;

    public LayerInfo? Layer { get; } = layer;

    public ExplainerOptions Options { get; } = options;

    public IProgress<ExplainProgress>? Progress { get; } = progress;

    public CancellationToken Cancellation { get; } = cancellation;

    public int[] InputShape { get; } = inputShape ?? model.Input.InputShape;
    public int Channels => InputShape[0];
    public int Height => InputShape[1];
    public int Width => InputShape[2];

    /// <summary>
    /// The superpixels of the picture the model saw, for <see cref="MapKind.Superpixel"/> methods: the engine segments
    /// it with the method's options (<see cref="Superpixels.SegmentsOf"/>) before the method runs.
    /// </summary>
    public Segmentation? Segments { get; init; }

    /// <summary>Where the models' background sets are (<c>background/ID.npy</c>): GradientSHAP's dataset baseline.</summary>
    public string? ModelsDirectory { get; init; }

    public Segmentation RequireSegments() => Segments ?? throw new InvalidOperationException("A superpixel method was run without superpixels.");

    /// <summary>The spatial layer of a layer method (the registry checks it is there before the method runs).</summary>
    public LayerInfo RequireLayer() => Layer ?? throw new InvalidOperationException("A layer method was run without a layer.");

    /// <summary>The input as a [1,C,H,W] tensor in the current dispose scope.</summary>
    public Tensor InputTensor() => NativeTensor.From<float>(Input, 1, Channels, Height, Width);

    /// <summary>
    /// How many images of the input's size go in one forward batch: enough to keep the matrix units busy, few
    /// enough that activations stay well within memory (about 16 MiB of input per batch, 1 to 64 images). Tests set
    /// it to check that a sampling method's answer does not depend on it.
    /// </summary>
    public int BatchSize { get; init; } = DefaultBatchSize(input.Length);

    /// <inheritdoc cref="BatchSize"/>
    public static int DefaultBatchSize(int inputLength) => Math.Clamp((16 << 20) / Math.Max(1, inputLength * sizeof(float)), 1, 64);

    /// <summary>The target's score for each image of <paramref name="batch"/> [N,C,H,W], [N].</summary>
    public Tensor Score(Tensor batch)
    {
        var (logits, captured) = Model.Forward(batch, Target.Captures);
        return Target.Score(logits, captured);
    }

    public void Report(int done, int total, string message) => Progress?.Report(new ExplainProgress(done, total, message));
}

/// <summary>What a method found (numbers only; the engine renders them).</summary>
/// <param name="Map">[H,W] at the input's resolution. Pixel methods: the attributions summed over the colour channels
/// (raw, signed where the method is). Layer methods: min-max normalised to [0,1], as pytorch-grad-cam shows them.</param>
/// <param name="Attributions">Pixel methods: [C,H,W], what Captum's <c>attribute()</c> returns for the image.</param>
/// <param name="LowRes">Layer methods: the map at the layer's resolution [h,w], after the ReLU, before normalisation.</param>
/// <param name="ChannelWeights">Layer methods that weight channels: α_k, [K].</param>
public sealed record Attribution(float[] Map, float[]? Attributions = null, float[]? LowRes = null, int[]? LowResShape = null,
    float[]? ChannelWeights = null)
{
    /// <summary>Figures a method reports about its own answer, e.g. integrated gradients' completeness error.</summary>
    public IReadOnlyDictionary<string, double> Figures { get; init; } = new Dictionary<string, double>();

    /// <summary>Superpixel methods: the value of each segment, [S] (<see cref="Map"/> paints them over their pixels).</summary>
    public double[]? SegmentValues { get; init; }

    /// <summary>Something the user should know about this answer (an empty map, a baseline that scores like the image).</summary>
    public string? Note { get; init; }
}
