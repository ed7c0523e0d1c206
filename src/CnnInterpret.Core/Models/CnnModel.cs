using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Core.Models;

/// <summary>
/// A CNN as explainers see it: a layer table for the UI, its preprocessing and classes, and one operation:
/// run a batch and keep the outputs of the layers asked for. The graph runs the layers itself (no forward
/// hooks), so a capture is always the layer's true output even when a later op works in place, and
/// nothing is left registered on the module if a request fails.
/// </summary>
public sealed class CnnModel : IDisposable
{
    private readonly ILayerGraph _graph;

    /// <summary>A model whose layers run one after another (VGG; ResNet at block level).</summary>
    public CnnModel(string id, string displayName, Preprocessing input, IReadOnlyList<string> classes,
        IReadOnlyList<(string Name, string DisplayName, string Kind, string Group, Module<Tensor, Tensor> Module)> layers)
        : this(id, displayName, input, classes, new LayerSequence(layers))
    {
    }

    public CnnModel(string id, string displayName, Preprocessing input, IReadOnlyList<string> classes, ILayerGraph graph)
    {
        Id = id;
        DisplayName = displayName;
        Input = input;
        Classes = classes;
        _graph = graph;
        _graph.Module.eval();
        Layers = DescribeLayers();
    }

    public string Id { get; internal set; }
    public string DisplayName { get; }
    public Preprocessing Input { get; }
    public IReadOnlyList<string> Classes { get; internal set; }

    /// <summary>Where <see cref="Input"/> and <see cref="Classes"/> came from (a sidecar, flags, the model's defaults).</summary>
    public InputOrigin Origin { get; internal set; } = InputOrigin.Default;

    /// <summary>The logits' shape for one image (without the batch axis): [K] for a classifier.</summary>
    public int[] OutputShape { get; private set; } = [];

    /// <summary>Every layer in forward order.</summary>
    public IReadOnlyList<LayerInfo> Layers { get; }

    /// <summary>sha256 of the weights that were loaded (empty for random weights); part of cache keys.</summary>
    public string WeightsHash { get; internal set; } = ""; // set back by the sanity check once it has restored the weights

    private string _loadedHash = "";

    /// <summary>Whether the weights differ from those loaded (<see cref="MarkModified"/>: the sanity check's randomised stages).</summary>
    public bool IsModified => WeightsHash != _loadedHash;

    public Module<Tensor, Tensor> Network => _graph.Module;

    public long ParameterCount => Layers.Sum(l => l.ParameterCount);

    /// <summary>Finds a layer by its stable name or its display name.</summary>
    public LayerInfo GetLayer(string name) =>
        Layers.FirstOrDefault(l => l.Name == name) ?? Layers.FirstOrDefault(l => l.DisplayName == name)
        ?? throw new CnnInterpretException(ErrorKind.UnknownLayer,
            $"Model '{Id}' has no layer '{InputText.Quote(name)}'. Valid layers: {string.Join(", ", Layers.Select(l => $"{l.Name} ({l.DisplayName})"))}.",
            new { layers = Layers.Select(l => l.Name).ToArray() });

    /// <summary>
    /// Runs <paramref name="batch"/> [N,C,H,W] through the network and returns the logits plus the outputs
    /// of the <paramref name="capture"/> layers (by stable name). Tensors belong to the caller's dispose scope;
    /// whether gradients flow is the caller's choice.
    /// </summary>
    public (Tensor Logits, Dictionary<string, Tensor> Captured) Forward(Tensor batch, IReadOnlySet<string>? capture = null)
    {
        var captured = new Dictionary<string, Tensor>();
        var logits = _graph.Run(batch, capture ?? new HashSet<string>(), captured);
        return (logits, captured);
    }

    /// <summary>
    /// Runs the network only up to <paramref name="layer"/> and returns that layer's output: nothing past it
    /// is computed (filter patterns optimise through this truncated network).
    /// </summary>
    public Tensor ForwardTo(Tensor batch, string layer) =>
        _graph.Run(batch, new HashSet<string>(), new Dictionary<string, Tensor>(), stopAfter: GetLayer(layer).Name);

    /// <summary>
    /// Like <see cref="ForwardFrom"/> without the input: null (and nothing computed) when a connection around the
    /// layer makes the input necessary.
    /// </summary>
    public (Tensor Logits, Dictionary<string, Tensor> Captured)? TryForwardFrom(string layer, Tensor activation, IReadOnlySet<string>? capture = null)
    {
        var captured = new Dictionary<string, Tensor>();
        var logits = _graph.RunFrom(GetLayer(layer).Name, activation, capture ?? new HashSet<string>(), captured);
        return logits is null ? null : (logits, captured);
    }

