namespace CnnInterpret.Core.Memory;

/// <summary>
/// The one memory budget of a daemon or CLI run (<c>--memory-budget MIB</c>, <c>CNN_INTERPRET_MEMORY_BUDGET_MIB</c>, the
/// extension's <c>cnnInterpret.memoryBudgetMiB</c>): what may stay resident beyond the runtime itself — loaded models,
/// the caches, and one request's working memory. Every batched computation asks <see cref="BatchSize"/> how many items
/// it may run at once, so a request's peak follows the budget, not the number of samples or channels.
/// </summary>
public static class MemoryBudget
{
    /// <summary>2 GiB: VGG16 (528 MB of weights) with its caches and a batch, on an 8 GB laptop.</summary>
    public const long DefaultBytes = 2048L << 20;

    /// <summary>The smallest budget accepted: the built-in model and a batch of one still fit.</summary>
    public const long MinimumBytes = 64L << 20;

    private static long _bytes = FromEnvironment() ?? DefaultBytes;

    /// <summary>The whole budget in bytes.</summary>
    public static long Bytes
    {
        get => Interlocked.Read(ref _bytes);
        set => Interlocked.Exchange(ref _bytes, value >= MinimumBytes ? value
            : throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"The memory budget must be at least {MinimumBytes >> 20} MiB; got {value >> 20} MiB."));
    }

    /// <summary>Sets the budget from a MiB count (a command-line option or setting); null keeps the current one.</summary>
    public static void SetMiB(long? mib)
    {
        if (mib is { } m) Bytes = m << 20;
    }

    /// <summary>
    /// What one batch of one request may allocate, by the estimates callers make: an eighth of the budget (256 MiB by
    /// default). Measured on VGG16 (bench --only memory), a fifth let LIME and KernelSHAP peak at about +550 MB over the
    /// loaded model; libtorch's workspaces and the image's own buffers come on top of the estimate.
    /// </summary>
    public static long BatchBytes => Bytes / 8;

    /// <summary>
    /// What the activations cache (and the other caches of results) may keep: a tenth of the budget, 205 MiB by default, room
    /// for one VGG16 image's activations (119 MB at 224×224). A request's peak counts what the caches hold beside its own
    /// batches, so cache and batch together stay within half a GiB over the loaded models; a fifth let the cache alone
    /// reach 409 MiB.
    /// </summary>
    public static long CacheBytes => Bytes / 10;

    /// <summary>What loaded models may keep resident before the least recently used one is unloaded: the rest.</summary>
    public static long ModelBytes => Bytes - BatchBytes - CacheBytes;

    /// <summary>
    /// How many items of <paramref name="bytesPerItem"/> fit in one batch of <paramref name="budgetBytes"/> (default
    /// <see cref="BatchBytes"/>): at least 1, at most <paramref name="max"/>. Callers' estimates are generous (GradientSHAP
    /// on VGG16 estimates 350 MB an image), so one item over the batch budget still runs alone; one over half the whole
    /// budget (or over <paramref name="budgetBytes"/>, when that is larger) cannot fit beside the models and caches, and
    /// is an out-of-memory error that says how much was needed and what to change.
    /// </summary>
    public static int BatchSize(long bytesPerItem, int max = int.MaxValue, long? budgetBytes = null, string what = "this request")
    {
        var budget = budgetBytes ?? BatchBytes;
        var limit = Math.Max(budget, Bytes / 2);
        if (bytesPerItem > limit) throw TooLittle(bytesPerItem, limit, what);
        return (int)Math.Clamp(budget / Math.Max(1, bytesPerItem), 1, Math.Max(1, max));
    }

    /// <summary>
    /// The bytes one image of <paramref name="height"/>×<paramref name="width"/> holds while it runs through
    /// <paramref name="model"/> up to <paramref name="layer"/> (all layers when null): the input and every layer's output,
    /// scaled from the model's own input size, three times over with <paramref name="gradients"/> (each output, its gradient,
    /// and what autograd saves for the backward pass). What a batch item costs, for <see cref="BatchSize"/>.
    /// </summary>
    public static long BytesThrough(Models.CnnModel model, string? layer, int height, int width, bool gradients)
    {
        var scale = (double)height * width / ((double)model.Input.Height * model.Input.Width);
        var last = layer is null ? model.Layers.Count - 1 : model.Layers.ToList().FindIndex(l => l.Name == model.GetLayer(layer).Name);
        var elements = (double)model.Input.ChannelCount * height * width
                       + model.Layers.Take(last + 1).Sum(l => l.OutputShape.Aggregate(1.0, (a, b) => a * b) * (l.OutputShape.Length == 3 ? scale : 1));
        return (long)(elements * sizeof(float) * (gradients ? 3 : 1));
    }

    /// <summary>The out-of-memory error for a request that needs <paramref name="needed"/> bytes where <paramref name="available"/> are allowed.</summary>
    public static CnnInterpretException TooLittle(long needed, long available, string what) => new(ErrorKind.OutOfMemory,
        $"Not enough memory for {what}: one batch item needs {Mib(needed)} MiB, and the memory budget of {Mib(Bytes)} MiB allows at most " +
        $"{Mib(available)} MiB for one. Raise the budget (cnnInterpret.memoryBudgetMiB in VS Code, --memory-budget MIB on the " +
        "command line) or use a smaller image size, layer or model.",
        new { neededBytes = needed, availableBytes = available, budgetBytes = Bytes });

    private static long Mib(long bytes) => (bytes + (1 << 20) - 1) >> 20;

    private static long? FromEnvironment() =>
        long.TryParse(Environment.GetEnvironmentVariable("CNN_INTERPRET_MEMORY_BUDGET_MIB"), out var mib) && (mib << 20) >= MinimumBytes ? mib << 20 : null;
}
