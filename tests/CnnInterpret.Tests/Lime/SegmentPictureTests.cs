using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Tests.Lime;

/// <summary>What hidden segments are filled with, and how segments and signed maps are drawn.</summary>
public sealed class SegmentPictureTests
{
    private static readonly Preprocessing Gray = new("gray", 4, [2, 4], [0.25f], [0.5f], [0, 0, 0]);
    private static readonly Segmentation TwoHalves = new([0, 0, 1, 1, 0, 0, 1, 1], 2, 4, 2);

    [Fact]
    public void Fills_are_the_segment_mean_the_mean_colour_or_black()
    {
        float[] input = [1, 2, 3, 4, 5, 6, 7, 8];
        Assert.Equal([3.5f, 3.5f, 5.5f, 5.5f, 3.5f, 3.5f, 5.5f, 5.5f], SegmentFill.Build(FillKind.Mean, input, Gray, TwoHalves));
        Assert.Equal(new float[8], SegmentFill.Build(FillKind.Gray, input, Gray, TwoHalves)); // 0 after normalising = the mean colour
        Assert.All(SegmentFill.Build(FillKind.Black, input, Gray, TwoHalves), v => Assert.Equal((0 - 0.25f) / 0.5f, v)); // pixel 0, normalised
        var blur = SegmentFill.Build(FillKind.Blur, input, Gray, TwoHalves);
        Assert.True(blur.Max() - blur.Min() < input.Max() - input.Min());

        Assert.Equal(FillKind.Black, SegmentFill.Parse(null, Gray)); // drawn on black: hidden = empty canvas
        var photo = new Preprocessing("rgb", 256, [224, 224], [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f], [255, 255, 255]);
        Assert.Equal(FillKind.Gray, SegmentFill.Parse(null, photo));
        Assert.Equal(FillKind.Mean, SegmentFill.Parse("mean", photo));
        var e = Assert.Throws<Core.CnnInterpretException>(() => SegmentFill.Parse("purple", photo));
        Assert.Contains("gray, mean, blur, black", e.Message);
    }

    [Fact]
    public void Boundaries_are_drawn_exactly_where_the_segment_changes()
    {
        using var picture = new Image<Rgb24>(4, 2, new Rgb24(10, 20, 30));
        using var drawn = SegmentBoundaries.Render(picture, TwoHalves.Labels);
        var scale = SegmentBoundaries.Scale(2, 4);
        Assert.Equal(56, scale); // the longer side reaches 224
        Assert.Equal((4 * scale, 2 * scale), (drawn.Width, drawn.Height));
        for (var x = 0; x < drawn.Width; x++)
            Assert.Equal(x == 2 * scale - 1 ? SegmentBoundaries.Line : new Rgb24(10, 20, 30), drawn[x, 10]);

        using var dimmed = SegmentBoundaries.Render(picture, TwoHalves.Labels, new HashSet<int> { 1 });
        Assert.Equal(new Rgb24(2, 5, 7), dimmed[0, 0]); // segment 0 is not highlighted: a quarter of its colour
        Assert.Equal(new Rgb24(10, 20, 30), dimmed[drawn.Width - 1, 0]);
    }

    [Fact]
    public void Signed_maps_are_red_for_positive_blue_for_negative_on_one_shared_scale()
    {
        using var picture = new Image<Rgb24>(4, 2, new Rgb24(100, 100, 100));
        float[] first = [1, 1, -1, -1, 1, 1, -1, -1], second = [0.5f, 0.5f, 0, 0, 0.5f, 0.5f, 0, 0];
        Assert.Equal(1, AttributionMap.Limit([first, second]));
        using var image = AttributionMap.Render(picture, [first, second], 2, 4);
        var cell = 4 * SegmentBoundaries.Scale(2, 4);
        Assert.Equal(3 * cell + 2 * 4 + 2 * 4, image.Width); // picture + two maps, gaps and margins
        Rgb24 At(int panel, int x) => image[4 + panel * (cell + 4) + x, 10];
        Assert.Equal(new Rgb24(100, 100, 100), At(0, 0));
        Assert.Equal(AttributionMap.Colour(new Rgb24(100, 100, 100), 1), At(1, 0));
        Assert.True(At(1, 0).R > 200 && At(1, 0).B < 100);
        Assert.True(At(1, cell - 1).B > 200 && At(1, cell - 1).R < 50);
        Assert.Equal(AttributionMap.Colour(new Rgb24(100, 100, 100), 0.5), At(2, 0)); // half the first map's colour: one scale
        Assert.Equal(AttributionMap.Colour(new Rgb24(100, 100, 100), 0), At(2, cell - 1));
    }
}
