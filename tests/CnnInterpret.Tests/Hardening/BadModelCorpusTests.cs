using CnnInterpret.Core;
using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Hardening;

/// <summary>
/// Every file of the bad-model corpus (tests/corpus/make_bad_models.py) opened through the real daemon: a clear
/// bad-model (or which-architecture) error, never an internal error, never code run, and the daemon serves on.
/// </summary>
[Collection(SerialTorch.Name)]
public sealed class BadModelCorpusTests
{
    private const string Marker = "/tmp/cnn-interpret-evil-marker";
    private static readonly string Corpus = Path.Combine(Repo.Root, "tests", "corpus", "models");

    [Fact]
    public void The_corpus_has_what_the_issue_lists()
    {
        var files = Directory.GetFiles(Corpus).Select(Path.GetFileName).ToList();
        Assert.True(files.Count >= 20, $"{files.Count} files");
        foreach (var kind in new[] { "truncated", "corrupt", "zip-of-garbage", "wrong-architecture", "evil-", "unknown-operator", "missing-external-data", "absurd", "empty" })
            Assert.Contains(files, f => f!.Contains(kind));
    }

    [Fact]
    public async Task Every_file_is_refused_clearly_and_nothing_runs()
    {
        File.Delete(Marker);
        await using var daemon = new DaemonProcess();
        var failures = new List<string>();
        foreach (var file in Directory.GetFiles(Corpus).Order())
        {
            var name = Path.GetFileName(file);
            var (code, message, _) = await daemon.ErrorAsync("models/load", new { model = file });
            if (code is not ((int)ErrorKind.BadModelFile or (int)ErrorKind.InvalidArgument))
                failures.Add($"{name}: code {code}: {message}");
            else if (!message.Contains(name))
                failures.Add($"{name}: the message does not name the file: {message}");
            var ok = await daemon.ResultAsync("image/predict", new { image = Path.Combine(Repo.Samples, "dress-0.png"), topK = 1 });
            Assert.Equal("Dress", ok.GetProperty("top")[0].GetProperty("label").GetString());
        }

        // A checkpoint for another architecture as weights for a built-in model lists what does not fit.
        var (wrongCode, wrongMessage, _) = await daemon.ErrorAsync("models/load", new { model = "vgg16", weights = Path.Combine(Corpus, "wrong-architecture-for-vgg16.pth") });
        Assert.Equal((int)ErrorKind.BadModelFile, wrongCode);
        Assert.Contains("classifier.6.weight", wrongMessage);

        Assert.Empty(failures);
        Assert.False(File.Exists(Marker), "a pickle in the corpus ran code");
        Assert.Equal(0, await daemon.CloseAndWaitAsync());
    }
}
