using System.Text.Json;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Gradients;

/// <summary>The gradient methods from the command line, as a user runs them.</summary>
public sealed class GradientCliTests
{
    private static string Sample(string name) => Path.Combine(Repo.Samples, name);

    [Fact]
    public void Integrated_gradients_writes_its_map_attributions_and_completeness()
    {
        var outDir = Repo.TempDir();
        var (code, stdout, stderr) = CliProcess.Run(["explain", Sample("sneaker-0.png"), "--method", "integrated-gradients", "--steps", "32", "--baseline", "blur", "--out", outDir]);
        Assert.True(code == 0, stderr);
        Assert.Contains("completenessError", stdout);
        var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "result.json"))).RootElement;
        Assert.Equal("pixel", result.GetProperty("kind").GetString());
        Assert.Equal(32, result.GetProperty("options").GetProperty("steps").GetInt32());
        Assert.Equal("blur", result.GetProperty("options").GetProperty("baseline").GetString());
        Assert.Equal("adaptive", result.GetProperty("options").GetProperty("rule").GetString());
        Assert.InRange(result.GetProperty("figures").GetProperty("completenessError").GetDouble(), 0, 0.2);
        Assert.Equal([28, 28], NpyReader.ReadFloats(Path.Combine(outDir, "integrated-gradients.npy")).Shape);
        Assert.Equal([1, 28, 28], NpyReader.ReadFloats(Path.Combine(outDir, "integrated-gradients-attributions.npy")).Shape);
        Assert.True(File.Exists(Path.Combine(outDir, "integrated-gradients.png")));
    }

    [Theory]
    [InlineData("integrated-gradients", "--baseline", "purple", "one of black, blur, mean")]
    [InlineData("smoothgrad", "--samples", "0", "a whole number from 1 to 4096")]
    [InlineData("saliency", "--layer", "features.3", "takes no layer")]
    [InlineData("guided-backprop", "--steps", "8", "Unknown option: --steps")]
    public void Bad_input_is_one_line_naming_what_is_allowed_and_exit_code_64(string method, string flag, string value, string expected)
    {
        var (code, _, stderr) = CliProcess.Run(["explain", Sample("bag-0.png"), "--method", method, flag, value, "--out", Repo.TempDir()]);
        Assert.Equal(64, code);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("   at ", stderr);
    }
}
