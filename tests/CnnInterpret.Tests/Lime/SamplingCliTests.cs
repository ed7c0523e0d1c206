using System.Text.Json;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Lime;

/// <summary>explain --method lime | kernel-shap | gradient-shap as a user runs it: the files it writes, read back as numpy would.</summary>
public sealed class SamplingCliTests
{
    private static readonly string Boot = Path.Combine(Repo.Samples, "ankle-boot-0.png");

    private static void Run(params string[] args)
    {
        var (code, _, stderr) = CliProcess.Run(args);
        Assert.True(code == 0, stderr);
    }

    [Fact]
    public void Lime_writes_segments_weights_map_and_result()
    {
        var dir = Repo.TempDir();
        Run("explain", Boot, "--method", "lime", "--samples", "300", "--seed", "3", "--out", dir, "--quiet");
        var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "result.json"))).RootElement;
        var s = result.GetProperty("segments").GetInt32();
        var segments = NpyReader.Read(Path.Combine(dir, "segments.npy"));
        Assert.Equal("<i4", segments.Descr);
        Assert.Equal([28, 28], segments.Shape);
        var ids = segments.Ints();
        Assert.Equal(Enumerable.Range(0, s), ids.Distinct().Order());
        var weights = NpyReader.Read(Path.Combine(dir, "lime-weights.npy"));
        Assert.Equal([s], weights.Shape);
        var map = NpyReader.Read(Path.Combine(dir, "lime.npy"));
        Assert.Equal([28, 28], map.Shape);
        var w = weights.Floats();
        Assert.Equal(ids.Select(i => w[i]), map.Floats());
        Assert.Equal(300, result.GetProperty("samples").GetInt32());
        Assert.Equal(3, result.GetProperty("seed").GetInt32());
        Assert.Equal("black", result.GetProperty("baseline").GetString());
        Assert.Equal("probability", result.GetProperty("score").GetString());
        foreach (var field in new[] { "intercept", "r2", "fx", "stability" }) Assert.Equal(JsonValueKind.Number, result.GetProperty(field).ValueKind);
        Assert.True(File.Exists(Path.Combine(dir, "lime.png")));
    }

    [Fact]
    public void KernelShap_and_GradientShap_write_their_arrays()
    {
        var dir = Repo.TempDir();
        Run("explain", Boot, "--method", "kernel-shap", "--samples", "400", "--target", "9", "--out", dir, "--quiet");
        var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "result.json"))).RootElement;
        var s = result.GetProperty("segments").GetInt32();
        var values = NpyReader.Read(Path.Combine(dir, "shap-values.npy"));
        Assert.Equal([s], values.Shape);
        var map = NpyReader.Read(Path.Combine(dir, "shap.npy"));
        Assert.Equal([28, 28], map.Shape);
        Assert.Equal(map.Floats(), NpyReader.Read(Path.Combine(dir, "kernel-shap.npy")).Floats()); // <method>.npy, as every method writes
        Assert.Equal([28, 28], NpyReader.Read(Path.Combine(dir, "segments.npy")).Shape);
        Assert.False(File.Exists(Path.Combine(dir, "shap-values-second.npy"))); // one target asked for
        var fx = result.GetProperty("fx").GetDouble();
        var fbaseline = result.GetProperty("fbaseline").GetDouble();
        Assert.Equal(fx - fbaseline, values.Floats().Sum(v => (double)v), 5);

        var gradient = Repo.TempDir();
        Run("explain", Boot, "--method", "gradient-shap", "--samples", "32", "--layer", "block3_conv1", "--out", gradient, "--quiet");
        var g = JsonDocument.Parse(File.ReadAllText(Path.Combine(gradient, "result.json"))).RootElement;
        Assert.Equal("features.10", g.GetProperty("layer").GetString());
        Assert.Equal(2, g.GetProperty("targets").GetArrayLength()); // no target: the two most probable classes
        Assert.Equal([64, 7, 7], NpyReader.Read(Path.Combine(gradient, "gradient-shap.npy")).Shape);
        Assert.Equal([64, 7, 7], NpyReader.Read(Path.Combine(gradient, "gradient-shap-second.npy")).Shape);
        Assert.Equal(JsonValueKind.Number, g.GetProperty("fbaseline").ValueKind);
    }
}
