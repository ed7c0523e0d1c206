using CnnInterpret.Core;
using CnnInterpret.Core.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Tests.Imaging;

public sealed class ColormapTests
{
    private static void AssertClose(Rgb24 actual, int r, int g, int b, int tolerance)
    {
        Assert.True(Math.Abs(actual.R - r) <= tolerance && Math.Abs(actual.G - g) <= tolerance && Math.Abs(actual.B - b) <= tolerance,
            $"got ({actual.R},{actual.G},{actual.B}), expected ({r},{g},{b}) ±{tolerance}");
    }

    [Theory]
    // matplotlib's viridis at 0, ¼, ½, ¾ and 1 (#440154, #3b528b, #21918c, #5ec962, #fde725: matplotlib looks up
    // entry ⌊t·256⌋, so ¾ is entry 192 = 192/255 here).
    [InlineData(0.0, 68, 1, 84)]
    [InlineData(0.25, 59, 82, 139)]
    [InlineData(0.5, 33, 145, 140)]
    [InlineData(192 / 255.0, 94, 201, 98)]
    [InlineData(1.0, 253, 231, 37)]
    public void Viridis_MatchesMatplotlib(double t, int r, int g, int b) =>
        AssertClose(Colormap.Viridis.Map(t), r, g, b, tolerance: 4);

    [Theory]
    // Every 17th entry of matplotlib's _viridis_data (×255, rounded).
    [InlineData(0, 68, 1, 84)]
    [InlineData(17, 72, 26, 108)]
    [InlineData(34, 71, 47, 125)]
    [InlineData(51, 65, 68, 135)]
    [InlineData(68, 57, 86, 140)]
    [InlineData(85, 49, 104, 142)]
    [InlineData(102, 42, 120, 142)]
    [InlineData(119, 35, 136, 142)]
    [InlineData(136, 31, 152, 139)]
    [InlineData(153, 34, 168, 132)]
    [InlineData(170, 53, 183, 121)]
    [InlineData(187, 84, 197, 104)]
    [InlineData(204, 122, 209, 81)]
    [InlineData(221, 165, 219, 54)]
    [InlineData(238, 210, 226, 27)]
    [InlineData(255, 253, 231, 37)]
    public void Viridis_TableEntriesMatchMatplotlib(int index, int r, int g, int b) =>
        AssertClose(Colormap.Viridis.Map(index / 255.0), r, g, b, tolerance: 4);

    [Fact]
    public void Gray_MapsEndpointsAndMiddle()
    {
        Assert.Equal(new Rgb24(0, 0, 0), Colormap.Gray.Map(0));
        Assert.Equal(new Rgb24(255, 255, 255), Colormap.Gray.Map(1));
        Assert.Equal(new Rgb24(128, 128, 128), Colormap.Gray.Map(0.5));   // entry round(127.5) = 128
        Assert.Equal(new Rgb24(51, 51, 51), Colormap.Gray.Map(0.2));
        for (var i = 0; i < 256; i++)
            Assert.Equal(new Rgb24((byte)i, (byte)i, (byte)i), Colormap.Gray.Map(i / 255.0));
    }

    [Theory]
    // matplotlib's jet at table entries 0, 32, … 255, from its segment data by hand: entry 128 (t = 0.502) has red
    // (0.502 − 0.35) ÷ 0.31 = 0.490 → 125 and blue 1 − (0.502 − 0.34) ÷ 0.31 = 0.478 → 122, as matplotlib's cm.jet(128).
    [InlineData(0, 0, 0, 128)]
    [InlineData(32, 0, 0, 255)]
    [InlineData(64, 0, 128, 255)]
    [InlineData(96, 22, 255, 225)]
    [InlineData(128, 125, 255, 122)]
    [InlineData(160, 228, 255, 19)]
    [InlineData(192, 255, 148, 0)]
    [InlineData(224, 255, 30, 0)]
    [InlineData(255, 128, 0, 0)]
    public void Jet_MatchesMatplotlibsSegments(int index, int r, int g, int b) =>
        AssertClose(Colormap.Jet.Map(index / 255.0), r, g, b, tolerance: 0);

