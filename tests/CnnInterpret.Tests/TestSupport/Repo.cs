using CnnInterpret.Core;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Tests.TestSupport;

/// <summary>Paths in the repository and shared, lazily built objects for tests.</summary>
public static class Repo
{
    public static readonly string Root = FindRoot();
    public static string Models => Path.Combine(Root, "models");
    public static string Samples => Path.Combine(Models, "samples");

#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    public static string DaemonDll => Path.Combine(Root, "src", "CnnInterpret.Daemon", "bin", Configuration, "net10.0", "cnn-interpret-daemon.dll");
    public static string CliDll => Path.Combine(Root, "src", "CnnInterpret.Cli", "bin", Configuration, "net10.0", "cnn-interpret.dll");

    private static readonly Lazy<ModelRegistry> SharedRegistry = new(() => new ModelRegistry(Models));

    /// <summary>One registry for the whole run: the embedded model is loaded once.</summary>
    public static ModelRegistry Registry => SharedRegistry.Value;

    public static CnnModel FashionVgg => Registry.Get(ModelRegistry.DefaultModelId);

    public static Engine NewEngine() => new(Registry);

    /// <summary>
    /// An engine with a registry of its own: for tests that change a model's weights in place (the sanity check
    /// randomises, then restores them), which tests running beside them on <see cref="Registry"/> must never see.
    /// </summary>
    public static Engine NewPrivateEngine() => new(new ModelRegistry(Models), ownsModels: true);

    public static bool HasFashionMnist => File.Exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
                                          || Environment.GetEnvironmentVariable("FASHION_MNIST_DIR") is { Length: > 0 };

    public static string TempDir()
    {
        var dir = Path.Combine(RunTempRoot.Value, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// This test run's temporary folder, deleted when the run ends. Some tests copy half-gigabyte checkpoints: left
    /// behind, a few runs fill a disk. Folders of runs that died without cleaning up are removed on the next run.
    /// </summary>
    private static readonly Lazy<string> RunTempRoot = new(() =>
    {
        var parent = Path.Combine(Path.GetTempPath(), "cnn-interpret-tests");
        Directory.CreateDirectory(parent);
        foreach (var stale in Directory.GetDirectories(parent))
        {
            var name = Path.GetFileName(stale);
            var alive = name.StartsWith("run-", StringComparison.Ordinal) && int.TryParse(name[4..], out var pid) && IsRunning(pid);
            if (!alive) TryDelete(stale);
        }
        var root = Path.Combine(parent, $"run-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    });

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CnnInterpret.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (CnnInterpret.sln) above " + AppContext.BaseDirectory);
    }
}

/// <summary>Tests that count live tensors or time things must not share the process with parallel torch work.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialTorch
{
    public const string Name = "serial torch";
}
