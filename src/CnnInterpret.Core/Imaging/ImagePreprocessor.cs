using CnnInterpret.Core.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace CnnInterpret.Core.Imaging;

/// <summary>What the model sees: the normalised [C,H,W] input and the cropped picture it came from.</summary>
public sealed class ModelInput(float[] data, int[] shape, Image<Rgb24> display) : IDisposable
{
    /// <summary>Normalised pixels, [C,H,W] row-major.</summary>
    public float[] Data { get; } = data;

    public int[] Shape { get; } = shape;

    /// <summary>The resized and cropped RGB picture, for overlays.</summary>
    public Image<Rgb24> Display { get; } = display;

    public long[] BatchShape => [1, .. Shape.Select(d => (long)d)];

    /// <summary>A batch of this one image, [1,C,H,W], in libtorch's memory (see <see cref="NativeTensor"/>); the caller's scope owns it.</summary>
    public TorchSharp.torch.Tensor ToBatch() => NativeTensor.From<float>(Data, BatchShape);

    public void Dispose() => Display.Dispose();
}

/// <summary>Applies a model's <see cref="Preprocessing"/>: resize (shorter side), center crop, channels, normalise.</summary>
public static class ImagePreprocessor
{
    public static ModelInput Prepare(Image<Rgb24> image, Preprocessing spec)
    {
        // torchvision's Resize(int): the shorter side becomes `Resize`, the longer keeps the aspect ratio
        // (truncated, as torchvision does); never smaller than the crop, so the crop always fits.
        var shorter = Math.Min(image.Width, image.Height);
        var scale = Math.Max((double)spec.Resize / shorter, Math.Max((double)spec.Width / image.Width, (double)spec.Height / image.Height));
        var width = Math.Max(spec.Width, image.Width == shorter ? (int)Math.Round(image.Width * scale) : (int)(image.Width * scale));
        var height = Math.Max(spec.Height, image.Height == shorter ? (int)Math.Round(image.Height * scale) : (int)(image.Height * scale));
        var left = (int)Math.Round((width - spec.Width) / 2.0);
        var top = (int)Math.Round((height - spec.Height) / 2.0);
        var display = image.Clone(ctx =>
        {
            if (width != image.Width || height != image.Height) ctx.Resize(width, height, KnownResamplers.Triangle);
            if (width != spec.Width || height != spec.Height) ctx.Crop(new Rectangle(left, top, spec.Width, spec.Height));
        });
        return new ModelInput(Normalise(display, spec), spec.InputShape, display);
    }

    /// <summary>Pixels → [C,H,W] floats in the network's channel order: gray uses PIL's "L" conversion (ITU-R 601 weights, same rounding), then (x/255 − mean)/std.</summary>
    public static float[] Normalise(Image<Rgb24> image, Preprocessing spec)
    {
        int channels = spec.ChannelCount, h = image.Height, w = image.Width, plane = h * w;
        var data = new float[channels * plane];
        // BGR networks (Caffe's, Keras's VGG16) take blue as their first channel.
        int red = spec.Channels == "bgr" ? 2 * plane : 0, blue = spec.Channels == "bgr" ? 0 : 2 * plane;
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < h; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < w; x++)
                {
                    var p = row[x];
                    var i = y * w + x;
                    if (channels == 1)
                        data[i] = ((p.R * 19595 + p.G * 38470 + p.B * 7471 + 0x8000) >> 16) / 255f;
                    else
                    {
                        data[red + i] = p.R / 255f;
                        data[plane + i] = p.G / 255f;
                        data[blue + i] = p.B / 255f;
                    }
                }
            }
        });
        NormaliseInPlace(data, spec);
        return data;
    }

    /// <summary>(x − mean)/std per channel on [C,H,W] values already scaled to [0,1].</summary>
    public static void NormaliseInPlace(Span<float> data, Preprocessing spec)
    {
        var plane = data.Length / spec.ChannelCount;
        for (var c = 0; c < spec.ChannelCount; c++)
        {
            float mean = spec.Mean[c], std = spec.Std[c];
            foreach (ref var v in data.Slice(c * plane, plane)) v = (v - mean) / std;
        }
    }
}
