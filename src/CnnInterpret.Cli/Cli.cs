using CnnInterpret.Core;

namespace CnnInterpret.Cli;

/// <summary>Entry point: dispatches to a command; expected failures print one clear line to stderr.</summary>
public static partial class Cli
{
    public static int Run(string[] args) => Guarded(() =>
    {
        var line = new CommandLine(args);
        var words = line.Positionals;
        if (words.Count == 0 || words[0] is "help" or "--help" || line.Flag("help"))
        {
            Console.Out.Write(Help);
            return 0;
        }
        var command = words[0];
        words.RemoveAt(0);
        // The daemon and the benchmarks are programs of their own that read their own options: everything but the
        // word itself goes to them (--cache-dir, --max-pixels, --memory-budget, --max-message-bytes…).
        if (command is "serve" or "bench")
            return Sibling.Run(command == "serve" ? Sibling.Daemon : Sibling.Bench, args.Where((_, i) => i != Array.IndexOf(args, command)).ToArray());
        SetMemoryBudget(line);
        return command switch
        {
            "info" => Info(line),
            "models" when words is ["list", ..] => ModelsList(line),
            "models" when words is ["fetch", ..] => ModelsFetch(line, words),
            "models" when words is ["add", ..] => ModelsAdd(line, words),
            "models" => throw CommandLine.Usage("Use 'models list', 'models fetch MODEL' or 'models add MODEL FILE'."),
            "layers" => Layers(line),
            "predict" => Predict(line, words),
            "explain" => Explain(line, words),
            "report" => Report(line, words),
            "evaluate" => Evaluate(line),
            "metrics" => Metrics(line, words),
            "sanity" => Sanity(line, words),
            "train-default" => TrainDefault(line),
            _ => throw CommandLine.Usage($"Unknown command '{command}'. See 'cnn-interpret help'."),
        };
    });

    /// <summary>--memory-budget MIB: the run's one memory budget (every command's; the benchmarks' too; the daemon reads its own).</summary>
    public static void SetMemoryBudget(CommandLine line)
    {
        var budget = line.Long("memory-budget");
        if (budget is < 1) throw CommandLine.Usage($"--memory-budget is in MiB and must be at least 1; got {budget}.");
        Core.Memory.MemoryBudget.SetMiB(budget);
    }

    /// <summary>Runs a command: expected failures print one clear line to stderr and give the documented exit codes.</summary>
    public static int Guarded(Func<int> command)
    {
        try
        {
            return command();
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
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug, not bad input: one line for the user, the trace only when asked for.
            Console.Error.WriteLine($"error: internal error ({e.GetType().Name}: {e.Message}). Please report it; set CNN_INTERPRET_TRACE=1 for the details.");
            if (Environment.GetEnvironmentVariable("CNN_INTERPRET_TRACE") == "1") Console.Error.WriteLine(e);
            return 70;
        }
    }

    public const string Help = """
        cnn-interpret: explain what a CNN sees.

        Commands:
          info                                   versions, device and built-in models
          models list [--json]                   the built-in models and whether their weights are here
          models fetch MODEL [--url URL] [--sha256 HEX] [--cache-dir DIR]   download published weights (vgg16)
          models add MODEL FILE [--sha256 HEX]   use weights downloaded elsewhere
          layers --model M [--json]              a model's layers in forward order
          predict --model M [--top K] [--json] IMAGE...
          explain --model M IMAGE --method feature-maps --layer L [--channels A-B] --out DIR [--raw]
                  [--colormap viridis|gray|jet|turbo] [--shared-scale]
          explain --model M IMAGE --method grad-cam|grad-cam++ --layer L [--target N|LAYER:C] --out DIR [--raw]
                  [--colormap viridis|gray|jet|turbo] [--opacity 0.5]
          explain --model M --method filter-patterns --layer L [--channels A-B] [--preset readable|classic|fast]
                  [--steps N] [--seed S] [--size PX] --out DIR   (no IMAGE; cached under $CNN_INTERPRET_CACHE)
          explain --model M IMAGE --method lime|kernel-shap|gradient-shap --out DIR [--target N] [--samples N|auto]
                  [--segments N] [--seed S] [--baseline B] [--score probability|logit] [--layer L (gradient-shap)] [--raw]
          explain --model M IMAGE --method layer-sweep --out DIR [--target T]
                                                 Grad-CAM at every spatial layer from one forward and one backward
          report --model M IMAGE|FOLDER --out DIR  an HTML page with every view (a folder: an index of one per image)
          metrics --method M IMAGE --out DIR [--layer L] [--target T] [--steps N]
                                                 deletion/insertion curves and AUCs against a random map
          sanity --method M IMAGE --out DIR [--stages N]   the model-randomisation sanity check
          evaluate --model M [--data DIR] [--json]  accuracy on the Fashion-MNIST test set
          train-default [--data DIR] [--epochs N] [--seed S]  retrain the embedded fashion-vgg
          bench [--model M] [--runs N] [--only SECTIONS] [--json]  speed and memory figures (--only memory: the daemon's memory against PyTorch's)
                  [--weights VGG16.pth] [--channels N]  (--only peers: beside plain PyTorch)
          serve [--cache-dir DIR] [--max-pixels N] [--memory-budget MIB] [--max-message-bytes N]
                                                 the JSON-RPC daemon on stdin/stdout (npm run daemon), with its options

        --model defaults to fashion-vgg; it also takes a model file (FILE.pth with --arch NAME when it cannot be
        inferred, FILE.safetensors, FILE.onnx), and --weights FILE runs a built-in architecture with other weights.
        --model vgg16 --weights FILE.h5 reads Keras's VGG16 weights (and uses Keras's preprocessing for them).
        Your model's preprocessing and labels (every command with --model): --preset imagenet|unit|minus-one-to-one|caffe,
        --mean R,G,B and --std R,G,B (0-1 scale), --resize N, --crop N|HxW, --channels rgb|bgr|gray, --labels FILE (one
        label per line, or a JSON list). A sidecar FILE.json beside the model file (net.onnx.json) holds the same fields
        (preset, mean, std, resize, crop, channels, labels or labelsFile); flags override it, it overrides the defaults.
        Layers are named by path (features.0) or display name (block1_conv1).
        Images whose header declares more than 100,000,000 pixels are refused before decoding; --max-pixels N
        (or CNN_INTERPRET_MAX_PIXELS) changes the limit. --memory-budget MIB (or CNN_INTERPRET_MEMORY_BUDGET_MIB,
        default 2048) is the run's one memory budget: models, caches and an eighth of it for each batch.
        """;
}
