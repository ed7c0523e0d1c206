using CnnInterpret.Core.Models;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Core.Onnx;

/// <summary>Building the graph: compile the nodes, sort them, register the weights, find and name the layers.</summary>
public sealed partial class OnnxGraph
{
    private sealed record Stage(OnnxGraphProto Graph, long Opset, Func<string, string> Rename, bool Preprocess);

    private readonly HashSet<string> _constants = [];
    private readonly Dictionary<string, Module> _containers = new();

    /// <summary>
    /// The network alone, or the preprocessing graph then the network: the network's input becomes the
    /// preprocessing output, and preprocessing names that clash with the network's get a "preprocess/" prefix.
    /// </summary>
    private static List<Stage> Stages(OnnxModelProto model, OnnxModelProto? preprocess)
    {
        if (preprocess is null) return [new Stage(model.Graph, model.Opset, n => n, false)];
        var netInputs = model.Graph.RealInputs().ToList();
        var preInputs = preprocess.Graph.RealInputs().ToList();
        if (netInputs.Count != 1 || preInputs.Count != 1 || preprocess.Graph.Outputs.Count != 1)
            throw new CnnInterpretException(ErrorKind.BadModelFile,
                "A preprocessing graph must have one input and one output, and feed a network with one input.");
        var netNames = Names(model.Graph);
        string Pre(string n) => n.Length > 0 && netNames.Contains(n) ? "preprocess/" + n : n;
        var bridge = Pre(preprocess.Graph.Outputs[0].Name);
        var netInput = netInputs[0].Name;
        return
        [
            new Stage(preprocess.Graph, preprocess.Opset, Pre, true),
            new Stage(model.Graph, model.Opset, n => n == netInput ? bridge : n, false),
        ];
    }

    private static HashSet<string> Names(OnnxGraphProto graph) =>
        graph.Nodes.SelectMany(n => n.Inputs.Concat(n.Outputs)).Concat(graph.Initializers.Select(i => i.Name))
            .Concat(graph.Inputs.Select(i => i.Name)).ToHashSet();

    private void Compile(List<Stage> stages)
    {
        foreach (var stage in stages)
            foreach (var init in stage.Graph.Initializers)
            {
                var key = stage.Rename(init.Name);
                if (_stored.ContainsKey(key)) throw new CnnInterpretException(ErrorKind.BadModelFile, $"The ONNX graph has two initializers named '{init.Name}'.");
                _stored[key] = OnnxTensors.ToTorch(init, $"Initializer '{init.Name}'", detach: true);
            }
        foreach (var stage in stages)
            foreach (var proto in stage.Graph.Nodes)
            {
                var kernel = OnnxOps.Create(proto, stage.Opset);
                var inputs = proto.Inputs.Select(stage.Rename).ToArray();
                var outputs = proto.Outputs.Select(stage.Rename).ToArray();
                if (proto.OpType == "Constant")
                {
                    // Constants are computed once and kept like initializers (but outside state_dict).
                    if (outputs.Length != 1) throw new CnnInterpretException(ErrorKind.BadModelFile, $"{proto.Describe()} must have one output.");
                    _stored[outputs[0]] = kernel([], OnnxRunContext.None)[0];
                    _constants.Add(outputs[0]);
                    continue;
                }
                _nodes.Add(new Node(proto, kernel, inputs, outputs, stage.Preprocess));
            }
        // Weights that explainers may want gradients for are parameters; the rest (running statistics,
        // shapes, mean images) are buffers, as in torchvision.
        foreach (var node in _nodes)
        {
            int[] weights = node.Proto.OpType switch
            {
                "Conv" or "Gemm" => [1, 2],
                "MatMul" => [1],
                "BatchNormalization" => [1, 2],
                _ => [],
            };
            foreach (var i in weights)
                if (i < node.Inputs.Length && _stored.TryGetValue(node.Inputs[i], out var t) && t.is_floating_point() && !_constants.Contains(node.Inputs[i]))
                    _weights.Add(node.Inputs[i]);
        }
    }

    /// <summary>Orders the nodes so each runs after those it reads from (stable: file order where free).</summary>
    private void Sort()
    {
        var producer = new Dictionary<string, int>();
        for (var i = 0; i < _nodes.Count; i++)
            foreach (var output in _nodes[i].Outputs.Where(o => o.Length > 0))
                if (_stored.ContainsKey(output) || _inputs.Contains(output) || !producer.TryAdd(output, i))
                    throw new CnnInterpretException(ErrorKind.BadModelFile, $"The ONNX graph produces '{output}' more than once.");
        var dependents = _nodes.Select(_ => new List<int>()).ToArray();
        var waiting = new int[_nodes.Count];
        for (var i = 0; i < _nodes.Count; i++)
            foreach (var input in _nodes[i].Inputs.Where(n => n.Length > 0 && !_stored.ContainsKey(n) && !_inputs.Contains(n)).Distinct())
            {
                if (!producer.TryGetValue(input, out var p))
                    throw new CnnInterpretException(ErrorKind.BadModelFile,
                        $"{_nodes[i].Proto.Describe()} reads '{input}', which no node, initializer or graph input provides.");
                dependents[p].Add(i);
                waiting[i]++;
            }
        var ready = new SortedSet<int>(Enumerable.Range(0, _nodes.Count).Where(i => waiting[i] == 0));
        var order = new List<int>();
        while (ready.Count > 0)
        {
            var next = ready.Min;
            ready.Remove(next);
            order.Add(next);
            foreach (var d in dependents[next])
                if (--waiting[d] == 0) ready.Add(d);
        }
        if (order.Count != _nodes.Count) throw new CnnInterpretException(ErrorKind.BadModelFile, "The ONNX graph has a cycle.");
        var sorted = order.Select(i => _nodes[i]).ToList();
        _nodes.Clear();
        _nodes.AddRange(sorted);
        for (var i = 0; i < _nodes.Count; i++)
            foreach (var output in _nodes[i].Outputs.Where(o => o.Length > 0)) _producer[output] = i;
        foreach (var output in _outputs)
            if (!_producer.ContainsKey(output) && !_stored.ContainsKey(output) && !_inputs.Contains(output))
                throw new CnnInterpretException(ErrorKind.BadModelFile, $"The ONNX graph's output '{output}' is never produced.");
    }

