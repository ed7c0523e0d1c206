using CnnInterpret.Core;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using CnnInterpret.Core.Models.Checkpoints;
using SharpFuzz;

// One fuzz target per parser. An expected refusal (CnnInterpretException) is a pass; any other exception,
// a hang or a crash is a finding. Run through scripts/fuzz.sh, which instruments CnnInterpret.Core.dll and
// ImageSharp with SharpFuzz and drives this program with AFL++.
var target = args.FirstOrDefault() ?? throw new ArgumentException("usage: CnnInterpret.Fuzz image|checkpoint|safetensors|onnx");
var scratch = Path.Combine(Path.GetTempPath(), $"cnn-interpret-fuzz-{Environment.ProcessId}");

Action<byte[]> run = target switch
{
    "image" => bytes => ImageLoader.Decode(bytes, "fuzz", new ImageLimits(MaxPixels: 4_000_000)).Dispose(),
    "checkpoint" => bytes => ViaFile(bytes, ".pth", path => Dispose(TorchCheckpoint.Load(path))),
    "safetensors" => bytes => ViaFile(bytes, ".safetensors", path => Dispose(SafeTensors.Load(path))),
    "onnx" => bytes => ViaFile(bytes, ".onnx", path => new ModelRegistry().Get(path).Dispose()),
    _ => throw new ArgumentException($"unknown target '{target}'"),
};

Fuzzer.OutOfProcess.Run(stream =>
{
    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    try { run(memory.ToArray()); }
    catch (CnnInterpretException) { } // a clear refusal is the right answer to a bad file
});

void ViaFile(byte[] bytes, string extension, Action<string> load)
{
    Directory.CreateDirectory(scratch);
    var path = Path.Combine(scratch, "input" + extension);
    File.WriteAllBytes(path, bytes);
    load(path);
}

static void Dispose(Dictionary<string, TorchSharp.torch.Tensor> tensors)
{
    foreach (var t in tensors.Values) t.Dispose();
}
