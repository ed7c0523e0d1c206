using System.Diagnostics;
using CnnInterpret.Core;
using CnnInterpret.Core.Caching;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Bench;

public static partial class Bench
{
    /// <summary>
    /// Prints the figures the README and the notes quote, measured in one process: model load time,
    /// forward latency (batch 1) and throughput (batch 64), and what the activations cache saves.
    /// </summary>
    internal static int Run(CommandLine line, List<string> images)
    {
        var modelId = line.Option("model") ?? ModelRegistry.DefaultModelId;
        var runs = line.Int("runs") ?? 50;
        var json = line.Flag("json");
        var only = line.Option("only");
        var weights = line.Option("weights");
        var patternChannels = line.Int("channels") ?? 64;
        var cacheDirectory = line.Option("cache-dir");
        var samples = line.Int("samples");
        var photos = line.Int("photos");
        var fashionImages = line.Int("images");
        var reference = line.Int("reference");
        var methods = line.Option("methods");
        line.RejectUnknown();
        // Each section measures one area and prints its own figures; explainers add theirs here.
        var sections = new List<(string Name, Action Run)>
        {
            ("forward", () => BenchForward(modelId, runs, json, images)),
            ("gradcam", () => BenchGradCam(json, images)),
            ("lime", () => BenchLime(json)),
            ("responsiveness", () => BenchResponsiveness(modelId, json, images)),
            ("peers", () => BenchPeers(json, images, weights, patternChannels)),
            ("memory", () => BenchMemory(json, cacheDirectory, samples ?? 16)),
            ("convergence", () => BenchConvergence(json, photos, fashionImages, reference, methods)),
        };
        var unknown = only?.Split(',').Except(sections.Select(s => s.Name)).ToList();
        if (unknown is { Count: > 0 })
            throw CommandLine.Usage($"Unknown bench section(s) {string.Join(", ", unknown)}; sections: {string.Join(", ", sections.Select(s => s.Name))}.");
        foreach (var (name, run) in sections)
            if (only is null ? name != "memory" : only.Split(',').Contains(name)) // memory starts daemons and PyTorch: only when asked
            {
                if (!json) Console.Out.WriteLine($"== {name} ==");
                run();
            }
        return 0;
    }

    private static void BenchForward(string modelId, int runs, bool json, List<string> images)
    {
        var registry = new ModelRegistry();
        var image = images.FirstOrDefault() ?? Directory.GetFiles(Path.Combine(registry.ModelsDirectory, "samples"), "*.png").Order().First();

        var clock = Stopwatch.StartNew();
        var model = registry.Get(modelId);
        var loadMs = clock.Elapsed.TotalMilliseconds;

        using var decoded = ImageLoader.Load(image, background: model.Input.Background);
        using var input = ImagePreprocessor.Prepare(decoded.Pixels, model.Input);
        Engine.TimeForward(model, input, 5); // warm-up
        var latency = Engine.TimeForward(model, input, runs).Order().ToArray();

        const int batch = 64;
        double batchMs;
        using (var _ = no_grad())
        using (var scope = NewDisposeScope())
        {
            var x = input.ToBatch().expand(batch, -1, -1, -1).contiguous();
            model.Forward(x);
            clock.Restart();
            for (var i = 0; i < 5; i++) model.Forward(x);
            batchMs = clock.Elapsed.TotalMilliseconds / 5;
        }

        using var engine = new Engine(registry, new ActivationCache());
        var layer = model.Layers.First(l => l.IsSpatial).Name;
        clock.Restart();
        engine.FeatureMaps(model.Id, image, layer);
        var uncachedMs = clock.Elapsed.TotalMilliseconds;
        var cached = new double[20];
        for (var i = 0; i < cached.Length; i++)
        {
            clock.Restart();
            engine.FeatureMaps(model.Id, image, model.Layers[i % model.Layers.Count].IsSpatial ? model.Layers[i % model.Layers.Count].Name : layer);
            cached[i] = clock.Elapsed.TotalMilliseconds;
        }
        var cachedMs = cached.Order().ElementAt(cached.Length / 2);

        var figures = new
        {
            model = model.Id, parameters = model.ParameterCount, threads = get_num_threads(),
            loadMs = Math.Round(loadMs, 1),
            forwardMedianMs = Math.Round(latency[latency.Length / 2], 3),
            forwardP90Ms = Math.Round(latency[(int)(latency.Length * 0.9)], 3),
            batch64ImagesPerSecond = Math.Round(batch * 1000 / batchMs, 0),
            featureMapsUncachedMs = Math.Round(uncachedMs, 2),
            featureMapsCachedMs = Math.Round(cachedMs, 2),
            cacheSpeedup = Math.Round(uncachedMs / cachedMs, 1),
            workingSetMiB = Environment.WorkingSet / (1024 * 1024),
        };
        if (json) Output.WriteJson(figures);
        else
        {
            Console.Out.WriteLine($"model {figures.model}: {figures.parameters:N0} parameters, {figures.threads} torch threads, loaded in {figures.loadMs} ms");
            Console.Out.WriteLine($"forward, batch 1:   median {figures.forwardMedianMs} ms, p90 {figures.forwardP90Ms} ms ({runs} runs)");
            Console.Out.WriteLine($"forward, batch 64:  {figures.batch64ImagesPerSecond} images/s");
            Console.Out.WriteLine($"feature maps:       {figures.featureMapsUncachedMs} ms first (decode + forward + render), {figures.featureMapsCachedMs} ms per layer switch (cached): {figures.cacheSpeedup}x");
            Console.Out.WriteLine($"working set:        {figures.workingSetMiB} MiB");
        }
    }
}
