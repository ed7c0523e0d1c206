using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Core.Models;

/// <summary>
/// A CNN whose layers run in a fixed forward order, with a layer table for the UI and one operation:
/// run a batch and keep the outputs of the layers asked for. Walking the layers ourselves (instead of
/// forward hooks) means a capture is always the layer's true output, and nothing is left registered
/// on the module if a request fails.
/// </summary>
public sealed class CnnModel : IDisposable
{
    private readonly LayerStack _network;

    public CnnModel(string id, string displayName, Preprocessing input, IReadOnlyList<string> classes,
        IReadOnlyList<(string Name, string DisplayName, string Kind, string Group, Module<Tensor, Tensor> Module)> layers)
    {
        Id = id;
        DisplayName = displayName;
        Input = input;
        Classes = classes;
        _network = new LayerStack(layers.Select(l => (l.Name, l.Module)).ToList());
        _network.eval();
        Layers = DescribeLayers(layers);
    }

    public string Id { get; }
    public string DisplayName { get; }
    public Preprocessing Input { get; }
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Every layer in forward order.</summary>
    public IReadOnlyList<LayerInfo> Layers { get; }

    /// <summary>sha256 of the weights that were loaded (empty for random weights); part of cache keys.</summary>
    public string WeightsHash { get; private set; } = "";

    public Module<Tensor, Tensor> Network => _network;

    public long ParameterCount => Layers.Sum(l => l.ParameterCount);

    /// <summary>Finds a layer by its stable name or its display name.</summary>
    public LayerInfo GetLayer(string name) =>
        Layers.FirstOrDefault(l => l.Name == name) ?? Layers.FirstOrDefault(l => l.DisplayName == name)
        ?? throw new CnnInterpretException(ErrorKind.UnknownLayer,
            $"Model '{Id}' has no layer '{name}'. Valid layers: {string.Join(", ", Layers.Select(l => $"{l.Name} ({l.DisplayName})"))}.",
            new { layers = Layers.Select(l => l.Name).ToArray() });

    /// <summary>
    /// Runs <paramref name="batch"/> [N,C,H,W] through the network and returns the logits plus the outputs
    /// of the <paramref name="capture"/> layers (by stable name). Tensors belong to the caller's dispose scope;
    /// whether gradients flow is the caller's choice.
    /// </summary>
    public (Tensor Logits, Dictionary<string, Tensor> Captured) Forward(Tensor batch, IReadOnlySet<string>? capture = null)
        => _network.Run(batch, capture ?? new HashSet<string>());

    public void LoadWeights(IReadOnlyDictionary<string, Tensor> stateDict, string weightsHash, string source)
    {
        var own = _network.state_dict();
        var missing = own.Keys.Except(stateDict.Keys).ToList();
        var unexpected = stateDict.Keys.Except(own.Keys).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new CnnInterpretException(ErrorKind.BadModelFile,
                $"The weights in '{source}' do not fit model '{Id}'." +
                (missing.Count > 0 ? $" Missing: {string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", …" : "")}." : "") +
                (unexpected.Count > 0 ? $" Unexpected: {string.Join(", ", unexpected.Take(8))}{(unexpected.Count > 8 ? ", …" : "")}." : "") +
                " Check that the file was made for this architecture.");
        using var _ = no_grad();
        foreach (var (key, target) in own)
        {
            var source_ = stateDict[key];
            if (!source_.shape.SequenceEqual(target.shape))
                throw new CnnInterpretException(ErrorKind.BadModelFile,
                    $"The weights in '{source}' do not fit model '{Id}': '{key}' has shape [{string.Join(", ", source_.shape)}], the model expects [{string.Join(", ", target.shape)}].");
            target.copy_(source_);
        }
        WeightsHash = weightsHash;
    }

    public Dictionary<string, Tensor> StateDict() => _network.state_dict();

    public void Dispose() => _network.Dispose();

    private List<LayerInfo> DescribeLayers(IReadOnlyList<(string Name, string DisplayName, string Kind, string Group, Module<Tensor, Tensor> Module)> layers)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var names = layers.Select(l => l.Name).ToHashSet();
        var (_, captured) = Forward(zeros([1, .. Input.InputShape.Select(d => (long)d)]), names);
        return layers.Select(l => new LayerInfo(
            l.Name, l.DisplayName, l.Kind, l.Group,
            captured[l.Name].shape.Skip(1).Select(d => (int)d).ToArray(),
            l.Module.parameters().Sum(p => p.numel()))).ToList();
    }

    /// <summary>
    /// The layers as one module, registered under torchvision's paths (<c>features.0</c> lives in a
    /// <c>features</c> container) so that state_dict keys match torchvision checkpoints.
    /// </summary>
    private sealed class LayerStack : Module<Tensor, Tensor>
    {
        private readonly List<(string Name, Module<Tensor, Tensor> Module)> _layers;

        public LayerStack(List<(string Name, Module<Tensor, Tensor> Module)> layers) : base("CnnModel")
        {
            _layers = layers;
            foreach (var group in layers.GroupBy(l => l.Name.Split('.')[0]))
            {
                if (group.Count() == 1 && !group.First().Name.Contains('.'))
                    register_module(group.Key, group.First().Module);
                else
                    register_module(group.Key, Sequential(group.Select(l => (l.Name[(group.Key.Length + 1)..], (Module<Tensor, Tensor>)l.Module)).ToArray()));
            }
        }

        public override Tensor forward(Tensor input) => Run(input, new HashSet<string>()).Logits;

        public (Tensor Logits, Dictionary<string, Tensor> Captured) Run(Tensor input, IReadOnlySet<string> capture)
        {
            var captured = new Dictionary<string, Tensor>();
            var x = input;
            foreach (var (name, module) in _layers)
            {
                x = module.forward(x);
                if (capture.Contains(name)) captured[name] = x;
            }
            return (x, captured);
        }
    }
}
