using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using CnnInterpret.Core.Models;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Core.Onnx;

/// <summary>
/// An ONNX graph run as a TorchSharp module: each node becomes a kernel of TorchSharp ops (so gradients flow
/// back to the input), tensors are passed by name, and the initializers are the module's parameters and
/// buffers under their ONNX names (so state_dict and LoadWeights work). An optional preprocessing graph runs
/// first, as the model's first layers. As a model it takes one input (the first graph input that is not an
/// initializer) and returns the first graph output; <see cref="Evaluate"/> runs any graph, inputs and outputs
/// by name. A layer is a node whose output depends on the input and is a floating-point tensor.
/// </summary>
public sealed partial class OnnxGraph : Module<Tensor, Tensor>, ILayerGraph
{
    private sealed record Node(OnnxNodeProto Proto, OnnxKernel Kernel, string[] Inputs, string[] Outputs, bool Preprocess)
    {
        public string Layer { get; set; } = "";
    }

    /// <summary>The nodes to run, in order, and after which of them each intermediate value is read for the last time.</summary>
    private sealed record Plan(int[] Nodes, bool NeedsInput, HashSet<string> Targets, Dictionary<string, int> LastUse);

    private readonly List<Node> _nodes = [];
    private readonly Dictionary<string, int> _producer = new();
    private readonly Dictionary<string, Tensor> _stored = new();
    private readonly HashSet<string> _weights = [];
    private readonly string[] _inputs;
    private readonly string[] _outputs;
    private readonly Dictionary<string, int> _layers = new();
    private readonly ConcurrentDictionary<string, Plan> _plans = new();

    /// <param name="model">The network.</param>
    /// <param name="preprocess">A graph with one input and one output run before the network (its output is the network's input).</param>
    /// <param name="inputShape">The input's shape without the batch axis, when the file leaves sizes open (like [3, H, W]).</param>
    public OnnxGraph(OnnxModelProto model, OnnxModelProto? preprocess = null, int[]? inputShape = null, string name = "OnnxGraph")
        : base(name)
    {
        var stages = Stages(model, preprocess);
        _inputs = stages[0].Graph.RealInputs().Select(i => stages[0].Rename(i.Name)).ToArray();
        _outputs = model.Graph.Outputs.Select(o => o.Name).ToArray();
        InputInfo = stages[0].Graph.RealInputs().Select(i => i with { Name = stages[0].Rename(i.Name) }).ToList();
        OutputInfo = model.Graph.Outputs;
        if (_outputs.Length == 0) throw new CnnInterpretException(ErrorKind.BadModelFile, "The ONNX graph has no outputs.");
        foreach (var input in InputInfo)
            if (OnnxTensors.ToScalarType(input.ElemType) is null)
                throw new CnnInterpretException(ErrorKind.BadModelFile,
                    $"Graph input '{input.Name}' is {(input.ElemType == OnnxDataType.Undefined ? "not a tensor (a sequence, map or optional)" : $"of type {input.ElemType}")}, which is not supported.");

        try
        {
            Compile(stages);
            Sort();
            foreach (var (key, value) in _stored.ToList()) Register(key, value);
            NameLayers();
            Nodes = DescribeLayers(inputShape);
        }
        catch
        {
            // Nothing loaded half-way: the weights read so far live outside any dispose scope.
            foreach (var t in _stored.Values) t.Dispose();
            Dispose();
            throw;
        }
    }

    /// <summary>Reads an .onnx file (and its preprocessing graph) and builds the module.</summary>
    public static OnnxGraph Load(string path, string? preprocessPath = null, int[]? inputShape = null) =>
        new(OnnxParser.ReadModelFile(path), preprocessPath is null ? null : OnnxParser.ReadModelFile(preprocessPath), inputShape);

    public Module<Tensor, Tensor> Module => this;

    public IReadOnlyList<LayerNode> Nodes { get; }

    /// <summary>The graph inputs that are not initializers (the preprocessing graph's when there is one).</summary>
    public IReadOnlyList<OnnxValueInfo> InputInfo { get; }

    public IReadOnlyList<OnnxValueInfo> OutputInfo { get; }

    /// <summary>The batch size the input declares (often 1), or null when it is left open.</summary>
    public long? DeclaredBatch => InputInfo.Count == 1 && InputInfo[0].Shape is [{ Value: { } b }, ..] ? b : null;

    /// <summary>The single input's shape without its batch axis, when the graph (or the caller) fixes it.</summary>
    public int[]? InputShape { get; private set; }

    public override Tensor forward(Tensor input) => Run(input, new HashSet<string>(), new Dictionary<string, Tensor>());

    /// <summary>Runs any graph: inputs by name → every graph output by name.</summary>
    public Dictionary<string, Tensor> Evaluate(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var missing = _inputs.Where(i => !inputs.ContainsKey(i)).ToList();
        if (missing.Count > 0) throw new CnnInterpretException(ErrorKind.InvalidArgument, $"The graph needs inputs {string.Join(", ", missing)}.");
        var values = new Dictionary<string, Tensor>(_stored);
        foreach (var (name, value) in inputs) values[name] = value;
        Execute(MakePlan(_outputs, null), values, null, null, null, OnnxRunContext.None);
        return _outputs.ToDictionary(o => o, o => values[o]);
    }

