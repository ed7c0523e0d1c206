using CnnInterpret.Core;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Tests.Imaging;

public sealed class ImagePreprocessorTests
{
    private static readonly Preprocessing Gray28 = new("gray", 28, [28, 28], [0.5f], [0.25f]);

    private static readonly Rgb24 Red = new(255, 0, 0), Green = new(0, 255, 0), Blue = new(0, 0, 255);

    private static float GrayExpected(int v, float mean = 0.5f, float std = 0.25f) => (v / 255f - mean) / std;

    /// <summary>PIL's RGB → "L": (R·19595 + G·38470 + B·7471 + 0x8000) >> 16, i.e. 299/587/114 per mille.</summary>
    private static int PilL(int r, int g, int b) => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;

    [Fact]
    public void Gray_Landscape56x28_TakesTheCenterCropWithoutResizing()
    {
        // Left quarter red, right quarter blue, the middle half a gray ramp v = 8·(x−14) + y.
        using var image = new Image<Rgb24>(56, 28);
        for (var y = 0; y < 28; y++)
            for (var x = 0; x < 56; x++)
            {
                var v = (byte)(8 * (x - 14) + y);
                image[x, y] = x < 14 ? Red : x >= 42 ? Blue : new Rgb24(v, v, v);
            }

        using var input = ImagePreprocessor.Prepare(image, Gray28);

        Assert.Equal([1, 28, 28], input.Shape);
        Assert.Equal([1L, 1, 28, 28], input.BatchShape);
        Assert.Equal(28 * 28, input.Data.Length);
        Assert.Equal(28, input.Display.Width);
        Assert.Equal(28, input.Display.Height);
        for (var y = 0; y < 28; y++)
            for (var x = 0; x < 28; x++)
            {
                var v = 8 * x + y;
                Assert.Equal(new Rgb24((byte)v, (byte)v, (byte)v), input.Display[x, y]);
                Assert.Equal(GrayExpected(v), input.Data[y * 28 + x], 1e-5);
            }
        // Spot checks against hand-computed values: v = 0 → (0 − 0.5)/0.25 = −2; v = 243 (x 27, y 27) → 1.8117647.
        Assert.Equal(-2f, input.Data[0], 1e-5);
        Assert.Equal((243 / 255.0 - 0.5) / 0.25, input.Data[27 * 28 + 27], 1e-5);
    }

    [Fact]
    public void Gray_Portrait28x56_TakesTheVerticalCenter()
    {
        using var image = new Image<Rgb24>(28, 56);
        for (var y = 0; y < 56; y++)
            for (var x = 0; x < 28; x++)
            {
                var v = (byte)(8 * (y - 14) + x);
                image[x, y] = y < 14 ? Red : y >= 42 ? Blue : new Rgb24(v, v, v);
            }

        using var input = ImagePreprocessor.Prepare(image, Gray28);
        Assert.Equal(28, input.Display.Width);
        Assert.Equal(28, input.Display.Height);
        Assert.Equal(GrayExpected(0), input.Data[0], 1e-5);
        Assert.Equal(GrayExpected(8 * 27 + 27), input.Data[27 * 28 + 27], 1e-5);
        Assert.Equal(GrayExpected(8 * 5 + 3), input.Data[5 * 28 + 3], 1e-5);
    }

    [Fact]
    public void Gray_Downscale112x56_ShorterSideBecomes28_AndCenterIsKept()
    {
        // Quarters: red | green green | blue. After halving, the crop (columns 14..41 of 56) is the green middle.
        using var image = new Image<Rgb24>(112, 56);
        for (var y = 0; y < 56; y++)
            for (var x = 0; x < 112; x++)
                image[x, y] = x < 28 ? Red : x >= 84 ? Blue : Green;

        using var input = ImagePreprocessor.Prepare(image, Gray28);
        Assert.Equal(28, input.Display.Width);
        Assert.Equal(28, input.Display.Height);
        var green = PilL(0, 255, 0); // 150
        Assert.Equal(150, green);
        for (var y = 0; y < 28; y++)
            for (var x = 2; x < 26; x++) // away from the blurred borders
            {
                var p = input.Display[x, y];
                Assert.True(p.R <= 1 && p.G >= 254 && p.B <= 1, $"({x},{y}) is {p}");
                Assert.Equal(GrayExpected(green), input.Data[y * 28 + x], 0.02);
            }
        // Even the crop's edge columns are mostly green (never the red or blue quarters).
        for (var y = 0; y < 28; y++)
        {
            Assert.True(input.Display[0, y].G > 190, $"left edge {input.Display[0, y]}");
            Assert.True(input.Display[27, y].G > 190, $"right edge {input.Display[27, y]}");
        }
    }

