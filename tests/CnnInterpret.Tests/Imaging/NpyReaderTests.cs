using CnnInterpret.Core;
using CnnInterpret.Core.Imaging;

namespace CnnInterpret.Tests.Imaging;

public sealed class NpyReaderTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Reads_back_what_the_writer_wrote_with_its_dtype_and_shape()
    {
        var floats = _dir.File("f.npy");
        NpyWriter.Write(floats, [1f, -2.5f, 0f, 3.25f, float.MaxValue, -0f], [2, 3]);
        var f = NpyReader.Read(floats);
        Assert.Equal("<f4", f.Descr);
        Assert.Equal([2, 3], f.Shape);
        Assert.Equal([1f, -2.5f, 0f, 3.25f, float.MaxValue, -0f], f.Floats());
        Assert.Equal([1f, -2.5f, 0f, 3.25f, float.MaxValue, -0f], NpyReader.ReadFloats(floats).Data);

        var ints = _dir.File("i.npy");
        NpyWriter.Write(ints, [7, -1, int.MaxValue], [3]);
        var i = NpyReader.Read(ints);
        Assert.Equal([7, -1, int.MaxValue], i.Ints());
        Assert.Throws<CnnInterpretException>(() => i.Floats()); // an int32 file is not reinterpreted as floats
        Assert.Throws<CnnInterpretException>(() => NpyReader.ReadBytes(ints));
    }

    [Fact]
    public void Refuses_truncated_data_fortran_order_and_unknown_dtypes()
    {
        var path = _dir.File("t.npy");
        NpyWriter.Write(path, [1f, 2f, 3f, 4f], [4]);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^4]);
        Assert.Contains("should hold 16 bytes of data, not 12", Assert.Throws<CnnInterpretException>(() => NpyReader.Read(path)).Message);

        var fortran = System.Text.Encoding.Latin1.GetString(NpyWriter.Header("<f4", [2, 2])).Replace("False", "True "); // same length
        File.WriteAllBytes(path, [.. System.Text.Encoding.Latin1.GetBytes(fortran), .. new byte[16]]);
        Assert.Contains("C order", Assert.Throws<CnnInterpretException>(() => NpyReader.Read(path)).Message);

        File.WriteAllBytes(path, [.. NpyWriter.Header(">f4", [1]), .. new byte[4]]);
        Assert.Contains("'>f4' is not read", Assert.Throws<CnnInterpretException>(() => NpyReader.Read(path)).Message);
    }
}
