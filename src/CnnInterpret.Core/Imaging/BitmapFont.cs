using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Core.Imaging;

/// <summary>
/// A 3×5 pixel font for legends and labels: digits, capitals (lower case is drawn in capitals, except the
/// exponent's 'e'), a little punctuation and 'ρ'. ImageSharp's text drawing needs a package we cannot use
/// (ImageSharp.Drawing).
/// </summary>
public static class BitmapFont
{
    public const int GlyphWidth = 3, GlyphHeight = 5;

    // Each glyph is five rows of three bits, top to bottom, most significant bit on the left.
    private static readonly Dictionary<char, int[]> Glyphs = new()
    {
        ['0'] = [7, 5, 5, 5, 7], ['1'] = [2, 6, 2, 2, 7], ['2'] = [7, 1, 7, 4, 7], ['3'] = [7, 1, 7, 1, 7],
        ['4'] = [5, 5, 7, 1, 1], ['5'] = [7, 4, 7, 1, 7], ['6'] = [7, 4, 7, 5, 7], ['7'] = [7, 1, 1, 1, 1],
        ['8'] = [7, 5, 7, 5, 7], ['9'] = [7, 5, 7, 1, 7], ['.'] = [0, 0, 0, 0, 2], ['-'] = [0, 0, 7, 0, 0],
        ['+'] = [0, 2, 7, 2, 0], ['e'] = [0, 7, 7, 4, 7], [' '] = [0, 0, 0, 0, 0],
        ['_'] = [0, 0, 0, 0, 7], [':'] = [0, 2, 0, 2, 0], ['('] = [1, 2, 2, 2, 1], [')'] = [4, 2, 2, 2, 4], ['/'] = [1, 1, 2, 4, 4],
        ['A'] = [2, 5, 7, 5, 5], ['B'] = [6, 5, 6, 5, 6], ['C'] = [3, 4, 4, 4, 3], ['D'] = [6, 5, 5, 5, 6], ['E'] = [7, 4, 6, 4, 7],
        ['F'] = [7, 4, 6, 4, 4], ['G'] = [3, 4, 5, 5, 3], ['H'] = [5, 5, 7, 5, 5], ['I'] = [7, 2, 2, 2, 7], ['J'] = [1, 1, 1, 5, 2],
        ['K'] = [5, 5, 6, 5, 5], ['L'] = [4, 4, 4, 4, 7], ['M'] = [5, 7, 7, 5, 5], ['N'] = [6, 5, 5, 5, 5], ['O'] = [2, 5, 5, 5, 2],
        ['P'] = [6, 5, 6, 4, 4], ['Q'] = [2, 5, 5, 6, 3], ['R'] = [6, 5, 6, 5, 5], ['S'] = [3, 4, 2, 1, 6], ['T'] = [7, 2, 2, 2, 2],
        ['U'] = [5, 5, 5, 5, 7], ['V'] = [5, 5, 5, 5, 2], ['W'] = [5, 5, 7, 7, 5], ['X'] = [5, 5, 2, 5, 5], ['Y'] = [5, 5, 2, 2, 2],
        ['Z'] = [7, 1, 2, 4, 7],
        ['ρ'] = [0, 2, 5, 6, 4], // Spearman's rho, under a sanity-check map
    };

    /// <summary>Width in pixels of <paramref name="text"/> at <paramref name="scale"/>.</summary>
    public static int Measure(string text, int scale) => text.Length == 0 ? 0 : (text.Length * (GlyphWidth + 1) - 1) * scale;

    public static void Draw(Image<Rgb24> image, string text, int left, int top, int scale, Rgb24 color)
    {
        var x0 = left;
        foreach (var ch in text)
        {
            if (Glyphs.TryGetValue(ch, out var rows) || Glyphs.TryGetValue(char.ToUpperInvariant(ch), out rows))
                for (var row = 0; row < GlyphHeight; row++)
                    for (var col = 0; col < GlyphWidth; col++)
                        if ((rows[row] >> (GlyphWidth - 1 - col) & 1) == 1)
                            Fill(image, x0 + col * scale, top + row * scale, scale, scale, color);
            x0 += (GlyphWidth + 1) * scale;
        }
    }

    public static void Fill(Image<Rgb24> image, int left, int top, int width, int height, Rgb24 color)
    {
        for (var y = Math.Max(0, top); y < Math.Min(image.Height, top + height); y++)
            for (var x = Math.Max(0, left); x < Math.Min(image.Width, left + width); x++)
                image[x, y] = color;
    }

    /// <summary>A short, legible label for a legend value (at most 7 characters).</summary>
    public static string Format(double value)
    {
        if (value == 0) return "0";
        var magnitude = Math.Abs(value);
        return magnitude is >= 1e-2 and < 1e4
            ? value.ToString(magnitude >= 100 ? "0" : magnitude >= 10 ? "0.#" : "0.##", System.Globalization.CultureInfo.InvariantCulture)
            : value.ToString("0.#e+0", System.Globalization.CultureInfo.InvariantCulture);
    }
}
