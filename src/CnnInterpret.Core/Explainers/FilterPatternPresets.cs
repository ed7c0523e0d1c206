using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>A named recipe for filter patterns: how the image is parametrised, transformed and updated.</summary>
public sealed record FilterPatternPreset(string Name, int DefaultSteps, string Description)
{
    public const string Classic = "classic", Readable = "readable";

    public static IReadOnlyList<FilterPatternPreset> All { get; } =
    [
        new(Readable, 128, "Fourier-space image with 1/f scaling and sigmoid, random jitter (and scale/rotation from 64 px) each step, Adam (lr 0.05), as in Lucid/Lucent"),
        new(Classic, 30, "the original tool's raw gradient ascent: gray + small noise, 30 steps of 10 (0–255 units) along the RMS-normalised gradient, no regularisation"),
    ];

    public static FilterPatternPreset Get(string? name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name ?? Readable, StringComparison.OrdinalIgnoreCase))
        ?? throw new CnnInterpretException(ErrorKind.InvalidArgument,
            $"Unknown filter-pattern preset '{name}'. Use one of: {string.Join(", ", All.Select(p => p.Name))}.");

    internal PatternImage Create(int[] channels, int imageChannels, int height, int width, int seed) => Name switch
    {
        Classic => new ClassicImage(channels, imageChannels, height, width, seed),
        _ => new FourierImage(channels, imageChannels, height, width, seed),
    };

    /// <summary>A channel's own random stream: the same pattern whatever else is in the batch.</summary>
    internal static Generator ChannelGenerator(int seed, int channel) => new((ulong)seed * 1_000_003UL + (ulong)channel + 1);
}

/// <summary>
/// The image being optimised for a batch of channels, [K,C,H,W]; item i belongs to channel i alone (its own
/// initial noise, elementwise updates), so a batch gives each channel what it would get on its own.
/// </summary>
internal abstract class PatternImage : IDisposable
{
    /// <summary>The pixels the network sees, in [0,1] units (differentiable in the parameters).</summary>
    public abstract Tensor Pixels();

    /// <summary>The view used at optimisation step <paramref name="step"/> (robustness transforms); the same for every item.</summary>
    public virtual Tensor Augment(Tensor pixels, int step) => pixels;

    /// <summary>One ascent step on the summed per-item objective.</summary>
    public abstract void Ascend(Tensor objective, int step);

    /// <summary>The pattern to show, [K,C,H,W] in [0,1].</summary>
    public abstract Tensor Display();

    public abstract void Dispose();
}

/// <summary>
/// The original tool's recipe (after Chollet, "How convolutional neural networks see the world", Keras blog 2016):
/// start from gray (128 of 255) plus uniform noise in ±10, take 30 steps of size 10 along the gradient divided by its
/// root mean square (per image), no regularisation. Shown as Chollet's deprocess_image does: standardised per image,
/// × 0.1 + 0.5, clipped to [0,1].
/// </summary>
internal sealed class ClassicImage : PatternImage
{
    private const float StepSize = 10;
    private readonly Tensor _x; // 0–255 units

    public ClassicImage(int[] channels, int c, int h, int w, int seed)
    {
        using var scope = NewDisposeScope();
        _x = cat(channels.Select(ch => 128 + 20 * (rand([1, c, h, w], generator: FilterPatternPreset.ChannelGenerator(seed, ch)) - 0.5)).ToList(), 0)
            .requires_grad_(true).MoveToOuterDisposeScope();
    }

    public override Tensor Pixels() => _x / 255;

    public override void Ascend(Tensor objective, int step)
    {
        var gradient = autograd.grad([objective], [_x])[0];
        using var _ = no_grad();
        var rms = gradient.square().mean([1, 2, 3], keepdim: true).sqrt();
        _x.add_(StepSize * gradient / (rms + 1e-5));
    }

    public override Tensor Display()
    {
        using var _ = no_grad();
        var x = _x.detach();
        var centred = x - x.mean([1, 2, 3], keepdim: true);
        var std = centred.square().mean([1, 2, 3], keepdim: true).sqrt();
        return (centred / (std + 1e-5) * 0.1 + 0.5).clamp(0, 1);
    }

    public override void Dispose() => _x.Dispose();
}