    [Fact]
    public void Gray_Upscale14x14_FillsTheCrop()
    {
        using var image = new Image<Rgb24>(14, 14, new Rgb24(77, 77, 77));
        using var input = ImagePreprocessor.Prepare(image, Gray28);
        Assert.Equal(28, input.Display.Width);
        Assert.Equal(28, input.Display.Height);
        Assert.All(input.Data, v => Assert.Equal(GrayExpected(77), v, 1e-2));
    }

    [Fact]
    public void Gray_ResizeLargerThanCrop_CropsTheCenter()
    {
        // 32×32 with Resize 32 and Crop 28: no resampling, crop offset (32 − 28)/2 = 2 on both axes.
        var spec = new Preprocessing("gray", 32, [28, 28], [0f], [1f]);
        using var image = new Image<Rgb24>(32, 32);
        for (var y = 0; y < 32; y++)
            for (var x = 0; x < 32; x++)
            {
                var v = (byte)(7 * x + y);
                image[x, y] = new Rgb24(v, v, v);
            }

        using var input = ImagePreprocessor.Prepare(image, spec);
        Assert.Equal(28, input.Display.Width);
        Assert.Equal(28, input.Display.Height);
        Assert.Equal(image[2, 2], input.Display[0, 0]);
        Assert.Equal(image[29, 29], input.Display[27, 27]);
        Assert.Equal((7 * 2 + 2) / 255f, input.Data[0], 1e-6);
        Assert.Equal((7 * 29 + 29) / 255f, input.Data[27 * 28 + 27], 1e-6);
    }

    [Theory]
    [InlineData(30, 1)]
    [InlineData(31, 2)] // round(1.5) = 2, as torchvision's int(round(1.5))
    [InlineData(33, 2)] // round(2.5) = 2 (ties to even), as Python's round
    [InlineData(34, 3)]
    public void CenterCropOffset_RoundsLikeTorchvision(int width, int expectedLeft)
    {
        var spec = new Preprocessing("gray", 28, [28, 28], [0f], [1f]);
        using var image = new Image<Rgb24>(width, 28);
        for (var y = 0; y < 28; y++)
            for (var x = 0; x < width; x++)
                image[x, y] = new Rgb24((byte)x, (byte)x, (byte)x);

        using var input = ImagePreprocessor.Prepare(image, spec);
        Assert.Equal(28, input.Display.Width);
        Assert.Equal((byte)expectedLeft, input.Display[0, 0].R);
        Assert.Equal(expectedLeft / 255f, input.Data[0], 1e-6);
    }

    [Fact]
    public void Gray_UsesPilLConversion()
    {
        Assert.Equal(76, PilL(255, 0, 0));
        Assert.Equal(150, PilL(0, 255, 0));
        Assert.Equal(29, PilL(0, 0, 255));

        var spec = new Preprocessing("gray", 1, [1, 5], [0f], [1f]);
        using var image = new Image<Rgb24>(5, 1);
        image[0, 0] = new Rgb24(255, 0, 0);
        image[1, 0] = new Rgb24(0, 255, 0);
        image[2, 0] = new Rgb24(0, 0, 255);
        image[3, 0] = new Rgb24(10, 200, 50);   // 2.99 + 117.4 + 5.7 = 126.09 → 126
        image[4, 0] = new Rgb24(255, 255, 255);

        using var input = ImagePreprocessor.Prepare(image, spec);
        Assert.Equal([1, 1, 5], input.Shape);
        Assert.Equal(76 / 255f, input.Data[0], 1e-6);
        Assert.Equal(150 / 255f, input.Data[1], 1e-6);
        Assert.Equal(29 / 255f, input.Data[2], 1e-6);
        Assert.Equal(126 / 255f, input.Data[3], 1e-6);
        Assert.Equal(1f, input.Data[4], 1e-6);
    }

