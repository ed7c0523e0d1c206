using CnnInterpret.Core;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    /// <summary>models fetch MODEL [--url URL] [--sha256 HEX] [--cache-dir DIR]: download published weights with a progress bar.</summary>
    private static int ModelsFetch(CommandLine line, List<string> words)
    {
        var url = line.Option("url");
        var sha256 = line.Option("sha256");
        var registry = new ModelRegistry(cacheDirectory: line.Option("cache-dir"));
        line.RejectUnknown();
        var entry = registry.GetEntry(words.ElementAtOrDefault(1) ?? throw CommandLine.Usage("models fetch needs a model id, e.g. 'models fetch vgg16'."));
        if (entry.Download is null)
        {
            Console.Out.WriteLine($"{entry.Id} ships with this tool; there is nothing to fetch.");
            return 0;
        }
        Console.Error.WriteLine($"Fetching {entry.Id} weights from {url ?? entry.Download.Url} into {registry.WeightsDirectory}");
        var bar = new ProgressBar();
        var path = WeightsFetcher.FetchAsync(entry.Download, registry.WeightsDirectory, url, sha256, bar).GetAwaiter().GetResult();
        ProgressBar.Finish();
        Console.Out.WriteLine(path);
        return 0;
    }

    /// <summary>models add MODEL FILE [--sha256 HEX] [--cache-dir DIR]: verify a file fetched elsewhere and put it in the cache.</summary>
    private static int ModelsAdd(CommandLine line, List<string> words)
    {
        var sha256 = line.Option("sha256");
        var registry = new ModelRegistry(cacheDirectory: line.Option("cache-dir"));
        line.RejectUnknown();
        if (words.Count < 3) throw CommandLine.Usage("Usage: models add MODEL FILE, e.g. 'models add vgg16 ~/Downloads/vgg16-397923af.pth'.");
        var entry = registry.GetEntry(words[1]);
        if (entry.Download is null) throw CommandLine.Usage($"{entry.Id} ships with this tool; its weights cannot be replaced. Use --model {entry.Id} --weights FILE to try other weights.");
        var path = WeightsFetcher.Add(entry.Download, words[2], registry.WeightsDirectory, sha256);
        using (registry) registry.Get(entry.Id); // proves the file loads as this architecture
        Console.Out.WriteLine(path);
        return 0;
    }

    /// <summary>A one-line progress bar on stderr (redrawn in place on a terminal, every 10% otherwise).</summary>
    private sealed class ProgressBar : IProgress<FetchProgress>
    {
        private int _lastTenth = -1;

        public void Report(FetchProgress value)
        {
            var mb = value.Received / 1e6;
            var text = value.Fraction is { } f
                ? $"[{new string('#', (int)(f * 30)).PadRight(30, '.')}] {f,4:P0} {mb,7:F1}/{value.Total!.Value / 1e6:F1} MB {value.BytesPerSecond / 1e6,6:F1} MB/s"
                : $"{mb,7:F1} MB {value.BytesPerSecond / 1e6,6:F1} MB/s";
            if (!Console.IsErrorRedirected) Console.Error.Write("\r" + text);
            else if ((int)((value.Fraction ?? 0) * 10) is var tenth && tenth != _lastTenth)
            {
                _lastTenth = tenth;
                Console.Error.WriteLine(text);
            }
        }

        public static void Finish()
        {
            if (!Console.IsErrorRedirected) Console.Error.WriteLine();
        }
    }
}
