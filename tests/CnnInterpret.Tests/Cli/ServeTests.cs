using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Cli;

/// <summary><c>cnn-interpret serve</c> is the daemon, with the daemon's options.</summary>
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
}