    [Fact]
    public void Rgb_GivesThreePlanesInChwOrder()
    {
        float[] mean = [0.1f, 0.2f, 0.3f], std = [0.5f, 0.25f, 0.125f];
        var spec = new Preprocessing("rgb", 2, [2, 4], mean, std);
        using var image = new Image<Rgb24>(4, 2);
        for (var y = 0; y < 2; y++)
            for (var x = 0; x < 4; x++)
                image[x, y] = new Rgb24((byte)(10 * x + 1), (byte)(20 * y + 2), (byte)(30 + x + y));

        using var input = ImagePreprocessor.Prepare(image, spec);
        Assert.Equal([3, 2, 4], input.Shape);
        Assert.Equal([1L, 3, 2, 4], input.BatchShape);
        Assert.Equal(24, input.Data.Length);
        for (var y = 0; y < 2; y++)
            for (var x = 0; x < 4; x++)
            {
                var i = y * 4 + x;
                Assert.Equal(((10 * x + 1) / 255f - 0.1f) / 0.5f, input.Data[i], 1e-5);
                Assert.Equal(((20 * y + 2) / 255f - 0.2f) / 0.25f, input.Data[8 + i], 1e-5);
                Assert.Equal(((30 + x + y) / 255f - 0.3f) / 0.125f, input.Data[16 + i], 1e-5);
            }
        // One value by hand: blue plane, (x 3, y 1): (34/255 − 0.3)/0.125 = −1.3333333.
        Assert.Equal((34 / 255.0 - 0.3) / 0.125, input.Data[16 + 7], 1e-5);
    }

    [Fact]
    public void Rgb_ImageNetStyleSpec_ResizesAndCrops()
    {
        var spec = new Preprocessing("rgb", 8, [6, 6], [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
        using var image = new Image<Rgb24>(20, 16, new Rgb24(200, 100, 50));
        using var input = ImagePreprocessor.Prepare(image, spec);
        Assert.Equal([3, 6, 6], input.Shape);
        Assert.Equal(6, input.Display.Width);
        Assert.Equal(6, input.Display.Height);
        Assert.Equal((200 / 255f - 0.485f) / 0.229f, input.Data[0], 0.02);
        Assert.Equal((100 / 255f - 0.456f) / 0.224f, input.Data[36], 0.02);
        Assert.Equal((50 / 255f - 0.406f) / 0.225f, input.Data[72], 0.02);
    }

    [Fact]
    public void NormaliseInPlace_AppliesMeanAndStdPerChannel()
    {
        var spec = new Preprocessing("rgb", 1, [1, 2], [0.5f, 0f, 1f], [0.25f, 2f, 0.5f]);
        float[] data = [0f, 1f, /* G */ 0.5f, 1f, /* B */ 1f, 0f];
        ImagePreprocessor.NormaliseInPlace(data, spec);
        Assert.Equal([-2f, 2f, 0.25f, 0.5f, 0f, -2f], data);
    }

    [Fact]
    public void UnknownChannelLayout_IsBadModelFile()
    {
        var spec = new Preprocessing("cmyk", 4, [4, 4], [0f], [1f]);
        using var image = new Image<Rgb24>(4, 4);
        var e = Assert.Throws<CnnInterpretException>(() => ImagePreprocessor.Prepare(image, spec).Dispose());
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        Assert.Contains("cmyk", e.Message);
    }

    [Fact]
    public void Prepare_DoesNotModifyTheSourceImage()
    {
        using var image = new Image<Rgb24>(56, 28, new Rgb24(9, 9, 9));
        using var input = ImagePreprocessor.Prepare(image, Gray28);
        Assert.Equal(56, image.Width);
        Assert.Equal(28, image.Height);
        input.Display[0, 0] = new Rgb24(1, 1, 1);
        Assert.Equal(new Rgb24(9, 9, 9), image[14, 0]);
    }
}
