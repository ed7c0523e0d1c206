using System.Globalization;

namespace CnnInterpret.Core.Onnx;

/// <summary>
/// Groups and display names for the layers of an imported graph. Node names made by PyTorch's exporter
/// ("/layer4/layer4.2/relu_2/Relu") carry the module tree the user wrote: see <see cref="TorchScopes"/>; the
/// group is the top-level module, as for torchvision models. Other names ("Convolution249", or none) carry
/// nothing, so layers are grouped by the resolution they work at ("stage 2 (56x56)"), non-spatial ones form the
/// "head", and the display name counts the kind within its group ("stage2_conv3"). Preprocessing layers form
/// the "preprocess" group.
/// </summary>
public static class OnnxLayerNames
{
    public sealed record Item(string Layer, string NodeName, string OpType, bool Preprocess, long[] OutputShape);

    public sealed record Names(string Group, string DisplayName);

    public static List<Names> Describe(IReadOnlyList<Item> layers)
    {
        var result = new List<Names>();
        var counts = new Dictionary<string, int>();
        var used = new HashSet<string>(layers.Select(l => l.Layer));
        var stage = 0;
        long[]? resolution = null;
        var torch = TorchScopes.Describe(layers);
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            string group, slug;
            if (layer.Preprocess) (group, slug) = ("preprocess", "preprocess");
            else if (torch[i] is { } named)
            {
                result.Add(new Names(named.Group, Unique(named.DisplayName, layer, used)));
                continue;
            }
            else if (layer.NodeName.Contains('/'))
            {
                var parts = layer.NodeName.Split('/', StringSplitOptions.RemoveEmptyEntries);
                group = parts.Length > 1 ? parts[0] : "graph";
                result.Add(new Names(group, Unique(layer.NodeName.TrimStart('/'), layer, used)));
                continue;
            }
            else if (layer.OutputShape.Length >= 3)
            {
                var size = layer.OutputShape[2..];
                if (resolution is null || !resolution.SequenceEqual(size)) { stage++; resolution = size; }
                group = $"stage {stage} ({string.Join("x", size)})";
                slug = $"stage{stage}";
            }
            else (group, slug) = ("head", "head");
            var kind = Short(layer.OpType);
            var key = slug + "_" + kind;
            counts[key] = counts.GetValueOrDefault(key) + 1;
            result.Add(new Names(group, Unique(key + counts[key].ToString(CultureInfo.InvariantCulture), layer, used)));
        }
        return result;
    }

    private static string Unique(string name, Item layer, HashSet<string> used)
    {
        // The display name may equal the layer's own name, not another layer's (lookups accept both).
        if (name == layer.Layer) return name;
        var candidate = name;
        for (var k = 2; !used.Add(candidate); k++) candidate = $"{name}#{k}";
        return candidate;
    }

    private static string Short(string op) => op switch
    {
        "Conv" => "conv",
        "BatchNormalization" => "bn",
        "MaxPool" => "maxpool",
        "AveragePool" => "avgpool",
        "GlobalAveragePool" => "gap",
        "GlobalMaxPool" => "gmp",
        "Gemm" => "fc",
        _ => op.ToLowerInvariant(),
    };
}

/// <summary>
/// The module paths in PyTorch's node names (torch.onnx.export, PyTorch 1.13 on): "/layer4/layer4.2/relu_2/Relu"
/// is the scopes of the modules called, outermost first, then the operator. Each scope is a module's name
/// without its parents' (PyTorch's _unqualified_variable_name: "relu" for layer4.2.relu, but "layer4.2" for
/// the item 2 of layer4, whose own scope comes just before), with "_N" added when the same module is called
/// again in the same parent (relu, relu_1, relu_2: the block's ReLU, called three times).
/// A layer's display name is the path of the innermost module whose output it is ("layer4.2.relu": the last
/// node inside that call), its call marked "#k" unless it is the last call; a node inside a module that is not
/// its output (the block's "Add") is the module's path, "/", and the node's own last part ("layer4.2/Add").
/// </summary>
internal static class TorchScopes
{
    private sealed record Parsed(string[] Scopes, string Op);

