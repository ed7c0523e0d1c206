namespace CnnInterpret.Core.Imaging;

/// <summary>A separable Gaussian blur of planar [C,H,W] values (edges clamped), for blurred baselines.</summary>
public static class GaussianBlur
{
    /// <summary>The blur the explainers use for an H×W input: σ = max(H, W)/8 (3.5 px at 28×28, 28 px at 224×224).</summary>
    public static double DefaultSigma(int height, int width) => Math.Max(height, width) / 8.0;

    public static float[] Apply(ReadOnlySpan<float> values, int channels, int height, int width, double sigma)
    {
        var radius = Math.Max(1, (int)Math.Ceiling(3 * sigma));
        var kernel = new double[2 * radius + 1];
        for (var i = -radius; i <= radius; i++) kernel[i + radius] = Math.Exp(-i * i / (2 * sigma * sigma));
        var total = kernel.Sum();
        for (var i = 0; i < kernel.Length; i++) kernel[i] /= total;

        int plane = height * width;
        var rows = new float[values.Length];
        var result = new float[values.Length];
        for (var c = 0; c < channels; c++)
        {
            var o = c * plane;
            for (var y = 0; y < height; y++)
                for (var x = 0; x < width; x++)
                {
                    double sum = 0;
                    for (var k = -radius; k <= radius; k++) sum += kernel[k + radius] * values[o + y * width + Math.Clamp(x + k, 0, width - 1)];
                    rows[o + y * width + x] = (float)sum;
                }
            for (var y = 0; y < height; y++)
                for (var x = 0; x < width; x++)
                {
                    double sum = 0;
                    for (var k = -radius; k <= radius; k++) sum += kernel[k + radius] * rows[o + Math.Clamp(y + k, 0, height - 1) * width + x];
                    result[o + y * width + x] = (float)sum;
                }
        }
        return result;
    }
}
