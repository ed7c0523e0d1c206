using CnnInterpret.Core.Models;
using CnnInterpret.Core.Training;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    private static int TrainDefault(CommandLine line)
    {
        var data = FashionMnist.ResolveDirectory(line.Option("data"));
        var modelsDir = line.Option("models-dir") ?? RepositoryModelsDirectory();
        var options = new TrainingOptions(data, modelsDir,
            Epochs: line.Int("epochs") ?? 15, Seed: line.Int("seed") ?? 42, BatchSize: line.Int("batch-size") ?? 64);
        line.RejectUnknown();
        var report = DefaultModelTrainer.Train(options, Console.Error.WriteLine);
        Console.Out.WriteLine($"accuracy {report.TestAccuracy:F4}  time {report.Seconds:F0} s  weights {report.WeightBytes / 1024} KiB  {report.WeightsPath}");
        return 0;
    }

    /// <summary>The repository's models/ (not the copy beside the binaries): training updates the committed files.</summary>
    private static string RepositoryModelsDirectory()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "models", "models.json")) && File.Exists(Path.Combine(dir.FullName, "CnnInterpret.sln")))
                return Path.Combine(dir.FullName, "models");
        return ModelRegistry.FindModelsDirectory();
    }
}
