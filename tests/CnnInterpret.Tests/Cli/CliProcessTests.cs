using System.Text.Json;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Cli;

/// <summary>The cnn-interpret command as a user runs it: a real process, its stdout and exit code.</summary>
public sealed class CliProcessTests
{
    private static (int Code, string Stdout, string Stderr) Run(params string[] args) => CliProcess.Run(args);

    private static string Sample(string name) => Path.Combine(Repo.Samples, name);

    [Theory]
    [InlineData("explain", "IMAGE", "--method", "feature-maps", "--layer", "features.0", "--out")] // an option with no value
    [InlineData("layers", "--model")]
    [InlineData("explain", "IMAGE", "--method", "feature-maps", "--layer", "features.0", "--out", "EXISTING-FILE")] // --out is a file
    [InlineData("sanity", "--method", "grad-cam", "IMAGE", "--out", "DIR", "--stages", "0")]
    public void Usage_mistakes_get_one_line_and_exit_code_64_never_a_stack_trace(params string[] args)
    {
        var file = Path.Combine(Repo.TempDir(), "existing.png");
        File.WriteAllBytes(file, [1]);
        args = args.Select(a => a switch { "IMAGE" => Sample("bag-0.png"), "EXISTING-FILE" => file, "DIR" => Repo.TempDir(), _ => a }).ToArray();
        var (code, _, stderr) = Run(args);
        Assert.Equal(64, code);
        Assert.StartsWith("error: ", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("internal error", stderr);
    }

    [Fact]
    public void Layers_json_is_a_flat_forward_ordered_list_with_shapes()
    {
        var (code, stdout, _) = Run("layers", "--model", "fashion-vgg", "--json");
        Assert.Equal(0, code);
        var layers = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(24, layers.GetArrayLength());
        Assert.Equal("features.0", layers[0].GetProperty("name").GetString());
        Assert.Equal("block1_conv1", layers[0].GetProperty("displayName").GetString());
        Assert.Equal("Conv2d", layers[0].GetProperty("kind").GetString());
        Assert.Equal([16, 28, 28], layers[0].GetProperty("outputShape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([10], layers[23].GetProperty("outputShape").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public void Predict_json_gives_one_entry_per_image()
    {
        var (code, stdout, _) = Run("predict", "--json", "--top", "2", Sample("trouser-0.png"), Sample("sneaker-0.png"));
        Assert.Equal(0, code);
        var results = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(2, results.GetArrayLength());
        Assert.Equal("Trouser", results[0].GetProperty("top")[0].GetProperty("label").GetString());
        Assert.Equal(1, results[0].GetProperty("top")[0].GetProperty("index").GetInt32());
        Assert.Equal(2, results[1].GetProperty("top").GetArrayLength());
        Assert.Equal(10, results[1].GetProperty("logits").GetArrayLength());
        var probability = results[0].GetProperty("top")[0].GetProperty("probability").GetDouble();
        Assert.InRange(probability, 0.5, 1.0);
    }

    [Fact]
    public void Explain_feature_maps_writes_pngs_an_npy_and_a_description()
    {
        var outDir = Repo.TempDir();
        var (code, _, stderr) = Run("explain", "--model", "fashion-vgg", Sample("bag-0.png"), "--method", "feature-maps",
            "--layer", "block1_conv2", "--channels", "2-5", "--out", outDir, "--raw");
        Assert.True(code == 0, stderr);
        var npy = File.ReadAllBytes(Path.Combine(outDir, "feature-maps.npy"));
        var header = System.Text.Encoding.ASCII.GetString(npy, 10, npy[8] | npy[9] << 8);
        Assert.Contains("'shape': (4, 28, 28)", header);
        Assert.Equal(10 + header.Length + 4 * 4 * 28 * 28, npy.Length);
        var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "result.json"))).RootElement;
        Assert.Equal([2, 3, 4, 5], result.GetProperty("channels").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(["feature-maps.png", "feature-maps.npy"], result.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("file").GetString()));
        Assert.True(File.Exists(Path.Combine(outDir, "feature-maps.png")));
    }

    [Fact]
    public void Report_writes_an_html_page_and_prints_its_path()
    {
        var outDir = Repo.TempDir();
        var (code, stdout, stderr) = Run("report", Sample("coat-0.png"), "--out", outDir);
        Assert.True(code == 0, stderr);
        var index = stdout.Trim();
        Assert.Equal(Path.Combine(outDir, "index.html"), index);
        var html = File.ReadAllText(index);
        Assert.Contains("Feature maps", html);
        Assert.Contains("block3_conv2", html);
        Assert.True(File.Exists(Path.Combine(outDir, "feature-maps-features.0.png")));
        Assert.Contains("from 1 forward pass", stderr);
    }

    [Fact]
    public void Bad_input_gives_one_clear_line_and_a_nonzero_exit()
    {
        var (code, stdout, stderr) = Run("explain", Sample("bag-0.png"), "--method", "feature-maps", "--layer", "fc9", "--out", Repo.TempDir());
        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: Model 'fashion-vgg' has no layer 'fc9'", stderr);
        Assert.DoesNotContain("   at ", stderr);

        (code, _, stderr) = Run("predict", "/no/such/image.png");
        Assert.Equal(1, code);
        Assert.Contains("does not exist", stderr);

        (code, _, stderr) = Run("layers", "--modle", "fashion-vgg");
        Assert.Equal(64, code);
        Assert.Contains("--modle", stderr);
    }

    [Fact]
    public void Evaluate_reports_at_least_ninety_percent_on_the_test_set()
    {
        Assert.True(Repo.HasFashionMnist, "Fashion-MNIST is missing: scripts/test-deps.sh installs Debian's dataset-fashion-mnist");
        var (code, stdout, stderr) = Run("evaluate", "--model", "fashion-vgg", "--json");
        Assert.True(code == 0, stderr);
        var result = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(10000, result.GetProperty("images").GetInt32());
        Assert.True(result.GetProperty("accuracy").GetDouble() >= 0.90, stdout);
    }
}
