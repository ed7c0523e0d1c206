using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using CnnInterpret.Core.Imaging;

namespace CnnInterpret.Tests.Imaging;

public sealed class NpyWriterTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Checks the framing numpy's format 1.0 requires and returns the header's text.</summary>
    private static string AssertHeaderFraming(byte[] header)
    {
        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, header[..8]);
        var length = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(8));
        Assert.Equal(header.Length - 10, length);
        Assert.Equal(0, header.Length % 64);
        Assert.Equal((byte)'\n', header[^1]);
        var text = Encoding.ASCII.GetString(header, 10, length);
        Assert.All(header, b => Assert.True(b < 0x80 || b == 0x93));
        return text;
    }

    [Fact]
    public void Header_2x3Float_IsNumpysFormat()
    {
        var header = NpyWriter.Header("<f4", [2, 3]);
        const string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        Assert.Equal(59, dict.Length);
        Assert.Equal(128, header.Length);        // 10 + 59 + 1 = 70 → 128
        Assert.Equal(118, header[8]);            // header length, little-endian
        Assert.Equal(0, header[9]);
        var text = AssertHeaderFraming(header);
        Assert.Equal(dict + new string(' ', 58) + "\n", text); // 128 − 10 − 59 − 1 = 58 spaces
    }

    [Theory]
    [InlineData(new[] { 5 }, "(5,)")]
    [InlineData(new[] { 2, 3, 4 }, "(2, 3, 4)")]
    [InlineData(new int[0], "()")]
    [InlineData(new[] { 1, 64, 28, 28 }, "(1, 64, 28, 28)")]
    [InlineData(new[] { 100000, 100000, 100000, 100000, 100000, 100000 }, "(100000, 100000, 100000, 100000, 100000, 100000)")]
    public void Header_ShapeIsAPythonTuple(int[] shape, string tuple)
    {
        var header = NpyWriter.Header("<i4", shape);
        var text = AssertHeaderFraming(header);
        Assert.Equal($"{{'descr': '<i4', 'fortran_order': False, 'shape': {tuple}, }}", text.TrimEnd('\n').TrimEnd(' '));
        Assert.Equal((10 + text.TrimEnd('\n').TrimEnd(' ').Length + 1 + 63) / 64 * 64, header.Length); // the least padding
    }

    [Fact]
    public void WriteFloat_IsHeaderThenLittleEndianFloat32Payload()
    {
        float[] data = [1f, -2.5f, 0f, -0f, float.Epsilon, 3.4028235e38f];
        var path = _dir.File("a.npy");
        NpyWriter.Write(path, data, [2, 3]);

        var bytes = File.ReadAllBytes(path);
        Assert.Equal(128 + 6 * 4, bytes.Length);
        Assert.Equal(NpyWriter.Header("<f4", [2, 3]), bytes[..128]);
        Assert.Contains("'descr': '<f4'", Encoding.ASCII.GetString(bytes, 10, 118));
        // 1.0f = 0x3F800000, −2.5f = 0xC0200000, stored least significant byte first.
        Assert.Equal(new byte[] { 0x00, 0x00, 0x80, 0x3F }, bytes[128..132]);
        Assert.Equal(new byte[] { 0x00, 0x00, 0x20, 0xC0 }, bytes[132..136]);
        for (var i = 0; i < data.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(data[i]), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(128 + 4 * i)));

        if (Numpy.Available)
        {
            var (descr, shape, values) = Numpy.Load(path);
            Assert.Equal("<f4", descr);
            Assert.Equal("(2, 3)", shape);
            Assert.Equal(data.Select(v => (double)v), values);
        }
    }

    [Fact]
    public void WriteInt_1D_IsLittleEndianInt32()
    {
        int[] data = [0, 1, -1, 256, int.MaxValue];
        var path = _dir.File("i.npy");
        NpyWriter.Write(path, data, [5]);

        var bytes = File.ReadAllBytes(path);
        var header = NpyWriter.Header("<i4", [5]);
        Assert.Equal(header.Length + 20, bytes.Length);
        var text = AssertHeaderFraming(bytes[..header.Length]);
        Assert.StartsWith("{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }", text);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 1, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F }, bytes[header.Length..]);

        if (Numpy.Available)
        {
            var (descr, shape, values) = Numpy.Load(path);
            Assert.Equal("<i4", descr);
            Assert.Equal("(5,)", shape);
            Assert.Equal(data.Select(v => (double)v), values);
        }
    }

    [Fact]
    public void Write3D_RoundTripsInCOrder()
    {
        var data = Enumerable.Range(0, 24).Select(i => i * 0.5f - 3f).ToArray();
        var path = _dir.File("c.npy");
        NpyWriter.Write(path, data, [2, 3, 4]);
        var bytes = File.ReadAllBytes(path);
        var headerLength = 10 + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal(headerLength + 24 * 4, bytes.Length);
        for (var i = 0; i < 24; i++)
            Assert.Equal(data[i], BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(headerLength + 4 * i)));

        if (Numpy.Available)
        {
            var (_, shape, values) = Numpy.Load(path);
            Assert.Equal("(2, 3, 4)", shape);
            Assert.Equal(data.Select(v => (double)v), values);
        }
    }

    [Fact]
    public void WrongShape_Throws_AndWritesNothing()
    {
        var path = _dir.File("bad.npy");
        var e = Assert.Throws<ArgumentException>(() => NpyWriter.Write(path, new float[6], [2, 4]));
        Assert.Equal("shape", e.ParamName);
        Assert.Throws<ArgumentException>(() => NpyWriter.Write(path, new int[3], [4]));
        Assert.Throws<ArgumentException>(() => NpyWriter.Write(path, Array.Empty<float>(), [2]));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Scalar_And_Empty_AreAccepted()
    {
        var scalar = _dir.File("s.npy");
        NpyWriter.Write(scalar, [4.5f], []);
        var bytes = File.ReadAllBytes(scalar);
        // "{'descr': '<f4', 'fortran_order': False, 'shape': (), }" is 55 characters: 10 + 55 + 1 = 66 → 128.
        Assert.Equal(128 + 4, bytes.Length);
        Assert.EndsWith("'shape': (), }", AssertHeaderFraming(bytes[..128]).TrimEnd('\n').TrimEnd(' '));
        Assert.Equal(4.5f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(128)));

        var empty = _dir.File("e.npy");
        NpyWriter.Write(empty, ReadOnlySpan<float>.Empty, [0, 3]);
        Assert.Equal(NpyWriter.Header("<f4", [0, 3]), File.ReadAllBytes(empty));
    }

    /// <summary>Reads a file back with numpy when /usr/bin/python3 has it (checked once, at run time).</summary>
    private static class Numpy
    {
        private const string Python = "/usr/bin/python3";

        public static readonly bool Available = File.Exists(Python) && Run("-c", "import numpy").ExitCode == 0;

        public static (string Descr, string Shape, double[] Values) Load(string path)
        {
            var (code, output) = Run("-c",
                "import sys, numpy as np; a = np.load(sys.argv[1]); print(a.dtype.str); print(a.shape); print(' '.join(repr(float(v)) for v in a.ravel()))",
                path);
            Assert.True(code == 0, $"numpy failed to load {path}: {output}");
            var lines = output.Replace("\r", "").Split('\n');
            var values = lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            return (lines[0], lines[1], values);
        }

        private static (int ExitCode, string Output) Run(params string[] args)
        {
            try
            {
                var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var a in args) info.ArgumentList.Add(a);
                using var process = Process.Start(info)!;
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                if (!process.WaitForExit(60_000))
                {
                    process.Kill();
                    return (-1, "timed out");
                }
                return (process.ExitCode, stdout.Result + stderr.Result);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                return (-1, e.Message);
            }
        }
    }
}