    [Theory]
    // d3-scale-chromatic's interpolateTurbo, an independent rounding of the same fit in 0–255: within 2 levels.
    [InlineData(0, 35, 23, 27)]
    [InlineData(64, 38, 189, 225)]
    [InlineData(128, 150, 250, 80)]
    [InlineData(192, 255, 128, 29)]
    [InlineData(255, 144, 12, 0)]
    public void Turbo_MatchesD3(int index, int r, int g, int b) =>
        AssertClose(Colormap.Turbo.Map(index / 255.0), r, g, b, tolerance: 2);

    [Fact]
    public void Turbo_RunsFromBlueThroughGreenToRed()
    {
        static int Strongest(Rgb24 c) => c.B >= c.G && c.B >= c.R ? 2 : c.G >= c.R ? 1 : 0;
        Assert.Equal(2, Strongest(Colormap.Turbo.Map(0.15)));
        Assert.Equal(1, Strongest(Colormap.Turbo.Map(0.5)));
        Assert.Equal(0, Strongest(Colormap.Turbo.Map(0.85)));
    }

    [Fact]
    public void LegendPng_IsTheTableFromLeftToRight()
    {
        foreach (var name in Colormap.Names)
        {
            var map = Colormap.Get(name);
            using var legend = Image.Load<Rgb24>(map.LegendPng());
            Assert.Equal((256, 1), (legend.Width, legend.Height));
            for (var x = 0; x < 256; x++) Assert.Equal(map.Map(x / 255.0), legend[x, 0]);
        }
    }

    [Fact]
    public void NaN_MapsToEntryZero_AndOutOfRangeIsClamped()
    {
        foreach (var map in new[] { Colormap.Viridis, Colormap.Gray, Colormap.Jet, Colormap.Turbo })
        {
            Assert.Equal(map.Map(0), map.Map(double.NaN));
            Assert.Equal(map.Map(0), map.Map(-3));
            Assert.Equal(map.Map(0), map.Map(double.NegativeInfinity));
            Assert.Equal(map.Map(1), map.Map(7));
            Assert.Equal(map.Map(1), map.Map(double.PositiveInfinity));
        }
        Assert.Equal(new Rgb24(0, 0, 0), Colormap.Gray.Map(double.NaN));
        Assert.NotEqual(Colormap.Viridis.Map(0), Colormap.Viridis.Map(1));
    }

    [Fact]
    public void Get_ResolvesNamesCaseInsensitively()
    {
        Assert.Same(Colormap.Viridis, Colormap.Get(null));
        Assert.Same(Colormap.Viridis, Colormap.Get("viridis"));
        Assert.Same(Colormap.Viridis, Colormap.Get("VIRIDIS"));
        Assert.Same(Colormap.Gray, Colormap.Get("gray"));
        Assert.Same(Colormap.Gray, Colormap.Get("Grey"));
        foreach (var name in Colormap.Names)
            Assert.Equal(name, Colormap.Get(name).Name);
    }

    [Theory]
    [InlineData("plasma")]
    [InlineData("")]
    [InlineData("viridis ")]
    public void Get_UnknownName_IsInvalidArgument(string name)
    {
        var e = Assert.Throws<CnnInterpretException>(() => Colormap.Get(name));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("viridis", e.Message);
    }
}

public sealed class BitmapFontTests
{
    private static readonly Rgb24 Black = new(0, 0, 0), White = new(255, 255, 255);

    [Theory]
    [InlineData("", 2, 0)]
    [InlineData("0", 1, 3)]
    [InlineData("0", 2, 6)]
    [InlineData("12", 2, 14)]
    [InlineData("-1.5e+6", 1, 27)]
    public void Measure_IsGlyphsPlusOneColumnGapsTimesScale(string text, int scale, int expected) =>
        Assert.Equal(expected, BitmapFont.Measure(text, scale));