    /// <summary>
    /// Runs the network with <paramref name="activation"/> as the output of <paramref name="layer"/>
    /// (attributions at an inner layer) and returns the logits and the captures of later layers. Graphs with
    /// skip connections around the layer also need the <paramref name="input"/> batch.
    /// </summary>
    public (Tensor Logits, Dictionary<string, Tensor> Captured) ForwardFrom(string layer, Tensor activation,
        IReadOnlySet<string>? capture = null, Tensor? input = null)
    {
        var name = GetLayer(layer).Name;
        var captured = new Dictionary<string, Tensor>();
        capture ??= new HashSet<string>();
        var logits = _graph.RunFrom(name, activation, capture, captured)
                     ?? (input is not null
                         ? _graph.Run(input, capture, captured, replace: (name, activation))
                         : throw new CnnInterpretException(ErrorKind.InvalidArgument,
                             $"Layer '{name}' of model '{Id}' has connections around it; running from it alone needs the input image too."));
        return (logits, captured);
    }

    /// <summary>
    /// Copies a state_dict into the network, all or nothing: when it does not fit, the error lists every missing
    /// and unexpected key and every shape mismatch (also in its details: missing, unexpected, shapeMismatches).
    /// A missing <c>num_batches_tracked</c> is fine, as in PyTorch: checkpoints from before PyTorch 0.4.1 (among
    /// them torchvision's published ones) have none, and in eval mode it is never used.
    /// </summary>
    public void LoadWeights(IReadOnlyDictionary<string, Tensor> stateDict, string weightsHash, string source)
    {
        var own = _graph.Module.state_dict();
        var missing = own.Keys.Except(stateDict.Keys)
            .Where(k => !(k.EndsWith(".num_batches_tracked", StringComparison.Ordinal) && stateDict.ContainsKey(k[..^"num_batches_tracked".Length] + "running_mean")))
            .ToList();
        var unexpected = stateDict.Keys.Except(own.Keys).ToList();
        var mismatches = own.Where(p => stateDict.TryGetValue(p.Key, out var t) && !t.shape.SequenceEqual(p.Value.shape))
            .Select(p => new ShapeMismatch(p.Key, stateDict[p.Key].shape, p.Value.shape)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0 || mismatches.Count > 0)
        {
            static string Some(IEnumerable<string> items, int count) =>
                string.Join(", ", items.Take(8)) + (count > 8 ? $", … ({count} in all)" : "");
            throw new CnnInterpretException(ErrorKind.BadModelFile,
                $"The weights in '{source}' do not fit model '{Id}'." +
                (missing.Count > 0 ? $" Missing: {Some(missing, missing.Count)}." : "") +
                (unexpected.Count > 0 ? $" Unexpected: {Some(unexpected, unexpected.Count)}." : "") +
                (mismatches.Count > 0 ? $" Wrong shape: {Some(mismatches.Select(m => m.ToString()), mismatches.Count)}." : "") +
                " Check that the file was made for this architecture.",
                new { missing, unexpected, shapeMismatches = mismatches });
        }
        using var _ = no_grad();
        foreach (var (key, target) in own)
            if (stateDict.TryGetValue(key, out var value))
                target.copy_(value);
            else
                target.zero_(); // num_batches_tracked of an old checkpoint, like PyTorch's BatchNorm._load_from_state_dict
        WeightsHash = _loadedHash = weightsHash;
    }

    /// <summary>A checkpoint tensor whose shape differs from the model's (in a weights error's details).</summary>
    public sealed record ShapeMismatch(string Key, long[] Checkpoint, long[] Model)
    {
        public override string ToString() => $"'{Key}' has shape [{string.Join(", ", Checkpoint)}], the model expects [{string.Join(", ", Model)}]";
    }

    /// <summary>
    /// Marks the weights as changed in place (the sanity check randomises them, then restores them), so caches keyed by
    /// <see cref="WeightsHash"/> never mix its results with the original's.
    /// </summary>
    public void MarkModified(string tag) => WeightsHash = $"{WeightsHash}+{tag}";

    public Dictionary<string, Tensor> StateDict() => _graph.Module.state_dict();

    public void Dispose() => _graph.Module.Dispose();

    private List<LayerInfo> DescribeLayers()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (logits, captured) = Forward(zeros([1, .. Input.InputShape.Select(d => (long)d)]), _graph.Nodes.Select(n => n.Name).ToHashSet());
        OutputShape = logits.shape.Skip(1).Select(d => (int)d).ToArray();
        return _graph.Nodes.Select(n => new LayerInfo(
            n.Name, n.DisplayName, n.Kind, n.Group,
            captured[n.Name].shape.Skip(1).Select(d => (int)d).ToArray(),
            n.ParameterCount)).ToList();
    }
}

/// <summary>
/// Where a model's preprocessing and class names came from: <paramref name="Sources"/> maps a field ("mean",
/// "labels"…) to the source that set it; fields not in it are the model's own (<paramref name="Defaults"/>).
/// </summary>
/// <param name="Preset">The preset whose mean and std are in use, if any.</param>
public sealed record InputOrigin(string Defaults, string? Preset, IReadOnlyDictionary<string, string> Sources)
{
    public static readonly InputOrigin Default = new("the model", null, new Dictionary<string, string>());
}
