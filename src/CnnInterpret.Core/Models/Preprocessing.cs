namespace CnnInterpret.Core.Models;

/// <summary>
/// How a model wants its input, as data (it lives in models.json): decoded pixels are resized so the
/// shorter side is <see cref="Resize"/>, center-cropped to <see cref="Crop"/> [height, width], turned
/// into <see cref="Channels"/> ("gray" or "rgb"), scaled to [0,1] and normalised per channel with
/// <see cref="Mean"/> and <see cref="Std"/>. Transparent pixels are composited over <see cref="Background"/>.
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
        "rgb" => 3,
        _ => throw new CnnInterpretException(ErrorKind.BadModelFile, $"Unknown channel layout '{Channels}' in the model's preprocessing; use \"gray\" or \"rgb\"."),
    };

    public int Height => Crop[0];
    public int Width => Crop[1];

    /// <summary>Shape of one preprocessed image: [C, H, W].</summary>
    public int[] InputShape => [ChannelCount, Height, Width];
}
