using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// The reference images GradientSHAP integrates from. "dataset": a committed sample of the model's training
/// images (<c>models/background/&lt;model&gt;.npy</c>, uint8 [N,H,W] or [N,H,W,3]; the default where it exists);
/// "blur": the image under a Gaussian blur of σ = max(H,W)/8 (the default for photos: detail removed, layout
/// kept); "black": zero pixels; "noise": 16 images of uniform noise (seeded).
/// </summary>
public static class ShapBaselines
{
    public static IReadOnlyList<string> Names => ["dataset", "blur", "black", "noise"];

    public const int NoiseCount = 16;

    public static string? DatasetPath(string modelsDirectory, string modelId)
    {
        var path = Path.Combine(modelsDirectory, "background", modelId + ".npy");
        return File.Exists(path) ? path : null;
    }

    public static string Default(string modelsDirectory, string modelId) => DatasetPath(modelsDirectory, modelId) is null ? "blur" : "dataset";

    /// <summary>Normalised baselines, each [C,H,W] like <paramref name="input"/>.</summary>
    public static List<float[]> Build(string kind, CnnModel model, float[] input, string modelsDirectory, int seed)
    {
        var spec = model.Input;
        int c = spec.ChannelCount, h = spec.Height, w = spec.Width, size = c * h * w;
        switch (kind)
        {
            case "dataset":
                var path = DatasetPath(modelsDirectory, model.Id)
                           ?? throw new CnnInterpretException(ErrorKind.InvalidArgument,
                               $"Model '{model.Id}' has no background set (models/background/{model.Id}.npy); use a baseline of: blur, black, noise.");
                return Dataset(path, spec);
            case "blur":
                return [GaussianBlur.Apply(input, c, h, w, GaussianBlur.DefaultSigma(h, w))];
            case "black":
                var black = new float[size];
                ImagePreprocessor.NormaliseInPlace(black, spec);
                return [black];
            case "noise":
                var random = new Random(seed ^ 0x5EED);
                return Enumerable.Range(0, NoiseCount).Select(_ =>
                {
                    var noise = new float[size];
                    for (var i = 0; i < size; i++) noise[i] = (float)random.NextDouble();
                    ImagePreprocessor.NormaliseInPlace(noise, spec);
                    return noise;
                }).ToList();
            default:
                throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Unknown GradientSHAP baseline '{kind}'; use one of: {string.Join(", ", Names)}.");
        }
    }

    private static List<float[]> Dataset(string path, Preprocessing spec)
    {
        var (data, shape) = NpyReader.ReadBytes(path);
        int c = spec.ChannelCount, h = spec.Height, w = spec.Width;
        var fits = shape.Length == 3 ? c == 1 && shape[1] == h && shape[2] == w : shape.Length == 4 && shape[1] == h && shape[2] == w && shape[3] == c;
        if (!fits || shape[0] < 1)
            throw new CnnInterpretException(ErrorKind.BadModelFile,
                $"The background set '{path}' holds [{string.Join(", ", shape)}] but the model takes {c}×{h}×{w} images; expected [N, {h}, {w}]{(c == 3 ? ", 3" : "")}.");
        var plane = h * w;
        return Enumerable.Range(0, shape[0]).Select(n =>
        {
            var image = new float[c * plane];
            for (var p = 0; p < plane; p++)
                for (var k = 0; k < c; k++) image[k * plane + p] = data[(n * plane + p) * c + k] / 255f; // HWC → CHW
            ImagePreprocessor.NormaliseInPlace(image, spec);
            return image;
        }).ToList();
    }
}
