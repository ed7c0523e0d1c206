using System.Text.Json;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Cli;

/// <summary>
/// <c>cnn-interpret bench</c> runs the benchmarks' own program (src/CnnInterpret.Bench, what <c>npm run bench</c> runs)
/// with every argument but the word <c>bench</c>, its output and its exit code.
/// </summary>
public sealed class BenchCommandTests
{
    [Fact]
    public void Bench_through_the_cli_prints_the_benchmarks_figures()
    {
        var (code, stdout, stderr) = CliProcess.Run(["bench", "--only", "forward", "--runs", "2", "--json"]);
        Assert.True(code == 0, stderr);
        var figures = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("fashion-vgg", figures.GetProperty("model").GetString());
        Assert.Equal(Repo.FashionVgg.ParameterCount, figures.GetProperty("parameters").GetInt64());
        Assert.True(figures.GetProperty("batch64ImagesPerSecond").GetDouble() > 0);
    }

    [Fact]
    public void Bench_usage_mistakes_keep_the_clis_message_and_exit_code()
    {
        var (code, stdout, stderr) = CliProcess.Run(["bench", "--only", "forward,nope"]);
        Assert.Equal(64, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: Unknown bench section(s) nope; sections: forward, gradcam, lime, responsiveness, peers, memory", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }
}