    [Fact]
    public void Draw_One_SetsExactlyTheGlyphPixels()
    {
        using var image = new Image<Rgb24>(3, 5, Black);
        BitmapFont.Draw(image, "1", 0, 0, 1, White);
        string[] expected = [".#.", "##.", ".#.", ".#.", "###"];
        for (var y = 0; y < 5; y++)
            for (var x = 0; x < 3; x++)
                Assert.Equal(expected[y][x] == '#' ? White : Black, image[x, y]);
    }

    [Theory]
    [InlineData('0', "###|#.#|#.#|#.#|###")]
    [InlineData('.', "...|...|...|...|.#.")]
    [InlineData('-', "...|...|###|...|...")]
    [InlineData('+', "...|.#.|###|.#.|...")]
    [InlineData('e', "...|###|###|#..|###")]
    [InlineData(' ', "...|...|...|...|...")]
    public void Draw_Glyphs(char glyph, string rows)
    {
        using var image = new Image<Rgb24>(3, 5, Black);
        BitmapFont.Draw(image, glyph.ToString(), 0, 0, 1, White);
        var expected = rows.Split('|');
        for (var y = 0; y < 5; y++)
            for (var x = 0; x < 3; x++)
                Assert.Equal(expected[y][x] == '#' ? White : Black, image[x, y]);
    }

    [Fact]
    public void Draw_AtScale2_WithAdvance_AndUnknownCharactersSkipped()
    {
        using var image = new Image<Rgb24>(16, 10, Black);
        // '#' has no glyph: nothing drawn but the pen advances 4·2 = 8 pixels; then '7' = 111,001,001,001,001.
        BitmapFont.Draw(image, "#7", 0, 0, 2, White);
        for (var y = 0; y < 10; y++)
            for (var x = 0; x < 8; x++)
                Assert.Equal(Black, image[x, y]);
        Assert.Equal(White, image[8, 0]);
        Assert.Equal(White, image[9, 1]);
        Assert.Equal(White, image[13, 1]);
        Assert.Equal(Black, image[8, 2]);   // row 1 of '7' is 001
        Assert.Equal(White, image[12, 2]);
        Assert.Equal(White, image[13, 9]);
        Assert.Equal(Black, image[14, 0]);  // the gap column
    }

    [Fact]
    public void Draw_OutsideTheImage_IsClippedNotThrown()
    {
        using var image = new Image<Rgb24>(4, 4, Black);
        BitmapFont.Draw(image, "888", -2, -3, 2, White);
        BitmapFont.Fill(image, 3, 3, 100, 100, White);
        Assert.Equal(White, image[3, 3]);
        BitmapFont.Fill(image, -10, -10, 5, 5, White); // entirely outside: nothing
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(1.0, "1")]
    [InlineData(0.5, "0.5")]
    [InlineData(0.123, "0.12")]
    [InlineData(-0.5, "-0.5")]
    [InlineData(12.345, "12.3")]
    [InlineData(123.4, "123")]
    [InlineData(9999.0, "9999")]
    [InlineData(12345.0, "1.2e+4")]
    [InlineData(0.001, "1e-3")]
    [InlineData(-2.5e6, "-2.5e+6")]
    [InlineData(-0.00012, "-1.2e-4")]
    public void Format_IsShortAndUsesOnlyDrawableCharacters(double value, string expected)
    {
        var text = BitmapFont.Format(value);
        Assert.Equal(expected, text);
        Assert.True(text.Length <= 7);
        Assert.All(text, c => Assert.Contains(c, "0123456789.-+e "));
    }
}

