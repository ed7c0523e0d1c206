using System.Text;
using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Tests.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Tests.Daemon;

/// <summary>The real daemon process over real stdio: every method, every bad input, then a good request.</summary>
public sealed class DaemonProcessTests
{
    private static readonly string Image = Path.Combine(Repo.Samples, "ankle-boot-0.png");

    [Fact]
    public async Task Answers_every_method_over_stdio_and_exits_when_stdin_closes()
    {
        await using var daemon = new DaemonProcess();

        var info = await daemon.ResultAsync("daemon/info");
        Assert.Equal("cpu", info.GetProperty("device").GetString());
        Assert.Equal("0.107.0", info.GetProperty("torchSharpVersion").GetString());
        Assert.Contains(info.GetProperty("models").EnumerateArray(), m => m.GetProperty("id").GetString() == "fashion-vgg");

        var list = await daemon.ResultAsync("models/list");
        Assert.Equal("fashion-vgg", list.GetProperty("defaultModel").GetString());

        var model = await daemon.ResultAsync("models/load", new { model = "fashion-vgg" });
        Assert.Equal([1, 28, 28], model.GetProperty("inputShape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("Ankle boot", model.GetProperty("classes")[9].GetString());
        var first = model.GetProperty("layers")[0];
        Assert.Equal("features.0", first.GetProperty("name").GetString());
        Assert.Equal("block1_conv1", first.GetProperty("displayName").GetString());
        Assert.Equal([16, 28, 28], first.GetProperty("outputShape").EnumerateArray().Select(e => e.GetInt32()));

        var prediction = await daemon.ResultAsync("image/predict", new { model = "fashion-vgg", image = Image, topK = 3 });
        var top = prediction.GetProperty("top");
        Assert.Equal(3, top.GetArrayLength());
        Assert.Equal(9, top[0].GetProperty("index").GetInt32());
        Assert.Equal(10, prediction.GetProperty("logits").GetArrayLength());

        var maps = await daemon.ResultAsync("explain/featureMaps", new { model = "fashion-vgg", image = Image, layer = "block2_conv1", raw = true });
        Assert.Equal([32, 14, 14], maps.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        var png = Convert.FromBase64String(maps.GetProperty("png").GetString()!);
        using (var decoded = SixLabors.ImageSharp.Image.Load<Rgb24>(png)) Assert.True(decoded.Width > 14 * 8);
        var raw = maps.GetProperty("raw");
        Assert.Equal([32, 14, 14], raw.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        var values = new float[32 * 14 * 14];
        Buffer.BlockCopy(Convert.FromBase64String(raw.GetProperty("data").GetString()!), 0, values, 0, values.Length * 4);
        var stats = maps.GetProperty("stats");
        Assert.Equal(values.Take(196).Max(), stats[0].GetProperty("max").GetSingle());
        Assert.Equal(values.Skip(196 * 31).Min(), stats[31].GetProperty("min").GetSingle());

        Assert.Equal(0, await daemon.CloseAndWaitAsync());
    }

    [Fact]
    public async Task Survives_every_bad_input_and_keeps_serving()
    {
        var dir = Repo.TempDir();
        var empty = Path.Combine(dir, "empty.png");
        File.WriteAllBytes(empty, []);
        var text = Path.Combine(dir, "notes.png");
        File.WriteAllText(text, "this is not an image");
        var truncated = Path.Combine(dir, "truncated.png");
        File.WriteAllBytes(truncated, File.ReadAllBytes(Image)[..60]);
        var bomb = Path.Combine(dir, "bomb.png");
        File.WriteAllBytes(bomb, PngWithDeclaredSize(60000, 60000));

        await using var daemon = new DaemonProcess();
        async Task StillServes()
        {
            var ok = await daemon.ResultAsync("image/predict", new { image = Image, topK = 1 });
            Assert.Equal("Ankle boot", ok.GetProperty("top")[0].GetProperty("label").GetString());
        }

        async Task Expect(int code, string mentions, string method, object parameters)
        {
            var (actual, message, error) = await daemon.ErrorAsync(method, parameters);
            Assert.Equal(code, actual);
            Assert.Contains(mentions, message);
            Assert.DoesNotContain("   at ", error.ToString()); // never a stack trace
            await StillServes();
        }

        await Expect((int)ErrorKind.BadImage, "does not exist", "image/predict", new { image = Path.Combine(dir, "missing.png") });
        await Expect((int)ErrorKind.BadImage, "empty", "image/predict", new { image = empty });
        await Expect((int)ErrorKind.BadImage, "not an image", "image/predict", new { image = text });
        await Expect((int)ErrorKind.BadImage, "truncated.png", "explain/featureMaps", new { image = truncated, layer = "features.0" });
        await Expect((int)ErrorKind.BadImage, "60000×60000", "image/predict", new { image = bomb });
        await Expect((int)ErrorKind.UnknownModel, "fashion-vgg", "image/predict", new { image = Image, model = "resnet-9000" });
        await Expect((int)ErrorKind.UnknownLayer, "features.0 (block1_conv1)", "explain/featureMaps", new { image = Image, layer = "block9_conv9" });
        await Expect((int)ErrorKind.InvalidArgument, "fc1", "explain/featureMaps", new { image = Image, layer = "fc1" });
        await Expect((int)ErrorKind.InvalidArgument, "out of range", "explain/featureMaps", new { image = Image, layer = "features.0", channels = new[] { 99 } });
        await Expect(-32602, "topK", "image/predict", new { image = Image, topK = "three" });
        await Expect(-32601, "no/such", "no/such", new { });

        // A body that is not JSON gets a parse error with id null, and the connection lives on.
        await daemon.SendRawAsync(Encoding.UTF8.GetBytes("{\"jsonrpc\": \"2.0\", \"id\": 77, \"method\": "));
        var parseError = await daemon.ReadAsync();
        Assert.Equal(JsonValueKind.Null, parseError.GetProperty("id").ValueKind);
        Assert.Equal(-32700, parseError.GetProperty("error").GetProperty("code").GetInt32());
        await StillServes();

        Assert.Equal(0, await daemon.CloseAndWaitAsync());
        Assert.Contains("Malformed message", daemon.Stderr);
    }

    /// <summary>A PNG signature and an IHDR chunk (with a correct CRC) declaring the given size, and nothing else.</summary>
    internal static byte[] PngWithDeclaredSize(int width, int height)
    {
        var ihdr = new byte[17];
        Encoding.ASCII.GetBytes("IHDR").CopyTo(ihdr, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(8), height);
        ihdr[12] = 8; // bit depth
        ihdr[13] = 2; // truecolour
        var png = new List<byte> { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13 };
        png.AddRange(ihdr);
        var crc = Crc32(ihdr);
        png.AddRange([(byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc]);
        return png.ToArray();
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
