using CnnInterpret.Core.Explainers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Core.Imaging;

/// <summary>The deletion and insertion curves of a map beside a random map's, as two small labelled plots.</summary>
public static class CurvePlot
{
    private const int PanelWidth = 200, PanelHeight = 120, Margin = 8, TitleHeight = 14, Scale = 2;
    private static readonly Rgb24 Background = new(30, 30, 30), Axis = new(110, 110, 110), Text = new(220, 220, 220);
    private static readonly Rgb24 MapColour = new(253, 200, 37), RandomColour = new(150, 150, 150);

    public static byte[] Render(FaithfulnessCurves map, FaithfulnessCurves random)
    {
        var max = Math.Max(1e-9, map.Deletion.Concat(map.Insertion).Concat(random.Deletion).Concat(random.Insertion).Max());
        using var image = new Image<Rgb24>(2 * PanelWidth + 3 * Margin, PanelHeight + TitleHeight + 2 * Margin, Background);
        Panel(image, Margin, "DEL", map.Fractions, map.Deletion, random.Deletion, map.DeletionAuc, random.DeletionAuc, max);
        Panel(image, 2 * Margin + PanelWidth, "INS", map.Fractions, map.Insertion, random.Insertion, map.InsertionAuc, random.InsertionAuc, max);
        return ChannelGrid.ToPng(image);
    }

    private static void Panel(Image<Rgb24> image, int left, string name, double[] x, double[] curve, double[] reference, double auc, double referenceAuc, double max)
    {
        // Title: "DEL 0.12 / 0.45": this map's AUC, then the random map's.
        BitmapFont.Draw(image, $"{name} {auc:0.00}", left, Margin, Scale, MapColour);
        var tail = $"/ {referenceAuc:0.00}";
        BitmapFont.Draw(image, tail, left + PanelWidth - BitmapFont.Measure(tail, Scale), Margin, Scale, RandomColour);
        var top = Margin + TitleHeight;
        BitmapFont.Fill(image, left, top + PanelHeight - 1, PanelWidth, 1, Axis);
        BitmapFont.Fill(image, left, top, 1, PanelHeight, Axis);
        Polyline(image, left, top, x, reference, max, RandomColour);
        Polyline(image, left, top, x, curve, max, MapColour);
    }

    private static void Polyline(Image<Rgb24> image, int left, int top, double[] x, double[] y, double max, Rgb24 colour)
    {
        (int X, int Y) Point(int i) => (left + (int)Math.Round(x[i] * (PanelWidth - 1)), top + (int)Math.Round((1 - y[i] / max) * (PanelHeight - 2)));
        for (var i = 1; i < x.Length; i++) Line(image, Point(i - 1), Point(i), colour);
    }

    /// <summary>Bresenham's line, two pixels thick.</summary>
    private static void Line(Image<Rgb24> image, (int X, int Y) a, (int X, int Y) b, Rgb24 colour)
    {
        int dx = Math.Abs(b.X - a.X), dy = -Math.Abs(b.Y - a.Y), sx = a.X < b.X ? 1 : -1, sy = a.Y < b.Y ? 1 : -1, error = dx + dy;
        var (x, y) = a;
        while (true)
        {
            BitmapFont.Fill(image, x, y, 2, 2, colour);
            if (x == b.X && y == b.Y) return;
            var e2 = 2 * error;
            if (e2 >= dy) { error += dy; x += sx; }
            if (e2 <= dx) { error += dx; y += sy; }
        }
    }
}
