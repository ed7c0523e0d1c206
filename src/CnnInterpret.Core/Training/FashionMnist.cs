using System.Buffers.Binary;
using System.IO.Compression;

namespace CnnInterpret.Core.Training;

/// <summary>One split of Fashion-MNIST: 28×28 grayscale images (bytes, row-major) and labels 0…9.</summary>
public sealed record MnistSplit(byte[] Images, byte[] Labels, int Count, int Rows, int Columns)
{
    public ReadOnlySpan<byte> Image(int index) => Images.AsSpan(index * Rows * Columns, Rows * Columns);
}

/// <summary>Reads Fashion-MNIST's IDX files (gzipped or not) from Debian's dataset-fashion-mnist or a given folder.</summary>
public static class FashionMnist
{
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    public static string ResolveDirectory(string? directory)
    {
        var dir = directory ?? Environment.GetEnvironmentVariable("FASHION_MNIST_DIR") ?? DebianDirectory;
        if (!File.Exists(FindFile(dir, "t10k-images-idx3-ubyte") ?? ""))
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"Fashion-MNIST was not found in '{dir}'. Install Debian's package (apt-get install dataset-fashion-mnist), " +
                "or pass --data DIR (or set FASHION_MNIST_DIR) to a folder holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, " +
                "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz.");
        return dir;
    }

    public static MnistSplit Load(string directory, bool train)
    {
        var prefix = train ? "train" : "t10k";
        var images = ReadIdx(Require(directory, $"{prefix}-images-idx3-ubyte"), 2051, out var dims);
        var labels = ReadIdx(Require(directory, $"{prefix}-labels-idx1-ubyte"), 2049, out var labelDims);
        if (dims[0] != labelDims[0])
            throw new InvalidDataException($"Fashion-MNIST {prefix}: {dims[0]} images but {labelDims[0]} labels.");
        return new MnistSplit(images, labels, dims[0], dims[1], dims[2]);
    }

    private static string Require(string directory, string name) =>
        FindFile(directory, name) ?? throw new CnnInterpretException(ErrorKind.InvalidArgument, $"'{name}(.gz)' is missing from '{directory}'.");

    private static string? FindFile(string directory, string name) =>
        new[] { name + ".gz", name }.Select(n => Path.Combine(directory, n)).FirstOrDefault(File.Exists);

    private static byte[] ReadIdx(string path, int magic, out int[] dims)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var bytes = memory.ToArray();
        if (BinaryPrimitives.ReadInt32BigEndian(bytes) != magic)
            throw new InvalidDataException($"'{path}' is not an IDX file with magic number {magic}.");
        var rank = magic & 0xff;
        dims = Enumerable.Range(0, rank).Select(i => BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i))).ToArray();
        return bytes[(4 + 4 * rank)..];
    }
}
