using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Cli;

/// <summary>
/// <c>cnn-interpret serve</c> is the daemon, with the daemon's options: the CLI (which calls only Core) runs the daemon's
/// own program with its stdio, every argument but the word <c>serve</c>, and its exit code.
/// </summary>
public sealed class ServeTests
{
    private static readonly string Image = Path.Combine(Repo.Samples, "ankle-boot-0.png");

    [Fact]
    public async Task Cli_serve_passes_its_options_on_to_the_daemon()
    {
        await using var daemon = DaemonProcess.ThroughCli("--max-pixels", "100");
        var (code, message, _) = await daemon.ErrorAsync("image/predict", new { image = Image, topK = 1 });
        Assert.Equal(1001, code);
        Assert.Contains("over the limit of 100", message);
    }

    [Fact]
    public async Task Cli_serve_passes_on_the_cache_folder_and_the_memory_budget()
    {
        // Each daemon below has a cache folder of its own in CNN_INTERPRET_CACHE: only --cache-dir can make them share one.
        var cache = Repo.TempDir();
        var request = new { layer = "features.0", channels = new[] { 2 }, steps = 3, seed = 1 };
        await using (var first = DaemonProcess.ThroughCli("--cache-dir", cache, "--memory-budget", "300"))
        {
            var info = await first.ResultAsync("daemon/info");
            Assert.Equal(300L << 20, info.GetProperty("memoryBudgetBytes").GetInt64());
            var computed = await first.ResultAsync("explain/filterPatterns", request);
            Assert.True(computed.GetProperty("forwardPasses").GetInt32() > 0);
            Assert.Equal(0, await first.CloseAndWaitAsync()); // the daemon's exit code, through the CLI
        }
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(cache, "filter-patterns"), "*", SearchOption.AllDirectories));

        await using var second = DaemonProcess.ThroughCli($"--cache-dir={cache}");
        var cached = await second.ResultAsync("explain/filterPatterns", request);
        Assert.Equal(0, cached.GetProperty("forwardPasses").GetInt32());
        Assert.True(cached.GetProperty("patterns")[0].GetProperty("fromCache").GetBoolean());
    }

    [Fact]
    public void Cli_serve_exits_with_the_daemons_code_and_message()
    {
        var (code, stdout, stderr) = CliProcess.Run(["serve", "--memory-budget", "0"]);
        Assert.Equal(64, code);
        Assert.Equal("", stdout);
        Assert.Contains("error: The memory budget must be at least 64 MiB", stderr);
    }
}
