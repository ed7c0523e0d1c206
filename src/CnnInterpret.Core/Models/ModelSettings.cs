using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CnnInterpret.Core.Models;

/// <summary>
/// How a user says their model wants its input and what its classes are called, from one source (command-line
/// flags, a models/load request, a sidecar <c>MODEL.json</c>, an ONNX file's metadata_props). Every field is
/// optional: a source says only what it knows, and <see cref="ResolvedSettings"/> stacks the sources.
/// </summary>
/// <param name="Preset">"imagenet", "unit", "minus-one-to-one" or "caffe": a mean and std (caffe also BGR) by name.</param>
/// <param name="Mean">Per channel, R,G,B order, on the 0–1 scale (one value: all channels).</param>
/// <param name="Std">As <paramref name="Mean"/>.</param>
/// <param name="Resize">The shorter side after resizing, in pixels.</param>
/// <param name="Crop">The center crop, [height, width].</param>
/// <param name="Channels">"rgb", "bgr" or "gray": what the network's input channels hold.</param>
/// <param name="Labels">The class names, in output order.</param>
/// <param name="LabelsFile">A file of class names (one per line, or a JSON list), an absolute path.</param>
public sealed record ModelSettings(
    string? Preset = null,
    float[]? Mean = null,
    float[]? Std = null,
    int? Resize = null,
    int[]? Crop = null,
    string? Channels = null,
    IReadOnlyList<string>? Labels = null,
    string? LabelsFile = null)
{
    public static readonly IReadOnlyList<string> PresetNames = ["imagenet", "unit", "minus-one-to-one", "caffe"];
    public static readonly IReadOnlyList<string> ChannelNames = ["rgb", "bgr", "gray"];

    /// <summary>The sidecar's and the metadata's field names (labelsFile only in a sidecar).</summary>
    public static readonly IReadOnlyList<string> FieldNames = ["preset", "mean", "std", "resize", "crop", "channels", "labels", "labelsFile"];

    public bool IsEmpty => this == new ModelSettings();

    /// <summary>A preset's mean and std (R,G,B, 0–1 scale) and the channel order it implies, if any.</summary>
    public static (float[] Mean, float[] Std, string? Channels) PresetValues(string preset) => preset switch
    {
        "imagenet" => ([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f], null),
        "unit" => ([0f, 0f, 0f], [1f, 1f, 1f], null),
        "minus-one-to-one" => ([0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f], null),
        // Caffe's (and Keras's "caffe" mode, as its VGG16 and ResNet50 use): BGR, minus the ImageNet mean in 0–255 units, no scaling.
        "caffe" => ([123.68f / 255, 116.779f / 255, 103.939f / 255], [1f / 255, 1f / 255, 1f / 255], "bgr"),
        _ => throw new ArgumentException($"unknown preset '{preset}'", nameof(preset)),
    };

    /// <summary>The sidecar of a model file: <c>FILE.json</c> beside it (net.onnx → net.onnx.json).</summary>
    public static string SidecarPath(string modelFile) => modelFile + ".json";

    /// <summary>The sidecar beside <paramref name="modelFile"/>, or null when there is none.</summary>
    public static ModelSettings? ReadSidecar(string modelFile)
    {
        var path = SidecarPath(modelFile);
        if (!File.Exists(path)) return null;
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e)
        {
            throw Bad(path, $"is not valid JSON ({e.Message})");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Bad(path, "must hold one JSON object, like {\"preset\": \"imagenet\", \"labelsFile\": \"labels.txt\"}");
            foreach (var field in document.RootElement.EnumerateObject())
                if (!FieldNames.Contains(field.Name))
                    throw Bad(path, $"has an unknown field '{field.Name}'; the fields are {string.Join(", ", FieldNames)}");
            return FromFields(document.RootElement.EnumerateObject().Select(p => (p.Name, p.Value)), path, Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
    }

    /// <summary>
    /// An ONNX file's metadata_props with our field names (values as JSON, or plain text: "0.485,0.456,0.406",
    /// "224x224", labels one per line); other keys are someone else's and are ignored.
    /// </summary>
    public static ModelSettings? FromMetadata(IReadOnlyDictionary<string, string> metadata, string file)
    {
        var fields = new List<(string, JsonElement)>();
        foreach (var name in FieldNames.Where(n => n != "labelsFile"))
        {
            if (!metadata.TryGetValue(name, out var text)) continue;
            JsonElement value;
            try { value = JsonDocument.Parse(text).RootElement.Clone(); }
            catch (JsonException) { value = JsonSerializer.SerializeToElement(text); } // plain text
            if (name == "labels" && value.ValueKind == JsonValueKind.String)
                value = JsonSerializer.SerializeToElement(SplitLines(text));
            fields.Add((name, value));
        }
        return fields.Count == 0 ? null : FromFields(fields, $"{file} (metadata_props)", Path.GetDirectoryName(Path.GetFullPath(file))!);
    }

    /// <summary>Reads sidecar or metadata fields, each checked for its type; relative paths are relative to <paramref name="folder"/>.</summary>
    private static ModelSettings FromFields(IEnumerable<(string Name, JsonElement Value)> fields, string source, string folder)
    {
        var settings = new ModelSettings();
        foreach (var (name, value) in fields)
        {
            string Text() => value.ValueKind == JsonValueKind.String ? value.GetString()!
                : throw Bad(source, $"field '{name}' must be a string, not {Kind(value)}");
            settings = name switch
            {
                "preset" => settings with { Preset = ParsePreset(Text(), source) },
                "mean" => settings with { Mean = Numbers(value, name, source) },
                "std" => settings with { Std = Numbers(value, name, source) },
                "resize" => settings with { Resize = value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var r) ? CheckSize(r, "resize", source)
                    : value.ValueKind == JsonValueKind.String ? ParseSize(Text(), "resize", source)
                    : throw Bad(source, $"field 'resize' must be a whole number of pixels, not {Kind(value)}") },
                "crop" => settings with { Crop = value.ValueKind switch
                {
                    JsonValueKind.Number when value.TryGetInt32(out var c) => [CheckSize(c, "crop", source), c],
                    JsonValueKind.String => ParseCrop(Text(), source),
                    JsonValueKind.Array when value.GetArrayLength() == 2 && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out _)) =>
                        value.EnumerateArray().Select(e => CheckSize(e.GetInt32(), "crop", source)).ToArray(),
                    _ => throw Bad(source, $"field 'crop' must be a size (224), [height, width] or \"HxW\", not {Kind(value)}"),
                } },
                "channels" => settings with { Channels = ParseChannels(Text(), source) },
                "labels" => settings with { Labels = value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String)
                    ? value.EnumerateArray().Select(e => e.GetString()!).ToList()
                    : throw Bad(source, $"field 'labels' must be a list of strings, not {Kind(value)}; or name a file with 'labelsFile'") },
                "labelsFile" => settings with { LabelsFile = Path.GetFullPath(Path.Combine(folder, Text())) },
                _ => settings,
            };
        }
        if (settings.Labels is not null && settings.LabelsFile is not null)
            throw Bad(source, "gives both 'labels' and 'labelsFile'; keep one");
        return settings;
    }

    private static float[] Numbers(JsonElement value, string name, string source) => value.ValueKind switch
    {
        JsonValueKind.Number => CheckNumbers([value.GetSingle()], name, source),
        JsonValueKind.String => ParseNumbers(value.GetString()!, name, source),
        JsonValueKind.Array when value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number) =>
            CheckNumbers(value.EnumerateArray().Select(e => e.GetSingle()).ToArray(), name, source),
        _ => throw Bad(source, $"field '{name}' must be three numbers R,G,B on the 0–1 scale (like [0.485, 0.456, 0.406]) or one, not {Kind(value)}"),
    };

    /// <summary>"0.485,0.456,0.406" (R,G,B) or one value.</summary>
    public static float[] ParseNumbers(string text, string name, string source)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                throw Bad(source, $"{name} '{text}' is not a number or three numbers R,G,B (like 0.485,0.456,0.406)");
        return CheckNumbers(values, name, source);
    }

    private static float[] CheckNumbers(float[] values, string name, string source)
    {
        if (values.Length is not (1 or 3))
            throw Bad(source, $"{name} has {values.Length} values; give three (R,G,B) or one for every channel");
        if (values.Any(v => !float.IsFinite(v)) || (name == "std" && values.Any(v => v <= 0)))
            throw Bad(source, name == "std" ? "std must be positive numbers" : "mean must be finite numbers");
        if (values.Any(v => Math.Abs(v) > 2))
            throw Bad(source, $"{name} [{string.Join(", ", values)}] looks like 0–255 units; give it on the 0–1 scale (divide by 255)");
        return values;
    }

    public static string ParsePreset(string text, string source) =>
        PresetNames.FirstOrDefault(p => p.Equals(text.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw Bad(source, $"has no preset '{text}'; presets are {string.Join(", ", PresetNames)}");

    public static string ParseChannels(string text, string source) =>
        ChannelNames.FirstOrDefault(p => p.Equals(text.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw Bad(source, $"channels '{text}' is not one of {string.Join(", ", ChannelNames)}");

    public static int ParseSize(string text, string name, string source) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? CheckSize(n, name, source)
            : throw Bad(source, $"{name} '{text}' is not a whole number of pixels");

    /// <summary>"224" (square) or "HxW".</summary>
    public static int[] ParseCrop(string text, string source)
    {
        var parts = text.ToLowerInvariant().Split('x', StringSplitOptions.TrimEntries);
        return parts.Length switch
        {
            1 => [ParseSize(parts[0], "crop", source), ParseSize(parts[0], "crop", source)],
            2 => [ParseSize(parts[0], "crop", source), ParseSize(parts[1], "crop", source)],
            _ => throw Bad(source, $"crop '{text}' is not N or HxW (like 224 or 224x320)"),
        };
    }

    private static int CheckSize(int n, string name, string source) =>
        n is >= 1 and <= 8192 ? n : throw Bad(source, $"{name} {n} is out of range; give 1 to 8192 pixels");

    /// <summary>Class names from a file: a JSON list of strings, or one name per line (blank lines at the end ignored).</summary>
    /// <param name="source">Who named the file (a sidecar, the flags), for errors.</param>
    public static IReadOnlyList<string> ReadLabelsFile(string path, string source)
    {
        if (!File.Exists(path))
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"The labels file '{path}' (named by {source}) does not exist. Give a text file with one label per line, or a JSON list.");
        var text = File.ReadAllText(path);
        if (text.TrimStart().StartsWith('['))
        {
            try
            {
                return JsonSerializer.Deserialize<List<string>>(text) is { } list && list.All(l => l is not null) ? list
                    : throw new JsonException("null");
            }
            catch (JsonException e)
            {
                throw new CnnInterpretException(ErrorKind.InvalidArgument,
                    $"The labels file '{path}' starts like JSON but is not a JSON list of strings ({e.Message}). Fix it, or write one label per line.", inner: e);
            }
        }
        return SplitLines(text);
    }

    private static List<string> SplitLines(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.Trim()).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list" + (value.GetArrayLength() > 0 ? $" of {Kind(value[0])}s" : ""),
        JsonValueKind.String => $"the string \"{value.GetString()}\"",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => "null",
    };

    private static CnnInterpretException Bad(string source, string what) =>
        new(ErrorKind.InvalidArgument, $"'{source}' {what}.", new { file = source });
}

/// <summary>
/// Settings stacked from their sources (the model's own defaults, then an ONNX file's metadata, the sidecar,
/// then flags or request parameters: each overrides what is below it), field by field, remembering which
/// source gave each. A preset stands for a mean and std (and BGR for caffe) in its own source.
/// </summary>
public sealed class ResolvedSettings
{
    private readonly Dictionary<string, string> _sources = new();

    public ResolvedSettings(IEnumerable<(ModelSettings? Settings, string Source)> layers)
    {
        foreach (var (settings, source) in layers)
        {
            if (settings is null || settings.IsEmpty) continue;
            Layers.Add((settings, source));
            (float[]? Mean, float[]? Std, string? Channels) preset = settings.Preset is { } p ? ModelSettings.PresetValues(p) : (null, null, null);
            if ((settings.Mean ?? preset.Mean) is { } mean) Set(ref _mean, mean, "mean", source);
            if ((settings.Std ?? preset.Std) is { } std) Set(ref _std, std, "std", source);
            if ((settings.Channels ?? preset.Channels) is { } channels) Set(ref _channels, channels, "channels", source);
            if (settings.Preset is not null) Set(ref _preset, settings.Preset, "preset", source);
            if (settings.Resize is { } resize) Set(ref _resize, resize, "resize", source);
            if (settings.Crop is { } crop) Set(ref _crop, crop, "crop", source);
            if (settings.Labels is { } labels) Set(ref _labels, labels, "labels", source);
            if (settings.LabelsFile is { } file) Set(ref _labels, ModelSettings.ReadLabelsFile(file, source), "labels", $"{file} (from {source})");
        }
    }

    private float[]? _mean, _std;
    private string? _channels, _preset;
    private int? _resize;
    private int[]? _crop;
    private IReadOnlyList<string>? _labels;

    private void Set<T>(ref T field, T value, string name, string source)
    {
        field = value;
        _sources[name] = source;
    }

    /// <summary>The non-empty sources, lowest first.</summary>
    public List<(ModelSettings Settings, string Source)> Layers { get; } = [];

    public bool IsEmpty => Layers.Count == 0;

    public IReadOnlyList<string>? Labels => _labels;

    public int[]? Crop => _crop;

    public string? Channels => _channels;

    /// <summary>
    /// A short key for what these settings make of a model (for the model's id), so other settings give another
    /// model and the same ones the same.
    /// </summary>
    public string Key()
    {
        var text = JsonSerializer.Serialize(new { _preset, _mean, _std, _resize, _crop, _channels, _labels, _sources }); // sources too: the model reports them
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];
    }

    /// <summary>Where each field came from ("mean" → "net.onnx.json"); fields left at the model's default are absent.</summary>
    public IReadOnlyDictionary<string, string> Sources => _sources;

    /// <summary>
    /// The model's own preprocessing with these settings on top. A preset counts only when its mean and std are
    /// the ones in use (a later mean overrides it).
    /// </summary>
    public Preprocessing Apply(Preprocessing model)
    {
        var channels = _channels ?? model.Channels;
        if ((channels == "gray") != (model.Channels == "gray"))
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"'{_sources["channels"]}' says channels '{channels}', but the network takes {(model.Channels == "gray" ? "one channel (gray)" : "three channels (rgb or bgr)")}. Change or remove the channels setting.");
        var crop = _crop ?? model.Crop;
        // A new crop without a resize keeps the model's resize-to-crop ratio (256/224 for torchvision's ImageNet).
        var resize = _resize ?? (_crop is null ? model.Resize : (int)Math.Round(model.Resize * (double)crop.Min() / model.Crop.Min()));
        return model with
        {
            Channels = channels,
            Resize = resize,
            Crop = crop,
            Mean = ToModelOrder(_mean ?? Preprocessing.ToRgb(model.Mean, model.Channels), channels),
            Std = ToModelOrder(_std ?? Preprocessing.ToRgb(model.Std, model.Channels), channels),
        };
    }

    /// <summary>The preset in use: the last one named, when the mean and std still come from its source.</summary>
    public string? Preset =>
        _preset is not null && _sources.GetValueOrDefault("mean") == _sources["preset"] && _sources.GetValueOrDefault("std") == _sources["preset"] ? _preset : null;

    /// <summary>R,G,B values (or one) in the network's channel order: reversed for BGR, averaged for gray.</summary>
    private static float[] ToModelOrder(float[] rgb, string channels) => channels switch
    {
        "gray" => [rgb.Average()],
        "bgr" when rgb.Length == 3 => [rgb[2], rgb[1], rgb[0]],
        _ when rgb.Length == 1 => [rgb[0], rgb[0], rgb[0]],
        _ => rgb,
    };
}
