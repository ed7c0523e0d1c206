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

    public static bool HasFashionMnist => File.Exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
                                          || Environment.GetEnvironmentVariable("FASHION_MNIST_DIR") is { Length: > 0 };

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "cnn-interpret-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
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
