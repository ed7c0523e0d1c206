using System.Text.Json;

namespace CnnInterpret.Tests.Torchvision;

/// <summary>
/// Full-size torchvision checkpoints made by real PyTorch (tests/fixtures/make_torchvision_fixtures.py), generated
/// once by scripts/test-deps.sh into a cache folder outside the repository (VGG16 alone is 528 MB).
/// </summary>
public static class TorchvisionFixtures
{
    public static string Directory =>
        Environment.GetEnvironmentVariable("CNN_INTERPRET_TEST_FIXTURES") is { Length: > 0 } dir ? dir
            : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "cnn-interpret", "test-fixtures");

    public sealed record Fixture(string Arch, string File, string Sha256, string Format, int[] Top5, float[] Logits)
    {
        public string Path => System.IO.Path.Combine(Directory, File);
    }

    /// <summary>
    /// A models folder whose models.json publishes <paramref name="fixture"/> in place of torchvision's VGG16 file (its
    /// name, full sha256 and size): the fetch path as users run it, on a file that can be had here.
    /// </summary>
    public static string ModelsFolderPublishing(Fixture fixture)
    {
        var dir = TestSupport.Repo.TempDir();
        foreach (var file in new[] { "models.json", "imagenet-classes.json", "fashion-vgg.safetensors" })
            File.Copy(System.IO.Path.Combine(TestSupport.Repo.Models, file), System.IO.Path.Combine(dir, file));
        var manifest = File.ReadAllText(System.IO.Path.Combine(dir, "models.json"));
        foreach (var published in new[] { "vgg16-397923af.pth", "397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0", "553433881" })
            Assert.Contains(published, manifest);
        manifest = manifest.Replace("vgg16-397923af.pth", fixture.File)
            .Replace("397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0", fixture.Sha256)
            .Replace("553433881", new FileInfo(fixture.Path).Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.WriteAllText(System.IO.Path.Combine(dir, "models.json"), manifest);
        return dir;
    }

    /// <summary>One layer's output as PyTorch computed it (forward hook on <paramref name="Module"/>; our name <paramref name="Layer"/>).</summary>
    public sealed record PhotoActivation(string Module, string Layer, string File, int[] Shape);

    /// <summary>
    /// A real photo put through torchvision's own ImageNet transform, and what PyTorch's model made of those pixels
    /// (<c>ARCH.photo-vN.json</c> and its .npy files).
    /// </summary>
    public sealed record PhotoFixture(string Arch, string Photo, string PhotoSha256, string Decoded, string Input, PhotoActivation[] Activations, int[] Top5, float[] Logits);

    /// <summary>Where a file a fixture names (<see cref="PhotoFixture.Input"/>, an activation's .npy) lies.</summary>
    public static string PathOf(string file) => System.IO.Path.Combine(Directory, file);

    /// <summary>PHOTO_VERSION in tests/fixtures/make_torchvision_fixtures.py (and the .photo-vN names in scripts/test-deps.sh).</summary>
    public const int PhotoVersion = 1;

    public static PhotoFixture GetPhoto(string arch)
    {
        var json = System.IO.Path.Combine(Directory, $"{arch}.photo-v{PhotoVersion}.json");
        Assert.True(File.Exists(json), $"{json} is missing: scripts/test-deps.sh makes it with Debian's PyTorch (tests/fixtures/make_torchvision_fixtures.py)");
        var e = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        return new PhotoFixture(arch, e.GetProperty("photo").GetString()!, e.GetProperty("photoSha256").GetString()!, e.GetProperty("decoded").GetString()!,
            e.GetProperty("input").GetString()!,
            e.GetProperty("activations").EnumerateArray().Select(a => new PhotoActivation(a.GetProperty("module").GetString()!, a.GetProperty("layer").GetString()!,
                a.GetProperty("file").GetString()!, a.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray())).ToArray(),
            e.GetProperty("top5").EnumerateArray().Select(v => v.GetInt32()).ToArray(),
            e.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray());
    }

    public static Fixture Get(string arch)
    {
        var json = System.IO.Path.Combine(Directory, $"{arch}.json");
        Assert.True(File.Exists(json), $"{json} is missing: scripts/test-deps.sh makes it with Debian's PyTorch (tests/fixtures/make_torchvision_fixtures.py)");
        var e = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        return new Fixture(arch, e.GetProperty("file").GetString()!, e.GetProperty("sha256").GetString()!, e.GetProperty("format").GetString()!,
            e.GetProperty("top5").EnumerateArray().Select(v => v.GetInt32()).ToArray(),
            e.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray());
    }
}
