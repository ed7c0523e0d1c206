using CnnInterpret.Core.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Core.Explainers;

/// <summary>Whether an image suits a model, and if not why, so a user is not shown meaningless classes.</summary>
public sealed record ImageFit(bool Suitable, string? Reason);

public static class ImageFits
{
    /// <summary>
    /// A grayscale model shown a colour picture, or a model trained on light objects over black (Fashion-MNIST) shown a
    /// picture on a light background, will still answer — with classes that mean nothing. Judged on the picture the
    /// model saw (after resize and crop): mean colourfulness (|R−G| + |G−B| over the pixels) and border brightness.
    /// </summary>
    public static ImageFit Assess(CnnModel model, byte[] displayPng)
    {
        if (model.Input.ChannelCount != 1) return new ImageFit(true, null);
        using var image = Image.Load<Rgb24>(displayPng);
        double colour = 0, border = 0;
        int borderCount = 0;
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    var p = row[x];
                    colour += Math.Abs(p.R - p.G) + Math.Abs(p.G - p.B);
                    if (y == 0 || x == 0 || y == rows.Height - 1 || x == row.Length - 1)
                    {
                        border += (p.R + p.G + p.B) / 3.0;
                        borderCount++;
                    }
                }
            }
        });
        colour /= image.Width * image.Height;
        border /= Math.Max(1, borderCount);
        var trainedOnBlack = model.Input.Background is [0, 0, 0];
        if (colour > 24)
            return new ImageFit(false, $"This is a colour picture; {model.DisplayName} was trained on {model.Input.Width}×{model.Input.Height} grayscale images, so its classes mean little here. Try a model for photos.");
        if (trainedOnBlack && border > 128)
            return new ImageFit(false, $"This picture has a light background; {model.DisplayName} was trained on light objects over black, so its classes mean little here. Try a model for photos, or invert the image.");
        return new ImageFit(true, null);
    }
}
