using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;

namespace CnnInterpret.Core.Models;

public sealed record FetchProgress(long Received, long? Total, double BytesPerSecond)
{
    public double? Fraction => Total is > 0 ? (double)Received / Total.Value : null;
}

/// <summary>
/// Downloads published weights into the cache folder: resumes an interrupted download (HTTP Range on the
/// <c>.partial</c> file), reports progress, checks the sha256 (torchvision names its files by the hash's first
/// hex digits; the full hash too when known) and only then moves the file into place, so a half or wrong
/// file is never taken as good.
/// </summary>
public static class WeightsFetcher
{
    public static async Task<string> FetchAsync(WeightsDownload source, string weightsDirectory, string? url = null, string? sha256 = null,
        IProgress<FetchProgress>? progress = null, HttpClient? http = null, CancellationToken cancellation = default)
    {
        url ??= source.Url;
        sha256 = ExpectedSha256(sha256, source);
        Directory.CreateDirectory(weightsDirectory);
        var target = Path.Combine(weightsDirectory, source.FileName);
        if (File.Exists(target))
        {
            Verify(target, source.FileName, sha256, deleteOnMismatch: false);
            return target;
        }
        var partial = target + ".partial";
        var ownClient = http is null;
        http ??= new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        try
        {
            var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (have > 0) request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(have, null);
            using var response = await Send(http, request, url, cancellation).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
            {
                // The partial file is already complete (or longer than the file): check it as it is.
                return Complete(partial, target, source.FileName, sha256);
            }
            if (!response.IsSuccessStatusCode)
                throw new CnnInterpretException(ErrorKind.Network,
                    $"Downloading {url} failed: the server answered {(int)response.StatusCode} {response.ReasonPhrase}. Try again later, or use a mirror with --url.");
            var resuming = response.StatusCode == HttpStatusCode.PartialContent && have > 0;
            if (!resuming) have = 0;
            var total = response.Content.Headers.ContentLength is { } length ? length + have : (long?)null;

            await using (var output = OpenPartial(partial, resuming))
            await using (var input = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false))
            {
                var buffer = new byte[1 << 16];
                var clock = Stopwatch.StartNew();
                long received = have, lastReport = 0;
                progress?.Report(new FetchProgress(received, total, 0));
                while (true)
                {
                    int read;
                    try { read = await input.ReadAsync(buffer, cancellation).ConfigureAwait(false); }
                    catch (Exception e) when (e is IOException or HttpRequestException)
                    {
                        throw new CnnInterpretException(ErrorKind.Network,
                            $"The download of {url} broke off after {received:N0} bytes ({e.Message}). Run the same command again to resume it.", inner: e);
                    }
                    if (read == 0) break;
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellation).ConfigureAwait(false);
                    received += read;
                    if (clock.ElapsedMilliseconds - lastReport >= 200)
                    {
                        lastReport = clock.ElapsedMilliseconds;
                        progress?.Report(new FetchProgress(received, total, (received - have) / Math.Max(0.001, clock.Elapsed.TotalSeconds)));
                    }
                }
                progress?.Report(new FetchProgress(received, total, (received - have) / Math.Max(0.001, clock.Elapsed.TotalSeconds)));
                if (total is { } expected && received < expected)
                    throw new CnnInterpretException(ErrorKind.Network,
                        $"The download of {url} ended after {received:N0} of {expected:N0} bytes. Run the same command again to resume it.");
            }
            return Complete(partial, target, source.FileName, sha256);
        }
        finally
        {
            if (ownClient) http.Dispose();
        }
    }

    /// <summary>Checks a file fetched elsewhere and copies it into the cache under its canonical name.</summary>
    public static string Add(WeightsDownload source, string file, string weightsDirectory, string? sha256 = null)
    {
        if (!File.Exists(file))
            throw new CnnInterpretException(ErrorKind.BadModelFile, $"'{file}' does not exist.");
        Verify(file, source.FileName, ExpectedSha256(sha256, source), deleteOnMismatch: false);
        Directory.CreateDirectory(weightsDirectory);
        var target = Path.Combine(weightsDirectory, source.FileName);
        var temp = target + ".adding";
        File.Copy(file, temp, overwrite: true);
        File.Move(temp, target, overwrite: true);
        return target;
    }

    /// <summary>The hash prefix torchvision puts in its file names: "vgg16-397923af.pth" → "397923af".</summary>
    public static string? HashPrefix(string fileName)
    {
        var stem = Path.GetFileNameWithoutExtension(fileName);
        var dash = stem.LastIndexOf('-');
        var prefix = dash < 0 ? "" : stem[(dash + 1)..];
        return prefix.Length >= 8 && prefix.All(Uri.IsHexDigit) ? prefix.ToLowerInvariant() : null;
    }

    private static string Complete(string partial, string target, string fileName, string? sha256)
    {
        Verify(partial, fileName, sha256, deleteOnMismatch: true);
        File.Move(partial, target, overwrite: true);
        return target;
    }

    private static void Verify(string path, string fileName, string? sha256, bool deleteOnMismatch)
    {
        string actual;
        using (var stream = File.OpenRead(path)) actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        var prefix = HashPrefix(fileName);
        string? problem = null;
        if (sha256 is not null && actual != sha256) problem = $"its sha256 is {actual}, expected {sha256}";
        else if (prefix is not null && !actual.StartsWith(prefix, StringComparison.Ordinal)) problem = $"its sha256 is {actual}, which does not start with {prefix} as the name {fileName} says";
        if (problem is null) return;
        if (deleteOnMismatch) File.Delete(path);
        throw new CnnInterpretException(ErrorKind.BadModelFile,
            $"The weights file '{path}' failed verification: {problem}. " +
            (deleteOnMismatch ? "It was deleted; fetch it again (from another mirror with --url if this one serves a different file)." : "Use the original file."));
    }

    /// <summary>The hash to check: the one given (checked to be 64 hex digits before anything is downloaded), else the published one.</summary>
    private static string? ExpectedSha256(string? given, WeightsDownload source)
    {
        if (given is not null && (given.Length != 64 || !given.All(Uri.IsHexDigit)))
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"--sha256 must be 64 hexadecimal digits (a sha256), not '{given}'.");
        return (given ?? source.Sha256)?.ToLowerInvariant();
    }

    /// <summary>The .partial file, written by one download at a time: a second one says so instead of failing obscurely.</summary>
    private static FileStream OpenPartial(string partial, bool resuming)
    {
        try
        {
            return new FileStream(partial, resuming ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None);
        }
        catch (IOException e)
        {
            throw new CnnInterpretException(ErrorKind.Network,
                $"Another download is writing '{partial}' ({e.Message}). Wait for it to finish, then try again.", inner: e);
        }
    }

    private static async Task<HttpResponseMessage> Send(HttpClient http, HttpRequestMessage request, string url, CancellationToken cancellation)
    {
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CnnInterpretException(ErrorKind.Network,
                $"Cannot reach {url} ({e.Message}). This machine may have no internet access: download the file on another machine and add it with 'cnn-interpret models add MODEL FILE', or use a mirror with --url.",
                inner: e);
        }
    }
}