public sealed class ChannelGridTests
{
    // ChannelGrid's layout constants: Gap 2, Margin 4, LegendBar 10, TextScale 2 → legend height 2·3 + 10 + 5·2 = 26.
    private const int Gap = 2, Margin = 4, LegendH = 26;
    private static readonly Rgb24 Background = new(30, 30, 30), Text = new(220, 220, 220);

    private static float[] Ramp(int count, int h, int w, Func<int, int, float> value)
    {
        var data = new float[count * h * w];
        for (var c = 0; c < count; c++)
            for (var i = 0; i < h * w; i++)
                data[c * h * w + i] = value(c, i);
        return data;
    }

    [Theory]
    // count, h, w, columns, minCell → width, height
    [InlineData(64, 8, 8, null, 48, 806, 232)]   // 16 columns × 4 rows of 48-pixel cells: 16·48 + 15·2 + 8; 4·48 + 3·2 + 8 + 26
    [InlineData(1, 2, 2, null, 48, 128, 82)]     // one 48×48 cell; the grid is at least 120 wide for the legend
    [InlineData(5, 10, 20, 3, 48, 192, 96)]      // scale ⌈48/20⌉ = 3: cells 60×30, 3 columns × 2 rows
    [InlineData(3, 28, 28, null, 48, 180, 90)]   // scale 2: cells 56×56
    [InlineData(2, 4, 4, 10, 48, 128, 82)]       // columns clamped to the count
    [InlineData(10, 100, 50, null, 48, 422, 236)] // big maps are not enlarged: 10 → 8 columns × 2 rows of 50×100: 8·50 + 7·2 + 8; 2·100 + 2 + 8 + 26
    public void Render_HasTheLayoutsDimensions(int count, int h, int w, int? columns, int minCell, int width, int height)
    {
        using var image = ChannelGrid.Render(new float[count * h * w], count, h, w, new GridOptions(columns, MinCellSize: minCell));
        Assert.Equal(width, image.Width);
        Assert.Equal(height, image.Height);
    }

    [Fact]
    public void Layout_SaysWhereEachCellIs()
    {
        // Five 3×4 channels, each one flat grey level (0, 0.25, … 1 on a shared scale), 2 columns: the layout's cells hold them.
        const int count = 5, h = 3, w = 4;
        var options = new GridOptions(Columns: 2, Scaling: ChannelScaling.Shared, Colormap: "gray");
        using var image = ChannelGrid.Render(Ramp(count, h, w, (c, _) => c), count, h, w, options);
        var layout = ChannelGrid.Layout(count, h, w, options);
        Assert.Equal(new GridLayout(2, 3, Margin, Margin, 48, 36, 48 + Gap, 36 + Gap, 12), layout);
        for (var c = 0; c < count; c++)
        {
            int left = layout.Left + c % layout.Columns * layout.StepX, top = layout.Top + c / layout.Columns * layout.StepY;
            var level = (byte)Math.Round(c / 4.0 * 255);
            foreach (var (x, y) in new[] { (0, 0), (layout.CellWidth - 1, layout.CellHeight - 1) })
                Assert.Equal(new Rgb24(level, level, level), image[left + x, top + y]);
            Assert.NotEqual(new Rgb24(level, level, level), image[left + layout.CellWidth, top]); // the gap after the cell
        }
    }

    [Fact]
    public void PatternLayout_SaysWhereEachPatternIs()
    {
        // Three 1×2×2 gray patterns of levels 0.2, 0.6 and 1, two columns; labels go under the cells.
        using var image = PatternGrid.Render(Ramp(3, 2, 2, (c, _) => 0.2f + 0.4f * c), 3, 1, 2, 2, [7, 8, 9], columns: 2);
        var layout = PatternGrid.Layout(3, 2, 2, columns: 2);
        Assert.Equal((2, 2, 64, 64, 32), (layout.Columns, layout.Rows, layout.CellWidth, layout.CellHeight, layout.Scale));
        for (var c = 0; c < 3; c++)
        {
            int left = layout.Left + c % 2 * layout.StepX, top = layout.Top + c / 2 * layout.StepY;
            var level = (byte)Math.Round((0.2f + 0.4f * c) * 255);
            Assert.Equal(new Rgb24(level, level, level), image[left, top]);
            Assert.Equal(new Rgb24(level, level, level), image[left + 63, top + 63]);
        }
        Assert.Equal(image.Height, layout.Top + layout.Rows * layout.StepY - 4 + layout.Top); // margins 4, gap 4
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(8, 8)]
    [InlineData(9, 8)]
    [InlineData(32, 8)]
    [InlineData(33, 16)]
    [InlineData(64, 16)]
    [InlineData(512, 16)]
    public void DefaultColumns(int count, int expected) => Assert.Equal(expected, ChannelGrid.DefaultColumns(count));

