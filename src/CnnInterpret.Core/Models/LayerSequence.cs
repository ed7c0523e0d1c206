using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Core.Models;

/// <summary>
/// Layers that run one after another, registered under torchvision's paths (<c>features.0</c> lives in a
/// <c>features</c> container) so that state_dict keys match torchvision checkpoints.
/// </summary>
public sealed class LayerSequence : Module<Tensor, Tensor>, ILayerGraph
{
    private readonly List<(string Name, Module<Tensor, Tensor> Module)> _layers;
    private readonly bool[] _inPlace;

    public LayerSequence(IReadOnlyList<(string Name, string DisplayName, string Kind, string Group, Module<Tensor, Tensor> Module)> layers)
        : base("CnnModel")
    {
        _layers = layers.Select(l => (l.Name, l.Module)).ToList();
        // Modules built with inplace: true (ReLU, Dropout, ...) overwrite their input; see RunRange.
        _inPlace = layers.Select(l => l.Module.GetType().GetProperty("inplace")?.GetValue(l.Module) is true).ToArray();
        Nodes = layers.Select(l => new LayerNode(l.Name, l.DisplayName, l.Kind, l.Group, l.Module.parameters().Sum(p => p.numel()))).ToList();
        foreach (var group in layers.GroupBy(l => l.Name.Split('.')[0]))
        {
            if (group.Count() == 1 && !group.First().Name.Contains('.'))
                register_module(group.Key, group.First().Module);
            else
                register_module(group.Key, Sequential(group.Select(l => (l.Name[(group.Key.Length + 1)..], (Module<Tensor, Tensor>)l.Module)).ToArray()));
        }
    }

    public Module<Tensor, Tensor> Module => this;

    public IReadOnlyList<LayerNode> Nodes { get; }

    public override Tensor forward(Tensor input) => Run(input, new HashSet<string>(), new Dictionary<string, Tensor>());

    public Tensor Run(Tensor input, IReadOnlySet<string> capture, Dictionary<string, Tensor> captured,
        string? stopAfter = null, (string Layer, Tensor Output)? replace = null)
    {
        if (replace is { } r) return RunFrom(r.Layer, r.Output, capture, captured)!;
        var end = stopAfter is null ? _layers.Count : IndexOf(stopAfter) + 1;
        return RunRange(input, 0, end, capture, captured);
    }

    public Tensor? RunFrom(string layer, Tensor output, IReadOnlySet<string> capture, Dictionary<string, Tensor> captured)
    {
        if (capture.Contains(layer)) captured[layer] = output;
        return RunRange(output, IndexOf(layer) + 1, _layers.Count, capture, captured);
    }

    private int IndexOf(string name)
    {
        var index = _layers.FindIndex(l => l.Name == name);
        return index >= 0 ? index : throw new ArgumentException($"no layer '{name}'", nameof(name));
    }

    private Tensor RunRange(Tensor x, int start, int end, IReadOnlySet<string> capture, Dictionary<string, Tensor> captured)
    {
        for (var i = start; i < end; i++)
        {
            var (name, module) = _layers[i];
            // An in-place layer must not overwrite a tensor someone else holds: the caller's input, or the
            // previous layer's captured output (which would then show, and take gradients as, this layer's output).
            if (_inPlace[i] && (i == start || capture.Contains(_layers[i - 1].Name))) x = x.clone();
            var input = x;
            // Inside a guided-backprop request a ReLU module runs as GuidedRelu (not in place: it makes a new tensor).
            x = module is TorchSharp.Modules.ReLU && GuidedRelu.Active ? GuidedRelu.Relu(x) : module.forward(x);
            if (capture.Contains(name)) captured[name] = x;
            // The previous layer's output is nobody's once this layer has read it (unless captured, or the caller's own input):
            // let it go now, as PyTorch does, not when the caller's dispose scope ends. Without gradients a batch then holds two
            // layers' outputs instead of all of them; with gradients autograd keeps its own references to what it saved.
            if (i > start && !ReferenceEquals(input, x) && !capture.Contains(_layers[i - 1].Name)) input.Dispose();
        }
        return x;
    }
}
