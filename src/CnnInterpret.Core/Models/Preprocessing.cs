namespace CnnInterpret.Core.Models;

/// <summary>
/// How a model wants its input, as data (it lives in models.json): decoded pixels are resized so the
/// shorter side is <see cref="Resize"/>, center-cropped to <see cref="Crop"/> [height, width], turned
/// into <see cref="Channels"/> ("gray", "rgb" or "bgr": RGB with the channels in reverse order, as Caffe and
/// Keras's VGG16 take them), scaled to [0,1] and normalised per channel with <see cref="Mean"/> and
/// <see cref="Std"/>, which are in the network's channel order (B,G,R for "bgr").
/// Transparent pixels are composited over <see cref="Background"/>.
/// </summary>
public sealed record Preprocessing(
    string Channels,
    int Resize,
    int[] Crop,
    float[] Mean,
    float[] Std,
    int[]? Background = null)
{
    public int ChannelCount => Channels switch
    {
        "gray" => 1,
        "rgb" or "bgr" => 3,
        _ => throw new CnnInterpretException(ErrorKind.BadModelFile, $"Unknown channel layout '{Channels}' in the model's preprocessing; use \"gray\", \"rgb\" or \"bgr\"."),
    };

    public int Height => Crop[0];
    public int Width => Crop[1];

    /// <summary>Shape of one preprocessed image: [C, H, W].</summary>
    public int[] InputShape => [ChannelCount, Height, Width];

    /// <summary>Per-channel values in the network's order as R,G,B (gray: the one value three times).</summary>
    public static float[] ToRgb(float[] values, string channels) => channels switch
    {
        "bgr" => [.. values.Reverse()],
        "gray" => [values[0], values[0], values[0]],
        _ => values,
    };

    /// <summary>The mean as R,G,B (for showing; <see cref="Mean"/> is in the network's order).</summary>
    public float[] MeanRgb => Channels == "gray" ? Mean : ToRgb(Mean, Channels);

    public float[] StdRgb => Channels == "gray" ? Std : ToRgb(Std, Channels);
}
