using System.Diagnostics;
using CnnInterpret.Core;
using CnnInterpret.Core.Caching;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Bench;

public static partial class Bench
{
    /// <summary>
    /// Responsiveness under load, in one process: a feature-map request's latency alone and while a long LIME
    /// runs beside it, and how long a running LIME takes to stop once cancelled (target ≤ 1 s).
    /// </summary>
    private static void BenchResponsiveness(string modelId, bool json, List<string> images)
    {
        using var engine = new Engine(new ModelRegistry(), new ActivationCache(budgetBytes: 0), ownsModels: true); // no cache: every click runs the network
        var samples = Directory.GetFiles(Path.Combine(engine.Models.ModelsDirectory, "samples"), "*.png").Order().ToList();
        var image = images.FirstOrDefault() ?? samples[0];
        var model = engine.GetModel(modelId);
        var layer = model.Layers.First(l => l.IsSpatial).Name;
        double Click() { var c = Stopwatch.StartNew(); engine.FeatureMaps(model.Id, image, layer); return c.Elapsed.TotalMilliseconds; }
        Click();
        var alone = Enumerable.Range(0, 10).Select(_ => Click()).Order().ElementAt(5);

        using var cancel = new CancellationTokenSource();
        var lime = Task.Run(() => engine.Lime(model.Id, samples[1], new SamplingRequest(Samples: "100000"), cancellation: cancel.Token));
        Thread.Sleep(1500); // LIME is well under way
        var underLoad = Enumerable.Range(0, 10).Select(_ => Click()).Order().ElementAt(5);
        var clock = Stopwatch.StartNew();
        cancel.Cancel();
        try { lime.Wait(); } catch (AggregateException) { } // cancelled: a partial result or OperationCanceledException
        var cancelMs = clock.Elapsed.TotalMilliseconds;

        var figures = new { model = model.Id, clickAloneMs = Math.Round(alone, 1), clickDuringLimeMs = Math.Round(underLoad, 1),
            slowdown = Math.Round(underLoad / alone, 2), limeCancelMs = Math.Round(cancelMs, 1) };
        if (json) Output.WriteJson(figures);
        else
        {
            Console.Out.WriteLine($"feature-map click:  {figures.clickAloneMs} ms alone, {figures.clickDuringLimeMs} ms while LIME runs ({figures.slowdown}x)");
            Console.Out.WriteLine($"LIME cancellation:  stopped {figures.limeCancelMs} ms after the cancel (target ≤ 1000 ms)");
        }
    }
}
