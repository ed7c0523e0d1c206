using CnnInterpret.Core;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    private static int Info(CommandLine line)
    {
        var json = line.Flag("json");
        line.RejectUnknown();
        var registry = new ModelRegistry();
        var info = new
        {
            version = typeof(Cli).Assembly.GetName().Version?.ToString(3),
            torchSharpVersion = Engine.TorchSharpVersion,
            libTorchVersion = Engine.LibTorchVersion,
            device = Engine.Device,
            modelsDirectory = registry.ModelsDirectory,
            models = registry.Manifest.Models.Select(m => m.Id).ToArray(),
        };
        if (json) Output.WriteJson(info);
        else
        {
            Console.Out.WriteLine($"cnn-interpret {info.version}");
            Console.Out.WriteLine($"TorchSharp {info.torchSharpVersion} (libtorch {info.libTorchVersion}), device {info.device}");
            Console.Out.WriteLine($"models: {string.Join(", ", info.models)} (from {info.modelsDirectory})");
        }
        return 0;
    }

    private static int ModelsList(CommandLine line)
    {
        var json = line.Flag("json");
        var registry = new ModelRegistry(cacheDirectory: line.Option("cache-dir"));
        line.RejectUnknown();
        var models = registry.Manifest.Models.Select(m => new
        {
            m.Id, m.DisplayName, m.Description, InputShape = m.Input.InputShape, ClassCount = registry.ClassesOf(m).Count,
            State = registry.State(m).Name(), TestAccuracy = m.Metrics?.TestAccuracy, Default = m.Id == ModelRegistry.DefaultModelId,
        }).ToList();
        if (json) Output.WriteJson(models);
        else
            Output.WriteTable(["id", "state", "input", "classes", "accuracy", "description"], models.Select(m => (IReadOnlyList<string>)
                [m.Id + (m.Default ? " (default)" : ""), m.State, $"[{string.Join(",", m.InputShape)}]", m.ClassCount.ToString(),
                 m.TestAccuracy is { } a ? $"{a:P1}" : "-", m.Description]));
        return 0;
    }

    private static int Layers(CommandLine line)
    {
        var json = line.Flag("json");
        using var engine = OpenEngine(line, out var modelId);
        line.RejectUnknown();
        var model = engine.GetModel(modelId);
        if (json)
            Output.WriteJson(model.Layers.Select(l => new { l.Name, l.DisplayName, l.Kind, l.OutputShape, l.ParameterCount, l.Group }));
        else
        {
            Output.WriteTable(["name", "display name", "kind", "output shape", "parameters"],
                model.Layers.Select(l => (IReadOnlyList<string>)[l.Name, l.DisplayName, l.Kind, $"[{string.Join(", ", l.OutputShape)}]", l.ParameterCount.ToString("N0")]));
            Console.Out.WriteLine($"{model.Layers.Count} layers, {model.ParameterCount:N0} parameters, input [{string.Join(", ", model.Input.InputShape)}]");
        }
        return 0;
    }
}
