using CnnInterpret.Core;

namespace CnnInterpret.Cli;

/// <summary>Entry point: dispatches to a command; expected failures print one clear line to stderr.</summary>
public static partial class Cli
{
    public static int Run(string[] args)
    {
        var line = new CommandLine(args);
        var words = line.Positionals;
        try
        {
            if (words.Count == 0 || words[0] is "help" or "--help" || line.Flag("help"))
            {
                Console.Out.Write(Help);
                return 0;
            }
            var command = words[0];
            words.RemoveAt(0);
            var code = command switch
            {
                "train-default" => TrainDefault(line),
                _ => throw CommandLine.Usage($"Unknown command '{command}'. See 'cnn-interpret help'."),
            };
            return code;
        }
        catch (CnnInterpretException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return e.Kind == ErrorKind.InvalidArgument ? 64 : 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
    }

    private const string Help = """
        cnn-interpret: explain what a CNN sees.

        Commands:
          info                                   versions, device and built-in models
          models list [--json]                   the built-in models
          layers --model M [--json]              a model's layers in forward order
          predict --model M [--top K] [--json] IMAGE...
          explain --model M IMAGE --method feature-maps --layer L [--channels A-B] --out DIR [--raw]
                  [--colormap viridis|gray] [--shared-scale]
          report --model M IMAGE --out DIR        an HTML page with every view
          evaluate --model M [--data DIR] [--json]  accuracy on the Fashion-MNIST test set
          train-default [--data DIR] [--epochs N] [--seed S]  retrain the embedded fashion-vgg
          serve                                  the JSON-RPC daemon on stdin/stdout

        --model defaults to fashion-vgg. Layers are named by path (features.0) or display name (block1_conv1).
        """;
}
