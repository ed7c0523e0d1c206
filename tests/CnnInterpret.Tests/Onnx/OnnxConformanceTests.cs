using CnnInterpret.Core;
using CnnInterpret.Core.Onnx;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Onnx;

/// <summary>
/// ONNX's own backend tests (Debian's libonnx-testdata, ONNX 1.12: the per-operator node tests and the small
/// models converted from PyTorch modules and operators): every test whose operators
/// are all supported runs through <see cref="OnnxGraph"/> and must match the reference outputs the way
/// ONNX's backend tests check them: |actual − expected| ≤ atol + rtol·|expected| with rtol = 1e-3,
/// atol = 1e-7 for floating point, exact for integers and booleans, same shapes and types.
/// The tests in <see cref="Refused"/> use features the importer refuses on purpose; they must be refused.
/// </summary>
public sealed class OnnxConformanceTests(ITestOutputHelper output)
{
    public const string TestData = "/usr/share/libonnx-testdata/data";

    /// <summary>Per-operator tests ("node") and small models converted from PyTorch modules and operators.</summary>
    private static readonly string[] Suites = ["node", "pytorch-converted", "pytorch-operator", "simple"];
    private const double Rtol = 1e-3, Atol = 1e-7;

    /// <summary>Tests of supported operators that exercise a feature deliberately not supported, and why.</summary>
    public static readonly Dictionary<string, string> Refused = new()
    {
        ["node/test_batchnorm_epsilon_training_mode"] = "training mode: models run in inference mode",
        ["node/test_batchnorm_example_training_mode"] = "training mode: models run in inference mode",
        ["node/test_training_dropout"] = "training mode (random)",
        ["node/test_training_dropout_default"] = "training mode (random)",
        ["node/test_training_dropout_default_mask"] = "training mode (random)",
        ["node/test_training_dropout_mask"] = "training mode (random)",
        ["node/test_training_dropout_zero_ratio"] = "training mode",
        ["node/test_training_dropout_zero_ratio_mask"] = "training mode",
        ["node/test_maxpool_with_argmax_2d_precomputed_pads"] = "MaxPool's Indices output",
        ["node/test_maxpool_with_argmax_2d_precomputed_strides"] = "MaxPool's Indices output",
        ["node/test_identity_opt"] = "optional values (not tensors)",
        ["node/test_identity_sequence"] = "sequences (not tensors)",
        ["node/test_cast_BFLOAT16_to_FLOAT"] = "bfloat16 tensors",
        ["node/test_cast_FLOAT_to_BFLOAT16"] = "bfloat16 tensors",
        ["node/test_castlike_BFLOAT16_to_FLOAT_expanded"] = "bfloat16 tensors",
        ["node/test_castlike_FLOAT_to_BFLOAT16_expanded"] = "bfloat16 tensors",
        ["node/test_pow_types_float32_uint32"] = "uint32 tensors",
        ["node/test_pow_types_float32_uint64"] = "uint64 tensors",
        ["node/test_cast_FLOAT_to_STRING"] = "string tensors",
        ["node/test_cast_STRING_to_FLOAT"] = "string tensors",
        ["node/test_castlike_FLOAT_to_STRING_expanded"] = "string tensors",
        ["node/test_castlike_STRING_to_FLOAT_expanded"] = "string tensors",
    };

    public static IEnumerable<object[]> Cases() => SupportedTests().Select(t => new object[] { t });

    /// <summary>The node tests whose graphs use only supported operators.</summary>
    public static IEnumerable<string> SupportedTests()
    {
        foreach (var suite in Suites.Where(s => Directory.Exists(Path.Combine(TestData, s))))
            foreach (var dir in Directory.GetDirectories(Path.Combine(TestData, suite)).Order(StringComparer.Ordinal))
            {
                var ops = Operators(dir);
                if (ops.Count > 0 && ops.All(OnnxOps.Supported.Contains)) yield return $"{suite}/{Path.GetFileName(dir)}";
            }
    }