/// <summary>
/// The "readable" recipe, after Olah, Mordvintsev &amp; Schubert, "Feature Visualization", Distill 2017, as
/// Lucid/Lucent implement it: the image is a spectrum (real and imaginary parts, N(0, 0.01²)) scaled by 1/frequency
/// and inverse-FFT'd (a preconditioner that keeps the ascent from being taken over by high-frequency noise), ÷ 4,
/// colour-decorrelated with ImageNet's colour covariance square root for RGB models, squashed by a sigmoid into [0,1]
/// (no clipping); each step sees it through one random transform (whole-pixel jitter, scale 0.9–1.1, rotation ±10°,
/// gray outside) so only patterns robust to small shifts survive; Adam with lr 0.05.
/// Deviations: the transforms are one affine resample per step (Lucent chains pad, jitter, scale, rotate, jitter),
/// with the jitter sized to the image (8 px at 224, at least 2); below 64 px there is no scale or rotation, because
/// resampling so few pixels blurs them and every channel's pattern then fills with the same diagonal streaks (seen
/// on fashion-vgg at 28×28); 128 steps by default instead of 512 (small inputs converge sooner); Adam is written out
/// here so the model's parameters never accumulate gradients.
/// </summary>
internal sealed class FourierImage : PatternImage
{
    private const double LearningRate = 0.05, Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
    private static readonly float[] ColourSqrt = [0.26f, 0.09f, 0.02f, 0.27f, 0.00f, -0.05f, 0.27f, -0.09f, 0.03f];
    private readonly Tensor _spectrum, _scale, _m, _v;
    private readonly Tensor? _colour;
    private readonly Generator _transforms;
    private readonly int _h, _w;

    public FourierImage(int[] channels, int c, int h, int w, int seed)
    {
        using var scope = NewDisposeScope();
        (_h, _w) = (h, w);
        var fy = fft.fftfreq(h).unsqueeze(1);
        var fx = fft.rfftfreq(w).unsqueeze(0);
        _scale = (1 / (fx.square() + fy.square()).sqrt().clamp_min(1.0 / Math.Max(h, w))).unsqueeze(-1).MoveToOuterDisposeScope(); // [h, w/2+1, 1]
        _spectrum = cat(channels.Select(ch => 0.01 * randn([1, c, h, w / 2 + 1, 2], generator: FilterPatternPreset.ChannelGenerator(seed, ch))).ToList(), 0)
            .requires_grad_(true).MoveToOuterDisposeScope();
        _m = zeros_like(_spectrum).MoveToOuterDisposeScope();
        _v = zeros_like(_spectrum).MoveToOuterDisposeScope();
        if (c == 3)
        {
            var colour = tensor(ColourSqrt, [3, 3]);
            _colour = (colour / colour.square().sum(0).sqrt().max()).MoveToOuterDisposeScope(); // Lucent: ÷ the largest column norm
        }
        _transforms = new Generator((ulong)seed + 0x5EED);
    }

    public override Tensor Pixels()
    {
        var scaled = _spectrum * _scale;
        var image = fft.irfft2(complex(scaled[.., .., .., .., 0], scaled[.., .., .., .., 1]), s: [_h, _w], norm: TorchSharp.FFTNormType.Ortho) / 4;
        if (_colour is not null) image = matmul(image.permute(0, 2, 3, 1), _colour.t()).permute(0, 3, 1, 2);
        return sigmoid(image);
    }

    public override Tensor Augment(Tensor pixels, int step)
    {
        var u = rand(4, generator: _transforms).data<float>().ToArray();
        var side = Math.Max(_h, _w);
        var jitter = Math.Max(2.0, Math.Round(8.0 * side / 224));
        var large = side >= 64; // resampling a small image blurs it, and the ascent then paints the same streaks everywhere
        double scale = large ? 0.9 + 0.2 * u[0] : 1, angle = large ? (u[1] * 20 - 10) * Math.PI / 180 : 0;
        // Whole-pixel shifts (in align_corners = false coordinates a shift of 2k/W is exactly k pixels).
        double dx = Math.Round((u[2] * 2 - 1) * jitter) * 2 / _w, dy = Math.Round((u[3] * 2 - 1) * jitter) * 2 / _h;
        var theta = tensor(new[]
        {
            (float)(Math.Cos(angle) / scale), (float)(-Math.Sin(angle) / scale), (float)dx,
            (float)(Math.Sin(angle) / scale), (float)(Math.Cos(angle) / scale), (float)dy,
        }, [1, 2, 3]).expand(pixels.shape[0], 2, 3);
        var grid = nn.functional.affine_grid(theta, pixels.shape, align_corners: false);
        // Outside the picture is gray (Lucent pads with 0.5): resample the offset from gray, zeros outside.
        return nn.functional.grid_sample(pixels - 0.5, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false) + 0.5;
    }

    public override void Ascend(Tensor objective, int step)
    {
        var gradient = -autograd.grad([objective], [_spectrum])[0]; // Adam minimises −objective
        using var _ = no_grad();
        _m.mul_(Beta1).add_(gradient, alpha: 1 - Beta1);
        _v.mul_(Beta2).addcmul_(gradient, gradient, value: 1 - Beta2);
        var t = step + 1;
        var mHat = _m / (1 - Math.Pow(Beta1, t));
        var vHat = _v / (1 - Math.Pow(Beta2, t));
        _spectrum.sub_(LearningRate * mHat / (vHat.sqrt() + Epsilon));
    }

    public override Tensor Display()
    {
        using var _ = no_grad();
        return Pixels();
    }

    public override void Dispose()
    {
        foreach (var t in new[] { _spectrum, _scale, _m, _v, _colour }) t?.Dispose();
        _transforms.Dispose();
    }
}