    /// <summary>Two 2×2 channels: channel 0 = [0,1;2,3], channel 1 = 10× that. Cells are 48 pixels (scale 24).</summary>
    private static Image<Rgb24> TwoChannels(ChannelScaling scaling, string colormap = "gray") =>
        ChannelGrid.Render(Ramp(2, 2, 2, (c, i) => i * (c == 0 ? 1f : 10f)), 2, 2, 2, new GridOptions(Scaling: scaling, Colormap: colormap));

    /// <summary>A pixel inside cell <paramref name="c"/>'s map position (x, y), with scale 24 and one row of cells.</summary>
    private static Rgb24 At(Image<Rgb24> image, int c, int x, int y, int dx = 5, int dy = 7) =>
        image[Margin + c * (48 + Gap) + x * 24 + dx, Margin + y * 24 + dy];

    [Fact]
    public void PerChannel_MapsEachChannelsMinAndMaxToTheColormapEnds()
    {
        using var image = TwoChannels(ChannelScaling.PerChannel);
        foreach (var c in new[] { 0, 1 })
        {
            Assert.Equal(new Rgb24(0, 0, 0), At(image, c, 0, 0));
            Assert.Equal(new Rgb24(85, 85, 85), At(image, c, 1, 0));     // 1/3 → entry 85
            Assert.Equal(new Rgb24(170, 170, 170), At(image, c, 0, 1));  // 2/3 → entry 170
            Assert.Equal(new Rgb24(255, 255, 255), At(image, c, 1, 1));
        }
        // Exact cell corners: the value 3 fills [28, 52) × [28, 52) of cell 0.
        Assert.Equal(new Rgb24(255, 255, 255), image[Margin + 24, Margin + 24]);
        Assert.Equal(new Rgb24(255, 255, 255), image[Margin + 47, Margin + 47]);
        Assert.Equal(new Rgb24(170, 170, 170), image[Margin + 23, Margin + 47]);
        Assert.Equal(Background, image[Margin + 48, Margin + 47]); // the gap
        Assert.Equal(Background, image[0, 0]);                     // the margin
    }

    [Fact]
    public void PerChannel_Viridis_MinIsColormapZero_MaxIsColormapOne()
    {
        using var image = TwoChannels(ChannelScaling.PerChannel, "viridis");
        foreach (var c in new[] { 0, 1 })
        {
            Assert.Equal(Colormap.Viridis.Map(0), At(image, c, 0, 0));
            Assert.Equal(Colormap.Viridis.Map(1), At(image, c, 1, 1));
        }
    }

    [Fact]
    public void Shared_MakesTheChannelWithSmallerValuesDarker()
    {
        using var image = TwoChannels(ChannelScaling.Shared);
        // Shared range 0…30: channel 0's maximum 3 maps to 0.1 → entry round(25.5) = 26; channel 1's to 1.
        Assert.Equal(new Rgb24(26, 26, 26), At(image, 0, 1, 1));
        Assert.Equal(new Rgb24(255, 255, 255), At(image, 1, 1, 1));
        Assert.Equal(new Rgb24(0, 0, 0), At(image, 0, 0, 0));
        Assert.Equal(new Rgb24(0, 0, 0), At(image, 1, 0, 0));
        Assert.True(At(image, 0, 1, 1).R < At(image, 1, 1, 1).R);

        using var viridis = TwoChannels(ChannelScaling.Shared, "viridis");
        Assert.Equal(Colormap.Viridis.Map(0.1f), At(viridis, 0, 1, 1));
        Assert.Equal(Colormap.Viridis.Map(1), At(viridis, 1, 1, 1));
    }

