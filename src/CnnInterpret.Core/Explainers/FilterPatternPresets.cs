using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>A named recipe for filter patterns: how the image is parametrised, transformed and updated.</summary>
/// <param name="Version">Part of the cache key: bumped whenever the recipe computes something else for the same options.</param>
public sealed record FilterPatternPreset(string Name, int DefaultSteps, string Description, int Version = 1)
{
    public const string Classic = "classic", Readable = "readable", Fast = "fast";

    public static IReadOnlyList<FilterPatternPreset> All { get; } =
    [
        new(Readable, 128, "Fourier-space image with 1/f scaling and sigmoid, random jitter (and scale/rotation from 64 px) each step, Adam (lr 0.05), as in Lucid/Lucent", 2),
        new(Classic, 30, "the original tool's raw gradient ascent: gray + small noise, 30 steps of 10 (0–255 units) along the RMS-normalised gradient, no regularisation"),
        new(Fast, 48, "readable's image, Adam (lr 0.1), 48 steps coarse to fine from 112 px, the pattern tiled up: 40 at a quarter of the side, 6 at half, " +
                      "2 at full size without transforms; about 1/20 of readable's arithmetic, and a lower activation reached on some channels (see the notes)", 2),
    ];

    public static FilterPatternPreset Get(string? name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name ?? Readable, StringComparison.OrdinalIgnoreCase))
        ?? throw new CnnInterpretException(ErrorKind.InvalidArgument,
            $"Unknown filter-pattern preset '{name}'. Use one of: {string.Join(", ", All.Select(p => p.Name))}.");

    /// <summary>The name the cache files are keyed by: a new version of a recipe never reads the old one's patterns.</summary>
    public string CacheName => Version == 1 ? Name : $"{Name}-v{Version}";

    internal bool CoarseToFine(int size) => Name == Fast && size >= ProgressiveFrom && size % 4 == 0;

    /// <summary>Fast from this side up runs coarse to fine.</summary>
    internal const int ProgressiveFrom = 112;

    /// <summary>
    /// The phases the steps run in, smallest side first, ending at <paramref name="size"/>; Transform: whether each
    /// step sees the pattern through a random transform (see <see cref="PatternImage.Augment"/>).
    /// Fast, from 112 px (and a side divisible by 4): most steps at a quarter of the side, some at half, the last 2 at
    /// full size without transforms. Moving up a side tiles the pattern (see <see cref="FourierImage.Resize"/>):
    /// it keeps its scale in pixels, the scale the layer's filters respond to, so what the coarse steps found still
    /// drives the channel at full size; the full-size steps then fit it to the exact pixel grid it is shown at. A step
    /// at a quarter side costs about 1/16 of one at full size. Fast (48 steps at 224 px): 40 at 56 px, 6 at 112, 2 at 224.
    /// Zero-padding the spectrum instead (stretching the pattern 4×) reached a mean activation of 0.061 on VGG16's seed-0
    /// features.28 channels 0–3, readable (128 full-size steps) 0.212; tiled, coarse to fine reached 0.20–0.26 in a
    /// PyTorch re-implementation, but one channel (2) fell below its start, so readable stays at full size (see the notes).
    /// Readable, classic, small sizes: every step at full size, with transforms.
    /// </summary>
    internal IReadOnlyList<(int Side, int Steps, bool Transform)> Schedule(int size, int steps)
    {
        if (!CoarseToFine(size) || steps < 8) return [(size, steps, true)];
        const int full = 2;
        var half = (int)Math.Round(steps * HalfShare);
        return [(size / 4, steps - half - full, true), (size / 2, half, true), (size, full, false)];
    }

    /// <summary>The share of the steps at half side.</summary>
    internal const double HalfShare = 6.0 / 48;

    /// <summary>The image for a batch, at the first side of <see cref="Schedule"/> for patterns of <paramref name="size"/>.</summary>
    internal PatternImage Create(int[] channels, int imageChannels, int side, int size, int seed) => Name switch
    {
        Classic => new ClassicImage(channels, imageChannels, side, side, seed),
        _ => new FourierImage(channels, imageChannels, side, side, seed, Name == Fast ? 0.1 : 0.05),
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
    /// <summary>The parameters the ascent moves (a leaf that requires gradients); item i is row i.</summary>
    public abstract Tensor Parameters { get; }

    /// <summary>The current side in pixels.</summary>
    public abstract int Side { get; }

    /// <summary>The pixels of items [from, to) the network sees, in [0,1] units (differentiable in <see cref="Parameters"/>).</summary>
    public abstract Tensor Pixels(long from, long to);

    /// <summary>The view used at optimisation step <paramref name="step"/> (robustness transforms); the same for every item of a step.</summary>
    public virtual Tensor Augment(Tensor pixels, int step) => pixels;

    /// <summary>One ascent step along <paramref name="gradient"/>, the summed per-item objective's gradient in <see cref="Parameters"/>.</summary>
    public abstract void Ascend(Tensor gradient, int step);

    /// <summary>Continues at a larger side (the picture stays the same at the same scale in pixels, repeated where the side is a multiple).</summary>
    public virtual void Resize(int side)
    {
        if (side != Side) throw new InvalidOperationException($"{GetType().Name} cannot change its side.");
    }

    /// <summary>The patterns to show at <paramref name="side"/> pixels, [K,C,side,side] in [0,1].</summary>
    public abstract Tensor Display(int side);

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
    private readonly int _side;

    public ClassicImage(int[] channels, int c, int h, int w, int seed)
    {
        using var scope = NewDisposeScope();
        _side = h;
        _x = cat(channels.Select(ch => 128 + 20 * (rand([1, c, h, w], generator: FilterPatternPreset.ChannelGenerator(seed, ch)) - 0.5)).ToList(), 0)
            .requires_grad_(true).MoveToOuterDisposeScope();
    }

    public override Tensor Parameters => _x;

    public override int Side => _side;

    public override Tensor Pixels(long from, long to) => _x.narrow(0, from, to - from) / 255;

    public override void Ascend(Tensor gradient, int step)
    {
        using var _ = no_grad();
        var rms = gradient.square().mean([1, 2, 3], keepdim: true).sqrt();
        _x.add_(StepSize * gradient / (rms + 1e-5));
    }

    public override Tensor Display(int side)
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
/// gray outside) so only patterns robust to small shifts survive; Adam.
/// Deviations: the transforms are one affine resample per step (Lucent chains pad, jitter, scale, rotate, jitter),
/// with the jitter sized to the image (8 px at 224, at least 2); below 64 px there is no scale or rotation, because
/// resampling so few pixels blurs them and every channel's pattern then fills with the same diagonal streaks (seen
/// on fashion-vgg at 28×28); 128 steps at lr 0.05 instead of 512 (small inputs converge sooner); the "fast" preset
/// runs 48 steps at lr 0.1 coarse to fine, the pattern tiled up (see <see cref="FilterPatternPreset.Schedule"/>);
/// Adam is written out here so the model's parameters never accumulate gradients.
/// </summary>
internal sealed class FourierImage : PatternImage
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
    private readonly double _learningRate;
    private static readonly float[] ColourSqrt = [0.26f, 0.09f, 0.02f, 0.27f, 0.00f, -0.05f, 0.27f, -0.09f, 0.03f];
    private Tensor _spectrum, _m, _v;
    private readonly Tensor? _colour;
    private readonly Generator _transforms;
    private int _side;
    private (int Step, float[] Draw) _transform = (-1, []);
    private int _adamSteps; // since the last resize

    public FourierImage(int[] channels, int c, int h, int w, int seed, double learningRate)
    {
        _learningRate = learningRate;
        if (h != w) throw new ArgumentException("Fourier patterns are square.", nameof(w));
        using var scope = NewDisposeScope();
        _side = h;
        _spectrum = cat(channels.Select(ch => 0.01 * randn([1, c, h, h / 2 + 1, 2], generator: FilterPatternPreset.ChannelGenerator(seed, ch))).ToList(), 0)
            .requires_grad_(true).MoveToOuterDisposeScope();
        _m = zeros_like(_spectrum).MoveToOuterDisposeScope();
        _v = zeros_like(_spectrum).MoveToOuterDisposeScope();
        if (c == 3)
        {
            // Lucent: ÷ the largest column norm. Computed here and copied into a tensor of its own: building it with tensor
            // ops on tensor(ColourSqrt) gave inf/NaN entries on VGG16 (every RGB readable pattern came out non-finite).
            var norm = Enumerable.Range(0, 3).Max(j => Math.Sqrt(Enumerable.Range(0, 3).Sum(i => (double)ColourSqrt[3 * i + j] * ColourSqrt[3 * i + j])));
            _colour = tensor(ColourSqrt.Select(v => (float)(v / norm)).ToArray(), [3, 3]).clone().MoveToOuterDisposeScope();
        }
        _transforms = new Generator((ulong)seed + 0x5EED);
    }

    public override Tensor Parameters => _spectrum;

    public override int Side => _side;

    public override Tensor Pixels(long from, long to) => ToPixels(_spectrum.narrow(0, from, to - from), _side);

    private Tensor ToPixels(Tensor spectrum, int side)
    {
        var scaled = spectrum * Scale(side);
        // view_as_complex on a contiguous [..., 2] tensor: the spectrum's own memory, real and imaginary side by side.
        var image = fft.irfft2(view_as_complex(scaled.contiguous()), s: [side, side], norm: TorchSharp.FFTNormType.Ortho) / 4;
        if (_colour is not null) image = matmul(image.permute(0, 2, 3, 1), _colour.t()).permute(0, 3, 1, 2);
        return sigmoid(image);
    }

    /// <summary>1/frequency (in cycles per picture, DC as 1), [side, side/2+1, 1].</summary>
    private static Tensor Scale(int side)
    {
        var fy = fft.fftfreq(side).unsqueeze(1);
        var fx = fft.rfftfreq(side).unsqueeze(0);
        return (1 / (fx.square() + fy.square()).sqrt().clamp_min(1.0 / side)).unsqueeze(-1);
    }

    /// <summary>
    /// Continues at a larger side, the pattern tiled: where <paramref name="side"/> is r times the side, spectrum entry
    /// (ky, kx) moves to (r·ky, r·kx), × r (the orthonormal FFT's 1/√N; the 1/f scale is per pixel, so it stays; the DC
    /// entry's scale grows with the side instead, so it stays as it is). That is exactly the picture repeated r × r
    /// times, at the same scale in pixels; the entries in between start at 0 and are free from here on. Adam starts
    /// afresh (its moments belong to the old entries' gradients). A side that is no multiple zero-pads the spectrum
    /// instead (the same picture stretched).
    /// </summary>
    public override void Resize(int side)
    {
        if (side == _side) return;
        if (side < _side) throw new InvalidOperationException("Fourier patterns only grow.");
        using (no_grad())
        {
            // Kept out of the caller's dispose scope: they live as long as this image (see Dispose).
            var spectrum = Upsample(_spectrum, side).requires_grad_(true).DetachFromDisposeScope();
            foreach (var t in new[] { _spectrum, _m, _v }) t.Dispose();
            (_spectrum, _m, _v) = (spectrum, zeros_like(spectrum).DetachFromDisposeScope(), zeros_like(spectrum).DetachFromDisposeScope());
            _adamSteps = 0;
        }
        _side = side;
    }

    /// <summary>[K,C,s,s/2+1,2] at a larger side: tiled where it is a multiple of s, else zero-padded.</summary>
    private Tensor Upsample(Tensor spectrum, int side)
    {
        var s = _side;
        if (side % s != 0) return Pad(spectrum, side);
        var r = side / s;
        // Rows hold frequencies 0…, then …−1 (fftfreq's order): row i is frequency k = i or i − s, and goes to row r·k mod side.
        var rows = tensor(Enumerable.Range(0, s).Select(i => (long)((((i < (s + 1) / 2 ? i : i - s) * r) % side + side) % side)).ToArray());
        var columns = tensor(Enumerable.Range(0, s / 2 + 1).Select(j => (long)j * r).ToArray());
        var scaled = spectrum * r;
        scaled[.., .., 0, 0] = spectrum[.., .., 0, 0];
        var placed = zeros([spectrum.shape[0], spectrum.shape[1], side, s / 2 + 1, 2]).index_copy_(2, rows, scaled);
        return zeros([spectrum.shape[0], spectrum.shape[1], side, side / 2 + 1, 2]).index_copy_(3, columns, placed);
    }

    /// <summary>[K,C,s,s/2+1,2] zero-padded to [K,C,side,side/2+1,2]: rows hold frequencies 0…, then …−1 (fftfreq's order).</summary>
    private Tensor Pad(Tensor spectrum, int side)
    {
        var s = _side;
        var positive = (s + 1) / 2; // rows 0 … ceil(s/2)−1 are the frequencies ≥ 0
        var padded = zeros([spectrum.shape[0], spectrum.shape[1], side, side / 2 + 1, 2]);
        padded[.., .., ..positive, ..(s / 2 + 1)] = spectrum[.., .., ..positive];
        padded[.., .., (side - (s - positive)).., ..(s / 2 + 1)] = spectrum[.., .., positive..];
        return padded;
    }

    public override Tensor Augment(Tensor pixels, int step)
    {
        if (_transform.Step != step) _transform = (step, rand(4, generator: _transforms).data<float>().ToArray()); // one draw per step, whatever the chunks
        var u = _transform.Draw;
        var side = _side;
        var jitter = Math.Max(2.0, Math.Round(8.0 * side / 224));
        var large = side >= 64; // resampling a small image blurs it, and the ascent then paints the same streaks everywhere
        double scale = large ? 0.9 + 0.2 * u[0] : 1, angle = large ? (u[1] * 20 - 10) * Math.PI / 180 : 0;
        // Whole-pixel shifts (in align_corners = false coordinates a shift of 2k/W is exactly k pixels).
        double dx = Math.Round((u[2] * 2 - 1) * jitter) * 2 / side, dy = Math.Round((u[3] * 2 - 1) * jitter) * 2 / side;
        var theta = tensor(new[]
        {
            (float)(Math.Cos(angle) / scale), (float)(-Math.Sin(angle) / scale), (float)dx,
            (float)(Math.Sin(angle) / scale), (float)(Math.Cos(angle) / scale), (float)dy,
        }, [1, 2, 3]).expand(pixels.shape[0], 2, 3);
        var grid = nn.functional.affine_grid(theta, pixels.shape, align_corners: false);
        // Outside the picture is gray (Lucent pads with 0.5): resample the offset from gray, zeros outside.
        return nn.functional.grid_sample(pixels - 0.5, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false) + 0.5;
    }

    public override void Ascend(Tensor gradient, int step)
    {
        using var _ = no_grad();
        var descent = -gradient; // Adam minimises −objective
        _m.mul_(Beta1).add_(descent, alpha: 1 - Beta1);
        _v.mul_(Beta2).addcmul_(descent, descent, value: 1 - Beta2);
        var t = ++_adamSteps;
        var mHat = _m / (1 - Math.Pow(Beta1, t));
        var vHat = _v / (1 - Math.Pow(Beta2, t));
        _spectrum.sub_(_learningRate * mHat / (vHat.sqrt() + Epsilon));
    }

    public override Tensor Display(int side)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var spectrum = side == _side ? _spectrum.detach() : Upsample(_spectrum.detach(), side);
        return ToPixels(spectrum, side).MoveToOuterDisposeScope();
    }

    public override void Dispose()
    {
        foreach (var t in new[] { _spectrum, _m, _v, _colour }) t?.Dispose();
        _transforms.Dispose();
    }
}
