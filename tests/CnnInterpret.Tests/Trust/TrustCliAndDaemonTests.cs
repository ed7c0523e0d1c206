using System.Diagnostics;
using System.Text.Json;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Trust;

/// <summary>The trust views as users reach them: the CLI's metrics/sanity/layer-sweep files and the daemon's methods.</summary>
public sealed class TrustCliAndDaemonTests
{
    private static readonly string Image = Path.Combine(Repo.Samples, "trouser-0.png");

    private static (int Code, string Stdout, string Stderr) Cli(params string[] args) => CliProcess.Run(args);

    [Fact]
    public void Metrics_writes_both_curves_their_aucs_and_the_random_reference()
    {
        var outDir = Repo.TempDir();
        var (code, stdout, stderr) = Cli("metrics", "--method", "grad-cam", "--layer", "block2_conv2", "--steps", "16", Image, "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Contains("deletion AUC", stdout);
        var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "result.json"))).RootElement;
        Assert.Equal(17, result.GetProperty("fractions").GetArrayLength());
        var deletion = File.ReadAllBytes(Path.Combine(outDir, "deletion.npy"));
        Assert.Equal(128 + 17 * 4, deletion.Length); // a 128-byte .npy header, 17 float32 values
        var auc = result.GetProperty("deletionAuc").GetDouble();
        Assert.InRange(auc, 0, 1);
        Assert.InRange(result.GetProperty("random").GetProperty("deletionAuc").GetDouble(), 0, 1);
        Assert.True(File.Exists(Path.Combine(outDir, "metrics.png")));
        Assert.Contains("ROAD most relevant first", stdout);
        var road = result.GetProperty("road");
        Assert.Equal([10, 20, 30, 40, 50, 60, 70, 80, 90], road.GetProperty("percentages").EnumerateArray().Select(p => p.GetDouble()));
        var most = NpyReader.ReadFloats(Path.Combine(outDir, "road-most.npy"));
        var least = NpyReader.ReadFloats(Path.Combine(outDir, "road-least.npy"));
        Assert.Equal([9], most.Shape);
        Assert.Equal(most.Data.Average(), road.GetProperty("mostRelevantFirstAuc").GetDouble(), 1e-6);
        Assert.Equal(least.Data.Average(), road.GetProperty("leastRelevantFirstAuc").GetDouble(), 1e-6);
        Assert.Equal((least.Data.Average() - most.Data.Average()) / 2, road.GetProperty("combined").GetDouble(), 1e-6);
        // A trained model and Grad-CAM: removing what the map ranks highest hurts more than removing what it ranks lowest.
        Assert.True(road.GetProperty("combined").GetDouble() > 0, $"ROAD combined {road.GetProperty("combined").GetDouble()}");
    }

    [Fact]
    public void Sanity_and_layer_sweep_write_their_strips()
    {
        var outDir = Repo.TempDir();
        var (code, stdout, stderr) = Cli("sanity", "--method", "grad-cam", "--stages", "3", Image, "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Contains("depends on the learned weights", stdout);
        var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "result.json"))).RootElement;
        Assert.Equal(4, result.GetProperty("stages").GetArrayLength());
        Assert.False(result.GetProperty("flagged").GetBoolean());

        (code, _, stderr) = Cli("explain", "--method", "layer-sweep", Image, "--out", outDir);
        Assert.True(code == 0, stderr);
        var npy = File.ReadAllBytes(Path.Combine(outDir, "layer-sweep.npy"));
        var header = System.Text.Encoding.ASCII.GetString(npy, 10, npy[8] | npy[9] << 8);
        Assert.Contains("'shape': (6, 28, 28)", header);
    }

    [Fact]
    public async Task The_daemon_serves_metrics_sanity_and_sweeps()
    {
        await using var daemon = new DaemonProcess();
        var metrics = await daemon.ResultAsync("explain/metrics", new { image = Image, method = "grad-cam", steps = 8 });
        Assert.Equal(9, metrics.GetProperty("fractions").GetArrayLength());
        Assert.Equal(9, metrics.GetProperty("deletion").GetProperty("values").GetArrayLength());
        Assert.Equal("Trouser", metrics.GetProperty("targetLabel").GetString());
        Assert.Equal("probability", metrics.GetProperty("score").GetString());
        Assert.Equal(9, metrics.GetProperty("roadPercentages").GetArrayLength());
        Assert.Equal(9, metrics.GetProperty("roadMostRelevantFirst").GetProperty("values").GetArrayLength());
        Assert.Equal(9, metrics.GetProperty("roadLeastRelevantFirst").GetProperty("values").GetArrayLength());
        Assert.True(metrics.TryGetProperty("roadCombined", out _));

        var sanity = await daemon.ResultAsync("explain/sanity", new { image = Image, method = "grad-cam", stages = 2 });
        Assert.Equal(3, sanity.GetProperty("stages").GetArrayLength());
        Assert.Equal("classifier.6", sanity.GetProperty("stages")[1].GetProperty("layer").GetString());

        var sweep = await daemon.ResultAsync("explain/layerSweep", new { image = Image });
        Assert.Equal(6, sweep.GetProperty("layers").GetArrayLength());
        Assert.StartsWith("iVBOR", sweep.GetProperty("png").GetString()); // base64 of a PNG signature

        var (code, message, _) = await daemon.ErrorAsync("explain/metrics", new { image = Image, method = "no-such-method" });
        Assert.Equal(1004, code);
        Assert.Contains("grad-cam", message);
    }

    /// <summary>
    /// The sanity check randomises the loaded model in place: a prediction asked while it runs must wait for it and see
    /// the original weights. The prediction's image was predicted before, so with the original weights it is a cache hit
    /// with the same answer; run beside the randomised model it would miss (the weights' hash changed) and differ.
    /// </summary>
    [Fact]
    public async Task Requests_sent_during_a_sanity_check_wait_for_it_and_see_the_original_weights()
    {
        var other = Path.Combine(Repo.Samples, "bag-0.png");
        await using var daemon = new DaemonProcess();
        var before = await daemon.ResultAsync("image/predict", new { image = other, topK = 3 });
        var sanity = await daemon.SendAsync("explain/sanity", new System.Text.Json.Nodes.JsonObject
        {
            ["image"] = Image, ["method"] = "lime", ["samples"] = 400, ["stages"] = 3, ["workDoneToken"] = "sanity",
        });
        int? predict = null;
        var answers = new List<JsonElement>();
        var sanityEnded = false; // its last progress, sent before the weights are restored and the others may start
        var predictAfterTheEnd = false;
        while (answers.Count < 2)
        {
            var message = await daemon.ReadAsync();
            if (message.TryGetProperty("id", out var id))
            {
                answers.Add(message);
                if (id.GetInt32() == predict) predictAfterTheEnd = sanityEnded;
                continue;
            }
            var value = message.GetProperty("params").GetProperty("value");
            if (value.GetProperty("kind").GetString() == "end") sanityEnded = true;
            else if (predict is null && value.GetProperty("message").GetString()?.StartsWith("randomising", StringComparison.Ordinal) == true)
                predict = await daemon.SendAsync("image/predict", new { image = other, topK = 3 }); // the first layer is being randomised
        }
        Assert.NotNull(predict);
        Assert.True(predictAfterTheEnd, "the prediction was answered while the sanity check ran");
        var sanityResult = answers.Single(a => a.GetProperty("id").GetInt32() == sanity).GetProperty("result");
        Assert.Equal(4, sanityResult.GetProperty("stages").GetArrayLength());
        var during = answers.Single(a => a.GetProperty("id").GetInt32() == predict).GetProperty("result");
        Assert.Equal(before.GetProperty("top").ToString(), during.GetProperty("top").ToString());
        // And after it, the model is the original: the sanity image's own prediction as a fresh daemon gives it.
        var again = await daemon.ResultAsync("image/predict", new { image = Image, topK = 3 });
        await using var fresh = new DaemonProcess();
        Assert.Equal((await fresh.ResultAsync("image/predict", new { image = Image, topK = 3 })).GetProperty("top").ToString(), again.GetProperty("top").ToString());
    }
}