    [Fact]
    public void ConstantChannel_RendersColormapZero()
    {
        var maps = Ramp(2, 3, 3, (c, i) => c == 0 ? 5f : i);
        using var image = ChannelGrid.Render(maps, 2, 3, 3, new GridOptions(Scaling: ChannelScaling.PerChannel));
        // scale ⌈48/3⌉ = 16: cell 0 is [4, 52) × [4, 52).
        var zero = Colormap.Viridis.Map(0);
        for (var y = Margin; y < Margin + 48; y++)
            for (var x = Margin; x < Margin + 48; x++)
                Assert.Equal(zero, image[x, y]);
        Assert.Equal(Colormap.Viridis.Map(1), image[Margin + 48 + Gap + 2 * 16 + 1, Margin + 2 * 16 + 1]); // value 8, the max
    }

    [Fact]
    public void NaNValues_AreIgnoredForTheRange_AndRenderAsColormapZero()
    {
        using var image = ChannelGrid.Render([float.NaN, 0f, 1f, 2f], 1, 2, 2, new GridOptions(Colormap: "gray"));
        Assert.Equal(new Rgb24(0, 0, 0), At(image, 0, 0, 0));
        Assert.Equal(new Rgb24(0, 0, 0), At(image, 0, 1, 0));
        Assert.Equal(new Rgb24(128, 128, 128), At(image, 0, 0, 1));
        Assert.Equal(new Rgb24(255, 255, 255), At(image, 0, 1, 1));
    }

    [Fact]
    public void SecondRow_StartsBelowTheFirstPlusGap()
    {
        // 3 channels of 1×1, 2 columns, scale 48: channel 2 is at (4, 4 + 48 + 2).
        using var image = ChannelGrid.Render([0f, 0f, 7f], 3, 1, 1, new GridOptions(Columns: 2, Scaling: ChannelScaling.Shared, Colormap: "gray"));
        Assert.Equal(128, image.Width);
        Assert.Equal(2 * 48 + Gap + 2 * Margin + LegendH, image.Height);
        Assert.Equal(new Rgb24(255, 255, 255), image[Margin, Margin + 48 + Gap]);
        Assert.Equal(new Rgb24(255, 255, 255), image[Margin + 47, Margin + 48 + Gap + 47]);
        Assert.Equal(new Rgb24(0, 0, 0), image[Margin + 48 + Gap, Margin]);
        Assert.Equal(Background, image[Margin + 48 + Gap, Margin + 48 + Gap]); // no fourth cell
    }

    [Fact]
    public void Legend_BarRunsFromColormapZeroToOne_WithValueLabels()
    {
        using var image = TwoChannels(ChannelScaling.Shared);
        // 128×82: bar at y 58..67, x 4..123 (width min(256, 128 − 8) = 120); labels at y 70..79.
        Assert.Equal(82, image.Height);
        const int barTop = 82 - LegendH + Gap, textTop = barTop + 10 + Gap;
        Assert.Equal(new Rgb24(0, 0, 0), image[Margin, barTop]);
        Assert.Equal(new Rgb24(0, 0, 0), image[Margin, barTop + 9]);
        Assert.Equal(new Rgb24(255, 255, 255), image[Margin + 119, barTop]);
        Assert.Equal(new Rgb24(255, 255, 255), image[Margin + 119, barTop + 9]);
        Assert.Equal(Background, image[Margin + 120, barTop]);
        Assert.Equal(Background, image[Margin, barTop + 10]);
        Assert.Equal(Background, image[Margin, barTop - 1]);

        // "0" at the left: its top row is 111, its second row 101.
        Assert.Equal(Text, image[Margin, textTop]);
        Assert.Equal(Text, image[Margin + 5, textTop + 1]);
        Assert.Equal(Background, image[Margin + 2, textTop + 2]);
        // "30" (shared max) right-aligned: starts at 4 + 120 − 14 = 110; '3' row 1 is 001.
        Assert.Equal(Text, image[110, textTop]);
        Assert.Equal(Background, image[110, textTop + 2]);
        Assert.Equal(Text, image[114, textTop + 2]);
        Assert.Equal(Text, image[123, textTop]); // last column of '0'
    }

