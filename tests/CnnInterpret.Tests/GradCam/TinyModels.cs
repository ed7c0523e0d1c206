using CnnInterpret.Core.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Tests.GradCam;

/// <summary>
/// A network small enough for Grad-CAM by hand: conv(1→2, 3×3 with only the centre tap: +1 and −1, no bias) → ReLU →
/// global average pool → linear(2→2, W = [[1, 2], [−1, 0.5]], no bias). The input picture is 4×4 with x[i,j] = 4i + j − 6
/// after preprocessing (pixel 17·(4i+j), mean 0.4, std 1/15).
/// </summary>
internal static class TinyModels
{
    public static readonly Preprocessing Input = new("gray", 4, [4, 4], [6f / 15], [1f / 15]);
    public static readonly float[] X = Enumerable.Range(0, 16).Select(k => k - 6f).ToArray();
    public static readonly float[,] W = { { 1, 2 }, { -1, 0.5f } };

    public static CnnModel Build(bool inPlaceRelu, string id = "tiny-cam")
    {
        var conv = Conv2d(1, 2, 3, padding: 1);
        var layers = new List<(string, string, string, string, Module<Tensor, Tensor>)>
        {
            ("features.0", "block1_conv1", "Conv2d", "block1", conv),
            ("features.1", "block1_conv1_relu", "ReLU", "block1", ReLU(inplace: inPlaceRelu)),
            ("avgpool", "avgpool", "AdaptiveAvgPool2d", "head", AdaptiveAvgPool2d([1, 1])),
            ("flatten", "flatten", "Flatten", "head", Flatten()),
            ("classifier.0", "predictions", "Linear", "classifier", Linear(2, 2)),
        };
        var model = new CnnModel(id, "Tiny CAM", Input, ["a", "b"], layers);
        using var scope = NewDisposeScope();
        var kernel = zeros(2, 1, 3, 3);
        kernel[0, 0, 1, 1] = tensor(1f);
        kernel[1, 0, 1, 1] = tensor(-1f);
        model.LoadWeights(new Dictionary<string, Tensor>
        {
            ["features.0.weight"] = kernel,
            ["features.0.bias"] = zeros(2),
            ["classifier.0.weight"] = tensor(new[] { W[0, 0], W[0, 1], W[1, 0], W[1, 1] }, [2, 2]),
            ["classifier.0.bias"] = zeros(2),
        }, inPlaceRelu ? "tiny-inplace" : "tiny", "hand-made weights");
        return model;
    }

    /// <summary>Writes the 4×4 picture whose preprocessed values are <see cref="X"/>.</summary>
    public static string WritePicture(string dir)
    {
        using var image = new Image<L8>(4, 4);
        for (var k = 0; k < 16; k++) image[k % 4, k / 4] = new L8((byte)(17 * k));
        var path = Path.Combine(dir, "tiny.png");
        image.SaveAsPng(path);
        return path;
    }
}
