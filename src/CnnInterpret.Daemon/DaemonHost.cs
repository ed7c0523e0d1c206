using CnnInterpret.Core;
using CnnInterpret.Core.Caching;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Memory;
using CnnInterpret.Core.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CnnInterpret.Daemon;

/// <summary>Builds and runs the daemon: the engine, the handlers and the JSON-RPC server on stdio.</summary>
public static class DaemonHost
{
    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    public static async Task<int> RunAsync(string[] args)
    {
        // stdout belongs to the protocol: take it before anything can print, and send Console.Out to stderr.
        var protocolOut = Console.OpenStandardOutput();
        var protocolIn = Console.OpenStandardInput();
        Console.SetOut(Console.Error);
        ProcessMemory.LimitNativeArenas(); // before libtorch's threads make their arenas
        // On 2 cores the pool starts with 2 threads: one reads stdin, a long explainer holds the other, and
        // $/progress and quick requests would wait for the pool to grow. Start it larger.
        ThreadPool.SetMinThreads(16, 16);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        // --cache-dir DIR, else CNN_INTERPRET_CACHE (the extension sets it from its setting), else the user cache folder.
        builder.Services.AddSingleton(sp => new ModelRegistry(cacheDirectory: builder.Configuration["cache-dir"])
        {
            Log = message => sp.GetRequiredService<ILogger<ModelRegistry>>().Registry(message),
        });
        // --max-pixels N, else CNN_INTERPRET_MAX_PIXELS (the extension's cnnInterpret.maxImagePixels), else 100 MP.
        var maxPixels = long.TryParse(builder.Configuration["max-pixels"], out var pixels) ? pixels : (long?)null;
        // --memory-budget MIB, else CNN_INTERPRET_MEMORY_BUDGET_MIB (the extension's cnnInterpret.memoryBudgetMiB), else 2048.
        if (builder.Configuration["memory-budget"] is { } budget)
        {
            try { MemoryBudget.SetMiB(long.TryParse(budget, out var mib) ? mib : throw new CnnInterpretException(ErrorKind.InvalidArgument, "--memory-budget takes a whole number of MiB")); }
            catch (CnnInterpretException e)
            {
                Console.Error.WriteLine($"error: {e.Message} (got '{Shorten(budget)}')");
                return 64;
            }
        }
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(1)); // time for requests in flight to cancel
        builder.Services.AddSingleton(sp => new Engine(sp.GetRequiredService<ModelRegistry>(), new ActivationCache(MemoryBudget.CacheBytes),
            imageLimits: ImageLimits.Configured(maxPixels)));
        // --unload-after SECONDS: how long a loaded model may go unused before it is unloaded (15 minutes by default).
        var unloadAfter = double.TryParse(builder.Configuration["unload-after"], System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        builder.Services.AddSingleton(sp => new RequestRunner(sp.GetRequiredService<ILogger<RequestRunner>>(), sp.GetRequiredService<Engine>(), unloadAfter));
        builder.Services.AddSingleton<ProgressNotifier>();
        builder.Services.AddSingleton<DaemonHandler>();
        builder.Services.AddSingleton<ModelsHandler>();
        builder.Services.AddSingleton<ImageHandler>();
        builder.Services.AddSingleton<ExplainHandler>();
        builder.Services.AddHostedService(sp => new RpcServer(protocolIn, protocolOut,
            [sp.GetRequiredService<DaemonHandler>(), sp.GetRequiredService<ModelsHandler>(), sp.GetRequiredService<ImageHandler>(), sp.GetRequiredService<ExplainHandler>()],
            sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ProgressNotifier>(), sp.GetRequiredService<ILogger<RpcServer>>(),
            // --max-message-bytes N: the largest message accepted (64 MiB by default).
            int.TryParse(builder.Configuration["max-message-bytes"], out var limit) ? limit : FramedMessageHandler.DefaultMaxMessageBytes,
            sp.GetRequiredService<RequestRunner>()));

        try
        {
            using var host = builder.Build();
            host.Services.GetRequiredService<ILogger<Engine>>().MemoryBudget(MemoryBudget.Bytes >> 20, MemoryBudget.ModelBytes >> 20, MemoryBudget.CacheBytes >> 20, MemoryBudget.BatchBytes >> 20);
            await host.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (CnnInterpretException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