    private static List<string> Operators(string dir)
    {
        try { return OnnxParser.ReadModelFile(Path.Combine(dir, "model.onnx")).Graph.Nodes.Select(n => n.OpType).Distinct().ToList(); }
        catch (CnnInterpretException) { return []; }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Node_test_matches_the_reference(string name)
    {
        if (Refused.TryGetValue(name, out var why))
        {
            var e = Assert.Throws<CnnInterpretException>(() => Run(name));
            Assert.Contains("not supported", e.Message);
            output.WriteLine($"refused as expected ({why}): {e.Message}");
            return;
        }
        var failure = Run(name);
        Assert.True(failure is null, failure);
    }

    [Fact]
    public void Conformance_summary_per_operator()
    {
        Assert.True(Directory.Exists(Path.Combine(TestData, "node")), $"ONNX's node tests are missing ({TestData}): scripts/test-deps.sh installs Debian's libonnx-testdata.");
        var rows = new SortedDictionary<string, (int Passed, int Refused, int Failed)>(StringComparer.Ordinal);
        var failures = new List<string>();
        foreach (var name in SupportedTests())
        {
            string? failure;
            try { failure = Run(name); }
            catch (CnnInterpretException e) { failure = Refused.ContainsKey(name) ? null : e.Message; }
            var refused = Refused.ContainsKey(name);
            foreach (var op in Operators(Path.Combine(TestData, name)))
            {
                var (p, r, f) = rows.GetValueOrDefault(op);
                rows[op] = refused ? (p, r + 1, f) : failure is null ? (p + 1, r, f) : (p, r, f + 1);
            }
            if (failure is not null && !refused) failures.Add($"{name}: {failure}");
        }
        foreach (var failure in failures) output.WriteLine("FAILED " + failure);
        foreach (var (op, (p, r, f)) in rows) output.WriteLine($"{op,-20} {p,3} passed {r,3} refused {f,3} failed");
        output.WriteLine($"total: {SupportedTests().Count() - Refused.Count} run, {failures.Count} failed, {Refused.Count} refused");
        Assert.All(OnnxOps.Supported, op => Assert.True(rows.GetValueOrDefault(op).Passed > 0, $"no node test of {op} passed"));
        Assert.Empty(failures);
    }

    /// <summary>
    /// Every test of ONNX's node suite, supported operators or not: each passes, or is refused at load with an
    /// error that names what is missing (an operator: with how to re-export without it), never a wrong answer
    /// or an error of another kind. Prints passed / refused (by operator or feature) / failed over all its tests.
    /// </summary>
    [Fact]
    public void Whole_node_suite_passes_or_is_refused_by_name()
    {
        var dirs = Directory.GetDirectories(Path.Combine(TestData, "node")).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(dirs);
        int passed = 0, failed = 0;
        var refusedBy = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<string>();
        foreach (var dir in dirs)
        {
            var name = $"node/{Path.GetFileName(dir)}";
            string? failure;
            try { failure = Run(name); }
            catch (CnnInterpretException e) when (e.Message.Contains("not supported", StringComparison.Ordinal))
            {
                var op = System.Text.RegularExpressions.Regex.Match(e.Message, @"uses operator '([^']+)'");
                if (op.Success)
                    Assert.Contains($"Re-export the model without '{op.Groups[1].Value}'", e.Message);
                // Features are counted by what they are, not by which input or node has them.
                var key = op.Success ? op.Groups[1].Value
                    : "feature: " + (Refused.TryGetValue(name, out var why) ? why : System.Text.RegularExpressions.Regex.Replace(e.Message, "'[^']*'", "'…'"));
                refusedBy[key] = refusedBy.GetValueOrDefault(key) + 1;
                continue;
            }
            catch (Exception e) { failure = $"{e.GetType().Name}: {e.Message}"; }
            if (failure is null) passed++;
            else
            {
                failed++;
                failures.Add($"{name}: {failure}");
            }
        }
        foreach (var f in failures) output.WriteLine("FAILED " + f);
        output.WriteLine($"ONNX node suite ({dirs.Count} tests): {passed} passed, {refusedBy.Values.Sum()} refused, {failed} failed");
        output.WriteLine("refused: " + string.Join(", ", refusedBy.Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.Empty(failures);
    }

    /// <summary>Runs every data set of a node test; null when all outputs match, else what differs.</summary>
    private static string? Run(string name)
    {
        var dir = Path.Combine(TestData, name);
        var model = OnnxParser.ReadModelFile(Path.Combine(dir, "model.onnx"));
        using var graph = new OnnxGraph(model);
        foreach (var set in Directory.GetDirectories(dir, "test_data_set_*").Order(StringComparer.Ordinal))
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var inputs = new Dictionary<string, Tensor>();
            for (var i = 0; File.Exists(Path.Combine(set, $"input_{i}.pb")); i++)
            {
                var proto = OnnxParser.ReadTensorFile(Path.Combine(set, $"input_{i}.pb"));
                var key = graph.InputInfo.Any(x => x.Name == proto.Name) ? proto.Name : graph.InputInfo[i].Name;
                inputs[key] = OnnxTensors.ToTorch(proto, $"{name} input {i}");
            }
            var actual = graph.Evaluate(inputs);
            for (var i = 0; i < graph.OutputInfo.Count; i++)
            {
                var expected = OnnxTensors.ToTorch(OnnxParser.ReadTensorFile(Path.Combine(set, $"output_{i}.pb")), $"{name} output {i}");
                var why = Compare(actual[graph.OutputInfo[i].Name], expected);
                if (why is not null) return $"{Path.GetFileName(set)} output '{graph.OutputInfo[i].Name}': {why}";
            }
        }
        return null;
    }

    private static string? Compare(Tensor actual, Tensor expected)
    {
        if (!actual.shape.SequenceEqual(expected.shape))
            return $"shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]";
        if (actual.dtype != expected.dtype) return $"type {actual.dtype}, expected {expected.dtype}";
        if (!expected.is_floating_point())
            return (actual == expected).all().item<bool>() ? null : "values differ";
        var a = actual.to_type(ScalarType.Float64);
        var e = expected.to_type(ScalarType.Float64);
        var bothNaN = a.isnan() & e.isnan();
        var bad = ((a - e).abs() > Atol + Rtol * e.abs()) & ~bothNaN;
        bad |= a.isnan() ^ e.isnan();
        var count = bad.sum().item<long>();
        return count == 0 ? null : $"{count} of {e.numel()} values outside tolerance (max abs difference {(a - e).abs().nan_to_num().max().item<double>():G4})";
    }
}
