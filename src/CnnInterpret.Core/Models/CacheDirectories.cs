namespace CnnInterpret.Core.Models;

/// <summary>Where downloaded weights and computed caches live: an explicit folder, else CNN_INTERPRET_CACHE, else the platform's user cache folder.</summary>
public static class CacheDirectories
{
    public static string Root(string? explicitDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitDirectory)) return Path.GetFullPath(explicitDirectory);
        var fromEnv = Environment.GetEnvironmentVariable("CNN_INTERPRET_CACHE");
        if (!string.IsNullOrWhiteSpace(fromEnv)) return Path.GetFullPath(fromEnv);
        string platform;
        if (OperatingSystem.IsWindows())
            platform = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        else if (OperatingSystem.IsMacOS())
            platform = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "Library", "Caches");
        else
            platform = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(platform, "cnn-interpret");
    }

    public static string Weights(string? explicitDirectory = null) => Path.Combine(Root(explicitDirectory), "weights");

    public static string FilterPatterns(string? explicitDirectory = null) => Path.Combine(Root(explicitDirectory), "filter-patterns");
}