    [Fact]
    public void Legend_PerChannel_IsLabelledZeroToOne()
    {
        using var image = TwoChannels(ChannelScaling.PerChannel);
        const int textTop = 82 - LegendH + Gap + 10 + Gap;
        // "1" right-aligned at 4 + 120 − 6 = 118: rows 010, 110, … so (118, top) is empty and (120, top) is set.
        Assert.Equal(Background, image[118, textTop]);
        Assert.Equal(Text, image[120, textTop]);
        Assert.Equal(Text, image[118, textTop + 2]);
    }

    [Fact]
    public void WrongSizes_Throw()
    {
        Assert.Throws<ArgumentException>(() => ChannelGrid.Render(new float[7], 2, 2, 2).Dispose());
        Assert.Throws<ArgumentException>(() => ChannelGrid.Render([], 0, 2, 2).Dispose());
        var e = Assert.Throws<CnnInterpretException>(() => ChannelGrid.Render(new float[4], 1, 2, 2, new GridOptions(Colormap: "plasma")).Dispose());
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void Range_IgnoresNaN()
    {
        Assert.Equal((-1f, 3f), ChannelGrid.Range([3f, float.NaN, -1f, 2f]));
        Assert.Equal((0f, 0f), ChannelGrid.Range([float.NaN, float.NaN]));
        Assert.Equal((0f, 0f), ChannelGrid.Range([]));
        Assert.Equal((5f, 5f), ChannelGrid.Range([5f]));
    }

    [Fact]
    public void ToPng_RoundTripsEveryPixel()
    {
        using var image = TwoChannels(ChannelScaling.PerChannel, "viridis");
        var png = ChannelGrid.ToPng(image);
        Assert.Equal(0x89, png[0]);
        Assert.Equal("PNG", System.Text.Encoding.ASCII.GetString(png, 1, 3));
        using var decoded = Image.Load<Rgb24>(png);
        Assert.Equal(image.Width, decoded.Width);
        Assert.Equal(image.Height, decoded.Height);
        for (var y = 0; y < image.Height; y++)
            for (var x = 0; x < image.Width; x++)
                Assert.Equal(image[x, y], decoded[x, y]);
    }
}

public sealed class ChannelStatsTests
{
    [Fact]
    public void Describe_GivesRangeMeanSpreadAndTheFirstTopPosition()
    {
        // [1, 5, 2; 5, 0, −1]: the largest value, 5, is at row 0, column 1 first (and again at row 1, column 0).
        var s = CnnInterpret.Core.Explainers.FeatureMaps.Describe(3, [1f, 5f, 2f, 5f, 0f, -1f], width: 3);
        Assert.Equal((3, -1f, 5f, 2f), (s.Channel, s.Min, s.Max, s.Mean));
        Assert.Equal(Math.Sqrt(32.0 / 6), s.Std, 5);
        Assert.Equal((0, 1), (s.TopY, s.TopX));
        var last = CnnInterpret.Core.Explainers.FeatureMaps.Describe(0, [0f, 0f, 0f, 0f, 0f, 9f], width: 2);
        Assert.Equal((2, 1), (last.TopY, last.TopX));
    }
}