    public static OnnxLayerNames.Names?[] Describe(IReadOnlyList<OnnxLayerNames.Item> layers)
    {
        var parsed = layers.Select(l => l.Preprocess ? null : Parse(l.NodeName, l.OpType)).ToArray();
        var result = new OnnxLayerNames.Names?[layers.Count];
        if (parsed.All(p => p is null)) return result;
        // The raw scope prefixes ("/layer4", "/layer4/layer4.2", ...) each node sits in, and the last node of each.
        var last = new Dictionary<string, int>();
        for (var i = 0; i < layers.Count; i++)
            if (parsed[i] is { } p)
                foreach (var prefix in Prefixes(p.Scopes)) last[prefix] = i;
        // Scope names per parent, to tell a repeated call ("relu_2" beside "relu") from a module named so.
        var siblings = parsed.Where(p => p is not null).SelectMany(p => Enumerable.Range(0, p!.Scopes.Length)
            .Select(k => (Parent: string.Join('/', p.Scopes[..k]), Name: p.Scopes[k]))).ToHashSet();
        var calls = new Dictionary<(string Parent, string Name), int>();
        foreach (var (parent, name) in siblings)
        {
            var (module, call) = Call(parent, name, siblings);
            calls[(parent, module)] = Math.Max(calls.GetValueOrDefault((parent, module)), call);
        }

        string PathOf(string[] scopes)
        {
            var path = "";
            for (var k = 0; k < scopes.Length; k++)
            {
                var parent = string.Join('/', scopes[..k]);
                var (module, call) = Call(parent, scopes[k], siblings);
                path = Join(path, module);
                if (call < calls[(parent, module)]) path += $"#{call}";
            }
            return path;
        }

        for (var i = 0; i < layers.Count; i++)
        {
            if (parsed[i] is not { } p) continue;
            var group = p.Scopes.Length > 0 ? PathOf(p.Scopes[..1]).Split('.', '#')[0] : "graph";
            var outputOf = Enumerable.Range(1, p.Scopes.Length).Reverse().FirstOrDefault(k => last[string.Join('/', p.Scopes[..k])] == i);
            var display = outputOf > 0 ? PathOf(p.Scopes[..outputOf])
                : p.Scopes.Length > 0 ? PathOf(p.Scopes) + "/" + p.Op
                : p.Op;
            result[i] = new OnnxLayerNames.Names(group, display);
        }
        return result;
    }

    /// <summary>"/a/b/Op_3" → scopes [a, b] and op "Op_3", when the last part is the node's operator (PyTorch's form).</summary>
    private static Parsed? Parse(string nodeName, string opType)
    {
        if (!nodeName.StartsWith('/')) return null;
        var parts = nodeName[1..].Split('/');
        var op = parts[^1];
        if (parts.Any(p => p.Length == 0)) return null;
        if (op != opType && !(op.StartsWith(opType + "_", StringComparison.Ordinal) && op[(opType.Length + 1)..].All(char.IsAsciiDigit))) return null;
        return new Parsed(parts[..^1], op);
    }

    private static IEnumerable<string> Prefixes(string[] scopes) =>
        Enumerable.Range(1, scopes.Length).Select(k => string.Join('/', scopes[..k]));

    /// <summary>A scope's module name and call number (1 for the first call): "relu_2" → ("relu", 3) when "relu" is its sibling.</summary>
    private static (string Module, int Call) Call(string parent, string scope, HashSet<(string Parent, string Name)> siblings)
    {
        var underscore = scope.LastIndexOf('_');
        if (underscore > 0 && scope[(underscore + 1)..] is { Length: > 0 } n && n.All(char.IsAsciiDigit)
            && siblings.Contains((parent, scope[..underscore])) && int.TryParse(n, out var k))
            return (scope[..underscore], k + 1);
        return (scope, 1);
    }

    /// <summary>
    /// A child's scope onto its parent's module path: "layer4" + "layer4.2" → "layer4.2" (the child extends the
    /// parent's own name with indices), "layer4.2" + "relu" → "layer4.2.relu".
    /// </summary>
    private static string Join(string path, string scope)
    {
        if (path.Length == 0) return scope;
        var atoms = path.Split('.');
        var own = atoms.Length - 1;
        while (own > 0 && atoms[own].All(char.IsAsciiDigit)) own--;
        var unqualified = string.Join('.', atoms[own..]);
        if (scope.StartsWith(unqualified + ".", StringComparison.Ordinal) && scope[(unqualified.Length + 1)..].Split('.').All(a => a.Length > 0 && a.All(char.IsAsciiDigit)))
            return string.Join('.', atoms[..own].Append(scope));
        return path + "." + scope;
    }
}