    /// <summary>
    /// Registers a weight under its ONNX name: "features.0.weight" lives in container "features", then "0",
    /// like a torch module tree, unless names clash; then dots become underscores.
    /// </summary>
    private void Register(string key, Tensor value)
    {
        var nested = _nestedNames ??= _stored.Keys.All(k => k.Split('.').All(s => s.Length > 0) && !_stored.Keys.Any(o => o.StartsWith(k + ".", StringComparison.Ordinal)));
        var path = nested ? key.Split('.') : [key.Length == 0 ? "_" : key.Replace('.', '_')];
        Module owner = this;
        for (var i = 0; i < path.Length - 1; i++)
        {
            var prefix = string.Join('.', path[..(i + 1)]);
            if (!_containers.TryGetValue(prefix, out var child))
            {
                child = new Container(path[i]);
                owner.register_module(path[i], child);
                _containers[prefix] = child;
            }
            owner = child;
        }
        if (_weights.Contains(key))
        {
            var parameter = new TorchSharp.Modules.Parameter(value, requires_grad: true);
            owner.register_parameter(path[^1], parameter);
            _stored[key] = parameter;
        }
        else owner.register_buffer(path[^1], value, persistent: !_constants.Contains(key));
    }

    private bool? _nestedNames;

    private sealed class Container(string name) : Module(name);

    /// <summary>Every node's layer name: its node name, or its first output when it has none; unique.</summary>
    private void NameLayers()
    {
        var used = new HashSet<string>();
        foreach (var node in _nodes)
        {
            var name = node.Proto.Name.Length > 0 ? node.Proto.Name : node.Outputs.FirstOrDefault(o => o.Length > 0) ?? node.Proto.OpType;
            var candidate = name;
            for (var k = 2; !used.Add(candidate); k++) candidate = $"{name}_{k}";
            node.Layer = candidate;
        }
    }

    /// <summary>
    /// Finds the layers with one trial run at the input's size: nodes that depend on the input, are needed
    /// for the output and give a floating-point tensor (not shapes or indices).
    /// </summary>
    private List<LayerNode> DescribeLayers(int[]? inputShape)
    {
        if (_inputs.Length != 1) return [];
        var declared = InputInfo[0].Shape;
        InputShape = inputShape
                     ?? (declared is { Count: > 0 } && declared.Skip(1).All(d => d.Value is > 0) ? declared.Skip(1).Select(d => (int)d.Value!.Value).ToArray() : null);
        if (InputShape is null) return [];

        var dependsOnInput = new bool[_nodes.Count];
        for (var i = 0; i < _nodes.Count; i++)
            dependsOnInput[i] = _nodes[i].Inputs.Any(n => _inputs.Contains(n) || (_producer.TryGetValue(n, out var p) && dependsOnInput[p]));

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var type = OnnxTensors.ToScalarType(InputInfo[0].ElemType) ?? ScalarType.Float32;
        var trial = zeros([DeclaredBatch ?? 1, .. InputShape.Select(d => (long)d)], type);
        var captured = new Dictionary<string, Tensor>();
        var plan = MakePlan(_outputs.Take(1), null);
        var values = new Dictionary<string, Tensor>(_stored) { [_inputs[0]] = trial };
        Execute(plan, values, _nodes.Select(n => n.Layer).ToHashSet(), captured, null, Context(trial));

        var layers = plan.Nodes.Where(i => dependsOnInput[i] && captured[_nodes[i].Layer] is { } t && t.is_floating_point() && t.dim() >= 1).ToList();
        var names = OnnxLayerNames.Describe(layers.Select(i => new OnnxLayerNames.Item(
            _nodes[i].Layer, _nodes[i].Proto.Name, _nodes[i].Proto.OpType, _nodes[i].Preprocess, captured[_nodes[i].Layer].shape)).ToList());
        var result = new List<LayerNode>();
        for (var k = 0; k < layers.Count; k++)
        {
            var node = _nodes[layers[k]];
            _layers[node.Layer] = layers[k];
            var parameters = node.Inputs.Where(_weights.Contains).Distinct().Sum(n => _stored[n].numel());
            result.Add(new LayerNode(node.Layer, names[k].DisplayName, node.Proto.OpType, names[k].Group, parameters));
        }
        return result;
    }
}
