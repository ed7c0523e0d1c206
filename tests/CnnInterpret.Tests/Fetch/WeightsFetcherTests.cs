using System.Security.Cryptography;
using CnnInterpret.Core;
using CnnInterpret.Core.Models;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Fetch;

/// <summary>The real download path (HTTP, resume, verification, atomic write) against a server on 127.0.0.1.</summary>
public sealed class WeightsFetcherTests
{
    // A real PyTorch checkpoint (legacy format, like torchvision's VGG16), named the torchvision way: by its sha256's first hex digits.
    private static readonly byte[] Content = File.ReadAllBytes(Path.Combine(Repo.Root, "tests", "CnnInterpret.Tests", "Checkpoints", "fixtures", "tiny-vgg_legacy.pth"));
    private static readonly string Sha = Convert.ToHexStringLower(SHA256.HashData(Content));
    private static readonly string FileName = $"tiny-{Sha[..8]}.pth";

    private static WeightsDownload Source(LocalWeightsServer server) => new(server.Url(FileName), FileName);

    [Fact]
    public async Task Downloads_verifies_and_reports_progress()
    {
        using var server = new LocalWeightsServer(Content);
        var cache = Repo.TempDir();
        var reports = new List<FetchProgress>();
        var path = await WeightsFetcher.FetchAsync(Source(server), cache, progress: new SyncProgress<FetchProgress>(reports.Add));
        Assert.Equal(Path.Combine(cache, FileName), path);
        Assert.Equal(Content, File.ReadAllBytes(path));
        Assert.Equal(Content.Length, reports[^1].Received);
        Assert.Equal(Content.Length, reports[^1].Total);
        Assert.False(File.Exists(path + ".partial"));

        // Fetching again finds the verified file and downloads nothing.
        var requests = server.RangeHeaders.Count;
        await WeightsFetcher.FetchAsync(Source(server), cache);
        Assert.Equal(requests, server.RangeHeaders.Count);
    }

    [Fact]
    public async Task An_interrupted_download_resumes_where_it_stopped()
    {
        using var server = new LocalWeightsServer(Content) { DisconnectAfter = Content.Length / 2 };
        var cache = Repo.TempDir();
        var e = await Assert.ThrowsAsync<CnnInterpretException>(() => WeightsFetcher.FetchAsync(Source(server), cache));
        Assert.Equal(ErrorKind.Network, e.Kind);
        Assert.Contains("again to resume", e.Message);
        Assert.False(File.Exists(Path.Combine(cache, FileName)), "a half file must never be taken as good");
        var partial = new FileInfo(Path.Combine(cache, FileName + ".partial"));
        Assert.True(partial.Exists && partial.Length > 0 && partial.Length < Content.Length);

        var path = await WeightsFetcher.FetchAsync(Source(server), cache);
        Assert.Equal($"bytes={partial.Length}-", server.RangeHeaders[^1]);
        Assert.Equal(Content, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task A_file_with_the_wrong_hash_is_deleted_not_kept()
    {
        var tampered = (byte[])Content.Clone();
        tampered[^10] ^= 0x55;
        using var server = new LocalWeightsServer(tampered);
        var cache = Repo.TempDir();
        var e = await Assert.ThrowsAsync<CnnInterpretException>(() => WeightsFetcher.FetchAsync(Source(server), cache));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        Assert.Contains($"does not start with {Sha[..8]}", e.Message);
        Assert.Empty(Directory.GetFiles(cache));

        // A full sha256 that does not match is refused too, even when the name's prefix matches.
        using var honest = new LocalWeightsServer(Content);
        e = await Assert.ThrowsAsync<CnnInterpretException>(() => WeightsFetcher.FetchAsync(Source(honest), cache, sha256: new string('0', 64)));
        Assert.Contains("expected 0000", e.Message);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public async Task Server_errors_and_unreachable_hosts_say_what_to_do()
    {
        using var server = new LocalWeightsServer(Content) { FailWith = 503 };
        var cache = Repo.TempDir();
        var e = await Assert.ThrowsAsync<CnnInterpretException>(() => WeightsFetcher.FetchAsync(Source(server), cache));
        Assert.Equal(ErrorKind.Network, e.Kind);
        Assert.Contains("503", e.Message);

        var closedPort = server.Port;
        server.Dispose();
        e = await Assert.ThrowsAsync<CnnInterpretException>(() => WeightsFetcher.FetchAsync(new WeightsDownload($"http://127.0.0.1:{closedPort}/{FileName}", FileName), cache));
        Assert.Equal(ErrorKind.Network, e.Kind);
        Assert.Contains("models add", e.Message);
        Assert.DoesNotContain(Directory.GetFiles(cache), f => !f.EndsWith(".partial"));
    }

    [Fact]
    public async Task The_url_override_fetches_from_a_mirror()
    {
        using var mirror = new LocalWeightsServer(Content);
        var cache = Repo.TempDir();
        var source = new WeightsDownload("http://127.0.0.1:9/unreachable/" + FileName, FileName);
        var path = await WeightsFetcher.FetchAsync(source, cache, url: mirror.Url("mirror/" + FileName));
        Assert.Equal(Content, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task A_malformed_sha256_is_refused_before_anything_is_downloaded()
    {
        using var mirror = new LocalWeightsServer(Content);
        var cache = Repo.TempDir();
        var source = new WeightsDownload(mirror.Url(FileName), FileName);
        var e = await Assert.ThrowsAsync<CnnInterpretException>(() => WeightsFetcher.FetchAsync(source, cache, sha256: "xyz"));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("64 hexadecimal digits", e.Message);
        Assert.Empty(Directory.GetFiles(cache)); // no .partial: nothing was fetched
    }

    [Fact]
    public async Task A_second_download_of_the_same_file_at_once_says_so()
    {
        var cache = Repo.TempDir();
        using var mirror = new LocalWeightsServer(Content);
        await using var busy = new FileStream(Path.Combine(cache, FileName + ".partial"), FileMode.Create, FileAccess.Write, FileShare.None);
        var e = await Assert.ThrowsAsync<CnnInterpretException>(() => WeightsFetcher.FetchAsync(new WeightsDownload(mirror.Url(FileName), FileName), cache));
        Assert.Contains("Another download is writing", e.Message);
    }

    [Fact]
    public void Adding_a_file_fetched_elsewhere_verifies_it()
    {
        var cache = Repo.TempDir();
        var downloaded = Path.Combine(Repo.TempDir(), "downloaded.pth");
        File.WriteAllBytes(downloaded, Content);
        var path = WeightsFetcher.Add(new WeightsDownload("http://example.invalid/" + FileName, FileName), downloaded, cache);
        Assert.Equal(Content, File.ReadAllBytes(path));

        var wrong = Path.Combine(Repo.TempDir(), "wrong.pth");
        File.WriteAllBytes(wrong, Content[..100]);
        var e = Assert.Throws<CnnInterpretException>(() => WeightsFetcher.Add(new WeightsDownload("http://example.invalid/" + FileName, FileName), wrong, Repo.TempDir()));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
    }

    [Fact]
    public void Hash_prefixes_are_read_from_torchvision_file_names()
    {
        Assert.Equal("397923af", WeightsFetcher.HashPrefix("vgg16-397923af.pth"));
        Assert.Equal("f37072fd", WeightsFetcher.HashPrefix("resnet18-f37072fd.pth"));
        Assert.Null(WeightsFetcher.HashPrefix("my-model.pth"));
    }

    /// <summary>Progress that reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
