using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Memory;
using CnnInterpret.Core.Models;
using StreamJsonRpc;

namespace CnnInterpret.Daemon;

/// <summary>daemon/* methods.</summary>
public sealed class DaemonHandler(Engine engine, RequestRunner runner)
{
    [JsonRpcMethod(Methods.DaemonInfo)]
    public Task<DaemonInfoResult> InfoAsync(CancellationToken cancellation) => runner.Run(() => new DaemonInfoResult(
        typeof(DaemonHandler).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
        Engine.TorchSharpVersion, Engine.LibTorchVersion, Engine.Device, Environment.ProcessId,
        ModelsHandler.Summaries(engine), ProcessMemory.ResidentBytes, MemoryBudget.Bytes, engine.Models.LoadedIds), cancellation);

    /// <summary>The explainer registry's methods with their options, so a client needs no change for a new method.</summary>
    [JsonRpcMethod(Methods.DaemonMethods)]
    public Task<DaemonMethodsResult> MethodsAsync(CancellationToken cancellation) => runner.Run(() => new DaemonMethodsResult(
        engine.Methods.All.Select(e => MethodInfoDto.From(e.Info)).ToList(), Engine.TrustMethods), cancellation);
}

/// <summary>models/* methods.</summary>
public sealed class ModelsHandler(Engine engine, RequestRunner runner, ProgressNotifier progress)
{
    [JsonRpcMethod(Methods.ModelsList)]
    public Task<ModelsListResult> ListAsync(CancellationToken cancellation) =>
        runner.Run(() => new ModelsListResult(Summaries(engine), ModelRegistry.DefaultModelId), cancellation);

    [JsonRpcMethod(Methods.ModelsLoad, UseSingleObjectParameterDeserialization = true)]
    public Task<ModelDetails> LoadAsync(ModelParams? request, CancellationToken cancellation) => runner.Run(() =>
    {
        var name = request?.Model ?? ModelRegistry.DefaultModelId;
        var model = engine.Models.Register(name, request?.Weights, request?.Arch, Settings(request), "request");
        var file = request?.Weights ?? (engine.Models.Manifest.Models.Any(m => m.Id == name) ? null : name);
        return new ModelDetails(model.Id, model.DisplayName, model.Input.InputShape, model.Classes, model.Layers, model.ParameterCount, model.WeightsHash,
            new PreprocessingDto(model.Origin.Preset, model.Input.MeanRgb, model.Input.StdRgb, model.Input.Resize, model.Input.Crop, model.Input.Channels,
                model.Origin.Defaults, model.Origin.Sources, file is null ? null : ModelSettings.SidecarPath(Path.GetFullPath(file))));
    }, cancellation);

    /// <summary>The request's preprocessing and labels, each checked as the sidecar's are.</summary>
    private static ModelSettings? Settings(ModelParams? request)
    {
        if (request is null) return null;
        const string source = "the models/load request";
        return new ModelSettings(
            request.Preset is null ? null : ModelSettings.ParsePreset(request.Preset, source),
            request.Mean is null ? null : ModelSettings.ParseNumbers(string.Join(',', request.Mean.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))), "mean", source),
            request.Std is null ? null : ModelSettings.ParseNumbers(string.Join(',', request.Std.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))), "std", source),
            request.Resize is { } resize ? ModelSettings.ParseSize(resize.ToString(System.Globalization.CultureInfo.InvariantCulture), "resize", source) : null,
            request.Crop switch
            {
                null => null,
                [var size] => ModelSettings.ParseCrop($"{size}", source),
                [var h, var w] => ModelSettings.ParseCrop($"{h}x{w}", source),
                _ => throw new CnnInterpretException(ErrorKind.InvalidArgument, "crop must be [size] or [height, width]."),
            },
            request.Channels is null ? null : ModelSettings.ParseChannels(request.Channels, source),
            request.Labels,
            request.LabelsFile is null ? null : Path.GetFullPath(request.LabelsFile));
    }

    [JsonRpcMethod(Methods.ModelsFetch, UseSingleObjectParameterDeserialization = true)]
    public Task<ModelsFetchResult> FetchAsync(ModelsFetchParams request, CancellationToken cancellation) => runner.Run(() =>
    {
        RequestRunner.RequireParams(request, "model");
        var entry = engine.Models.GetEntry(request.Model);
        if (entry.Download is null)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"{entry.Id} ships with the tool; there is nothing to fetch.");
        var report = progress.For(request.WorkDoneToken);
        // Reported on the downloading thread, in order (Progress<T> would post to the thread pool and could reorder).
        var fetchProgress = report is null ? null : new SyncProgress<FetchProgress>(p => report.Report(new ExplainProgress(
            (int)(p.Received / 1_000_000), (int)((p.Total ?? p.Received) / 1_000_000),
            $"{p.Received / 1e6:F0} of {(p.Total is { } t ? $"{t / 1e6:F0}" : "?")} MB, {p.BytesPerSecond / 1e6:F1} MB/s")));
        var path = WeightsFetcher.FetchAsync(entry.Download, engine.Models.WeightsDirectory, request.Url, request.Sha256, fetchProgress, cancellation: cancellation)
            .GetAwaiter().GetResult();
        return new ModelsFetchResult(entry.Id, path, new FileInfo(path).Length);
    }, cancellation, Lane.Heavy);

    [JsonRpcMethod(Methods.ModelsAdd, UseSingleObjectParameterDeserialization = true)]
    public Task<ModelsAddResult> AddAsync(ModelsAddParams request, CancellationToken cancellation) => runner.Run(() =>
    {
        RequestRunner.RequireParams(request, "model, file");
        var entry = engine.Models.GetEntry(request.Model);
        if (entry.Download is null)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"{entry.Id} ships with the tool; use models/load with 'weights' to try other weights.");
        return new ModelsAddResult(entry.Id, WeightsFetcher.Add(entry.Download, request.File, engine.Models.WeightsDirectory, request.Sha256));
    }, cancellation);

    internal static List<ModelSummary> Summaries(Engine engine) => engine.Models.Manifest.Models
        .Select(m => new ModelSummary(m.Id, m.DisplayName, m.Description, m.Input.InputShape, engine.Models.ClassesOf(m).Count, engine.Models.IsLoaded(m.Id),
            engine.Models.State(m).Name(), m.Download?.Url, m.Download?.FileName))
        .ToList();
}

/// <summary>image/* methods.</summary>
public sealed class ImageHandler(Engine engine, RequestRunner runner)
{
    [JsonRpcMethod(Methods.ImagePredict, UseSingleObjectParameterDeserialization = true)]
    public Task<PredictResult> PredictAsync(PredictParams request, CancellationToken cancellation) => runner.Run(() =>
    {
        RequestRunner.RequireParams(request, "image");
        var prediction = engine.Predict(request.Model, request.Image, request.TopK ?? 5, cancellation);
        var model = engine.GetModel(request.Model);
        var fit = ImageFits.Assess(model, engine.Activations(model, request.Image, cancellation).DisplayPng);
        var suggestions = fit.Suitable ? [] : engine.Models.Manifest.Models
            .Where(m => m.Input.ChannelCount == 3 && engine.Models.State(m) != ModelState.WeightsMissing).Select(m => m.Id).ToList();
        return new PredictResult(model.Id, request.Image, prediction.Top, prediction.Logits, new FitDto(fit.Suitable, fit.Reason, suggestions));
    }, cancellation);
}

/// <summary>An IProgress that reports on the caller's thread, keeping reports in order.</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
