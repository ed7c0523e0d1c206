using System.Text.Json;
using System.Text.Json.Serialization;

namespace CnnInterpret.Cli;

/// <summary>Writes command results: JSON for scripts (camelCase, like the daemon), or plain lines.</summary>
public static class Output
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        // Files and terminals, not HTML: keep ' and … readable instead of \u0027.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Creates the --out folder; a path that cannot be one is a usage error, not a bug.</summary>
    public static void Folder(string path)
    {
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CnnInterpret.Core.CnnInterpretException(CnnInterpret.Core.ErrorKind.InvalidArgument,
                $"--out '{path}' must be a folder you can write to ({e.Message}). Pass a new or existing folder.");
        }
    }

    public static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Json));

    public static void WriteJsonFile<T>(string path, T value) => File.WriteAllText(path, JsonSerializer.Serialize(value, Json) + "\n");

    /// <summary>Rows as aligned columns.</summary>
    public static void WriteTable(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = header.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        foreach (var row in all)
            Console.Out.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Count - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
    }
}