    public Tensor Run(Tensor input, IReadOnlySet<string> capture, Dictionary<string, Tensor> captured,
        string? stopAfter = null, (string Layer, Tensor Output)? replace = null)
    {
        var inputName = SingleInput();
        var target = stopAfter is null ? _outputs[0] : LayerOutput(stopAfter);
        var given = replace is { } r ? LayerOutput(r.Layer) : null;
        var values = new Dictionary<string, Tensor>(_stored) { [inputName] = input };
        if (replace is { } rr)
        {
            values[given!] = rr.Output;
            if (capture.Contains(rr.Layer)) captured[rr.Layer] = rr.Output;
        }
        Execute(Plans(target, given), values, capture, captured, given, Context(input));
        return values[target];
    }

    public Tensor? RunFrom(string layer, Tensor output, IReadOnlySet<string> capture, Dictionary<string, Tensor> captured)
    {
        SingleInput();
        var given = LayerOutput(layer);
        var plan = Plans(_outputs[0], given);
        if (plan.NeedsInput) return null; // a path around the layer needs the input itself
        var values = new Dictionary<string, Tensor>(_stored) { [given] = output };
        if (capture.Contains(layer)) captured[layer] = output;
        Execute(plan, values, capture, captured, given, Context(output));
        return values[_outputs[0]];
    }

    private OnnxRunContext Context(Tensor batchTensor) =>
        DeclaredBatch is null ? OnnxRunContext.None : new OnnxRunContext(DeclaredBatch, batchTensor.dim() > 0 ? batchTensor.shape[0] : null);

    private string SingleInput() => _inputs.Length == 1 ? _inputs[0]
        : throw new CnnInterpretException(ErrorKind.BadModelFile, $"The ONNX graph has {_inputs.Length} inputs ({string.Join(", ", _inputs)}); a model takes one image.");

    private string LayerOutput(string layer) =>
        _layers.TryGetValue(layer, out var i) ? _nodes[i].Outputs[0] : throw new ArgumentException($"no layer '{layer}'", nameof(layer));

    private Plan Plans(string target, string? given) => _plans.GetOrAdd(target + "\n" + given, _ => MakePlan([target], given));

    /// <summary>The nodes needed for <paramref name="targets"/>, in order, when <paramref name="given"/> is already known.</summary>
    private Plan MakePlan(IEnumerable<string> targets, string? given)
    {
        var needed = new bool[_nodes.Count];
        var needsInput = false;
        var seen = new HashSet<string>();
        var pending = new Stack<string>(targets);
        while (pending.TryPop(out var name))
        {
            if (name.Length == 0 || name == given || _stored.ContainsKey(name) || !seen.Add(name)) continue;
            if (_inputs.Contains(name)) { needsInput = true; continue; }
            var n = _producer[name];
            if (needed[n]) continue;
            needed[n] = true;
            foreach (var input in _nodes[n].Inputs) pending.Push(input);
        }
        var nodes = Enumerable.Range(0, _nodes.Count).Where(i => needed[i]).ToArray();
        var lastUse = new Dictionary<string, int>();
        for (var k = 0; k < nodes.Length; k++)
            foreach (var input in _nodes[nodes[k]].Inputs) lastUse[input] = k;
        return new Plan(nodes, needsInput, targets.ToHashSet(), lastUse);
    }

    private void Execute(Plan plan, Dictionary<string, Tensor> values, IReadOnlySet<string>? capture,
        Dictionary<string, Tensor>? captured, string? given, OnnxRunContext context)
    {
        for (var k = 0; k < plan.Nodes.Length; k++)
        {
            var node = _nodes[plan.Nodes[k]];
            var inputs = node.Inputs.Select(i => i.Length == 0 ? null : values[i]).ToArray();
            Tensor[] outputs;
            try { outputs = node.Kernel(inputs, context); }
            catch (ExternalException e) when (!e.Message.Contains("memory", StringComparison.OrdinalIgnoreCase))
            {
                throw new CnnInterpretException(ErrorKind.BadModelFile, $"{node.Proto.Describe()} failed: {e.Message.Split('\n')[0]}", inner: e);
            }
            for (var o = 0; o < node.Outputs.Length && o < outputs.Length; o++)
                if (node.Outputs[o].Length > 0 && node.Outputs[o] != given) values[node.Outputs[o]] = outputs[o];
            if (capture is not null && node.Layer.Length > 0 && capture.Contains(node.Layer)) captured![node.Layer] = values[node.Outputs[0]];
            // Free intermediates nobody reads any more (autograd keeps what it needs): without this a batch
            // would hold every layer's output until the caller's scope ends.
            foreach (var input in node.Inputs)
                if (plan.LastUse.TryGetValue(input, out var last) && last == k && Releasable(input, plan, capture, given) && values.Remove(input, out var dead))
                    dead.Dispose();
        }
    }

    private bool Releasable(string name, Plan plan, IReadOnlySet<string>? capture, string? given)
    {
        if (name == given || plan.Targets.Contains(name) || !_producer.TryGetValue(name, out var producer)) return false;
        var node = _nodes[producer];
        return capture is null || !capture.Contains(node.Layer) || node.Outputs[0] != name;
    }
}
