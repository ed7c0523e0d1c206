using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnInterpret.Core;
using CnnInterpret.Core.Memory;
using CnnInterpret.Core.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Processing;

namespace CnnInterpret.Bench;

public static partial class Bench
{
    /// <summary>
    /// Memory through the real daemon (a child process, spoken to over stdio): resident size after loading each model and
    /// predicting once, beside PyTorch's for the same model and forward (Debian's python3-torch, also a child); the peak of
    /// each heavy request over the loaded VGG16; resident size after three rounds of every view on two images; and what a
    /// 52 MB message costs to refuse. Sizes from /proc/PID/status (VmRSS, VmHWM; the peak reset before each request).
    /// </summary>
    /// <param name="samples">LIME's and KernelSHAP's samples: the peak depends on the batch (the memory budget's), not on this; it sets the
    /// time. So do metrics' steps and sanity's stages, kept small for the same reason (a batch is what they hold at once).</param>
    private static void BenchMemory(bool json, string? cacheDirectory, int samples)
    {
        var fixtures = Path.Combine(CacheDirectories.Root(cacheDirectory), "test-fixtures");
        var vgg16Legacy = Path.Combine(fixtures, "vgg16-0431fdfd.pth");
        var resnet50 = Path.Combine(fixtures, "resnet50-1be69365.pth");
        if (!File.Exists(vgg16Legacy) || !File.Exists(resnet50))
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"The memory bench needs the seed-0 VGG16 and ResNet-50 fixtures in {fixtures}: run 'bash scripts/test-deps.sh' first.");
        var models = ModelRegistry.FindModelsDirectory();
        var work = Directory.CreateTempSubdirectory("cnn-interpret-bench-memory-").FullName;
        try
        {
            // The photo of the issue's measurements: 1546×1213, a JPEG; and a second image for the rounds.
            var photo = Path.Combine(work, "dog-1546x1213.jpg");
            using (var image = SixLabors.ImageSharp.Image.Load(Path.Combine(models, "samples", "photos", "dog.jpg")))
            {
                image.Mutate(i => i.Resize(1546, 1213));
                image.SaveAsJpeg(photo);
            }
            var eagle = Path.Combine(models, "samples", "photos", "eagle.jpg");
            var vgg16Zip = Path.Combine(work, "vgg16-seed0.pth"); // PyTorch's zip format, written by the PyTorch child

            var rows = new List<ModelRow>();
            var torchVgg = PyTorchResident("vgg16", vgg16Legacy, vgg16Zip, models);
            rows.Add(DaemonResident("vgg16 (zip .pth)", new { model = "vgg16", weights = vgg16Zip }, photo, work, torchVgg));
            rows.Add(DaemonResident("vgg16 (legacy .pth)", new { model = "vgg16", weights = vgg16Legacy }, photo, work, torchVgg));
            rows.Add(DaemonResident("resnet50 (.pth)", new { model = resnet50 }, photo, work, PyTorchResident("resnet50", resnet50, null, models)));
            rows.Add(DaemonResident("fashion-vgg (.safetensors)", new { model = "fashion-vgg" }, Path.Combine(models, "samples", "ankle-boot-0.png"), work,
                PyTorchResident("fashion-vgg", Path.Combine(models, "fashion-vgg.safetensors"), null, models)));

            var (peaks, rounds, loaded, message) = HeavyRequests(vgg16Zip, [photo, eagle], work, samples);

            if (json)
            {
                Output.WriteJson(new { models = rows, loadedVgg16Bytes = loaded, peaks, rounds, message });
                return;
            }
            static string Mb(long bytes) => (bytes / 1e6).ToString("F0", CultureInfo.InvariantCulture);
            Console.Out.WriteLine("resident after load + one prediction (MB)   ours   PyTorch   ratio (target ≤ 1.5)");
            foreach (var r in rows)
                Console.Out.WriteLine($"  {r.Model,-40} {Mb(r.Ours),6} {Mb(r.PyTorch),9}   {r.Ratio.ToString("F2", CultureInfo.InvariantCulture)}   (load peak {Mb(r.LoadPeak)})");
            Console.Out.WriteLine($"heavy requests on vgg16 (loaded: {Mb(loaded)} MB): peak over the loaded model, MB (target ≤ {Mb(512L << 20)})");
            foreach (var p in peaks)
                Console.Out.WriteLine($"  {p.Request,-40} {Mb(p.PeakOver),6}   {p.Outcome}");
            Console.Out.WriteLine($"resident after rounds 1, 2, 3 (MB): {string.Join(", ", rounds.Select(Mb))}   round 3 ÷ round 1: " +
                $"{((double)rounds[^1] / rounds[0]).ToString("F3", CultureInfo.InvariantCulture)} (target ≤ 1.1)");
            Console.Out.WriteLine($"a {Mb(message.Bytes)} MB message: peak {Mb(message.PeakOver)} MB over the daemon before it (target ≤ 500), " +
                $"answered with code {message.Code} in {message.Seconds.ToString("F1", CultureInfo.InvariantCulture)} s: {message.Answer}");
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    private sealed record ModelRow(string Model, long Ours, long PyTorch, double Ratio, long LoadPeak);

    private sealed record PeakRow(string Request, long PeakOver, string Outcome);

    private sealed record MessageRow(long Bytes, long PeakOver, int Code, string Answer, double Seconds);

    /// <summary>A fresh daemon: load, predict once, its resident size (and its peak while loading).</summary>
    private static ModelRow DaemonResident(string label, object load, string image, string work, long pytorch)
    {
        using var daemon = new BenchDaemon(work);
        daemon.ResetPeak();
        var model = daemon.Call("models/load", load).GetProperty("id").GetString()!;
        var loadPeak = daemon.Peak;
        daemon.Call("image/predict", new { model, image, topK = 5 });
        var ours = daemon.IdleResident;
        Console.Error.WriteLine($"bench memory: {label}: ours {ours / 1e6:F0} MB, PyTorch {pytorch / 1e6:F0} MB, load peak {loadPeak / 1e6:F0} MB");
        return new ModelRow(label, ours, pytorch, Math.Round((double)ours / pytorch, 2), loadPeak);
    }

    /// <summary>
    /// The loaded VGG16 through every view, three rounds on the images: each request's peak over the loaded model, the
    /// resident size after each round, then one oversized (but within the limit) message.
    /// </summary>
    private static (List<PeakRow> Peaks, List<long> Rounds, long Loaded, MessageRow Message) HeavyRequests(string weights, string[] images, string work, int samples)
    {
        using var daemon = new BenchDaemon(work);
        var model = daemon.Call("models/load", new { model = "vgg16", weights }).GetProperty("id").GetString()!;
        daemon.Call("image/predict", new { model, image = images[0], topK = 5 });
        var loaded = daemon.IdleResident;
        (string Name, string Method, Func<string, object> Params)[] views =
        [
            ("feature maps (features.0, 64 channels)", "explain/featureMaps", image => new { model, image, layer = "features.0" }),
            ("Grad-CAM", "explain/gradCam", image => new { model, image, layer = "features.29" }),
            ("Grad-CAM++", "explain/gradCam", image => new { model, image, layer = "features.29", method = "grad-cam++" }),
            ("filter patterns (8 channels, 5 steps)", "explain/filterPatterns", _ => new { model, layer = "features.10", channels = Enumerable.Range(0, 8).ToArray(), steps = 5 }),
            ($"LIME ({samples} samples)", "explain/lime", image => new { model, image, samples }),
            ($"KernelSHAP ({samples} samples)", "explain/shap", image => new { model, image, method = "kernel", samples }),
            ("GradientSHAP (20 samples)", "explain/shap", image => new { model, image, method = "gradient", samples = 20 }),
            ("metrics (Grad-CAM, 5 steps)", "explain/metrics", image => new { model, image, method = "grad-cam", layer = "features.29", steps = 5 }),
            ("sanity (Grad-CAM, 3 stages)", "explain/sanity", image => new { model, image, method = "grad-cam", layer = "features.29", stages = 3 }),
        ];
        var peaks = views.ToDictionary(v => v.Name, _ => (Peak: 0L, Outcome: "ok"));
        var rounds = new List<long>();
        for (var round = 1; round <= 3; round++)
        {
            foreach (var image in images)
                foreach (var (name, method, parameters) in views)
                {
                    daemon.ResetPeak();
                    var clock = Stopwatch.StartNew();
                    var response = daemon.Send(method, parameters(image));
                    var over = daemon.Peak - loaded;
                    var outcome = response.TryGetProperty("error", out var error) ? $"error {error.GetProperty("code")}: {Shorten(error.GetProperty("message").GetString())}"
                        : $"ok ({clock.Elapsed.TotalSeconds:F1} s)";
                    if (over > peaks[name].Peak || outcome.StartsWith("error", StringComparison.Ordinal)) peaks[name] = (Math.Max(over, peaks[name].Peak), outcome);
                    Console.Error.WriteLine($"bench memory: round {round}, {Path.GetFileName(image)}, {name}: peak +{over / 1e6:F0} MB, resident {daemon.Resident / 1e6:F0} MB, {outcome}");
                }
            rounds.Add(daemon.IdleResident);
        }

        // 52 MB: an image path of 50 million characters, within the 64 MiB message limit.
        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["jsonrpc"] = "2.0", ["id"] = 999_999, ["method"] = "image/predict",
            ["params"] = new JsonObject { ["model"] = model, ["image"] = new string('a', 50_000_000) + ".png" },
        }.ToJsonString());
        var before = daemon.IdleResident;
        daemon.ResetPeak();
        var timer = Stopwatch.StartNew();
        var answer = daemon.SendRaw(body);
        var seconds = timer.Elapsed.TotalSeconds;
        var refused = answer.GetProperty("error");
        var message = new MessageRow(body.Length, daemon.Peak - before, refused.GetProperty("code").GetInt32(),
            Shorten(refused.GetProperty("message").GetString(), 200) + $" ({refused.GetProperty("message").GetString()!.Length} characters)", seconds);
        return (views.Select(v => new PeakRow(v.Name, peaks[v.Name].Peak, peaks[v.Name].Outcome)).ToList(), rounds, loaded, message);
    }

    private static string Shorten(string? text, int length = 100) => text is null ? "" : text.Length <= length ? text : text[..length] + "…";

    /// <summary>
    /// PyTorch's resident size for the same model after loading and one forward pass of a 224×224 image (28×28 for
    /// fashion-vgg), in a child python3 (Debian's, where python3-torch lives, before any other on PATH); with <paramref name="zipOut"/>, it also writes the weights in PyTorch's zip format.
    /// </summary>
    private static long PyTorchResident(string arch, string weights, string? zipOut, string modelsDirectory)
    {
        const string script = """
            import gc, json, struct, sys
            import numpy, torch, torchvision
            def rss():
                with open('/proc/self/status') as f:
                    return next(int(l.split()[1]) * 1024 for l in f if l.startswith('VmRSS:'))
            arch, weights, zip_out, models_json = sys.argv[1:5]
            if arch == 'fashion-vgg':
                spec = next(m for m in json.load(open(models_json))['models'] if m['id'] == arch)
                a, layers, c = spec['architecture'], [], spec['architecture']['inChannels']
                for w in a['features']:
                    if w == 'M': layers.append(torch.nn.MaxPool2d(2, 2))
                    else: layers += [torch.nn.Conv2d(c, w, 3, padding=1), torch.nn.ReLU()]; c = w
                head, n = [], c * a['avgPool'][0] * a['avgPool'][1]
                for w in a['classifier']: head += [torch.nn.Linear(n, w), torch.nn.ReLU(), torch.nn.Dropout(a['dropout'])]; n = w
                head.append(torch.nn.Linear(n, a['numClasses']))
                class Net(torch.nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.features, self.avgpool, self.classifier = torch.nn.Sequential(*layers), torch.nn.AdaptiveAvgPool2d(a['avgPool']), torch.nn.Sequential(*head)
                    def forward(self, x): return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))
                model, shape = Net(), (1, a['inChannels'], 28, 28)
                data = open(weights, 'rb').read()
                n = struct.unpack('<Q', data[:8])[0]
                header = json.loads(data[8:8 + n])
                state = {k: torch.from_numpy(numpy.frombuffer(data, numpy.float32, (v['data_offsets'][1] - v['data_offsets'][0]) // 4, 8 + n + v['data_offsets'][0]).reshape(v['shape']).copy())
                         for k, v in header.items() if k != '__metadata__'}
                del data
            else:
                model, shape = getattr(torchvision.models, arch)(), (1, 3, 224, 224)
                state = torch.load(weights, map_location='cpu')
            model.load_state_dict(state)
            del state
            if zip_out: torch.save(model.state_dict(), zip_out)
            model.eval()
            gc.collect()
            loaded = rss()
            with torch.no_grad(): model(torch.rand(shape))
            print(json.dumps({'loaded': loaded, 'forward': rss()}))
            """;
        var start = new ProcessStartInfo(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3", ["-c", script, arch, weights, zipOut ?? "", Path.Combine(modelsDirectory, "models.json")])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var python = Process.Start(start) ?? throw new CnnInterpretException(ErrorKind.Internal, "python3 did not start");
        var stderr = python.StandardError.ReadToEndAsync();
        var stdout = python.StandardOutput.ReadToEnd();
        python.WaitForExit();
        if (python.ExitCode != 0)
            throw new CnnInterpretException(ErrorKind.Internal,
                $"PyTorch's measurement of {arch} failed (python3 with torch and torchvision is needed: apt-get install python3-torch python3-torchvision): {stderr.Result}");
        return JsonDocument.Parse(stdout).RootElement.GetProperty("forward").GetInt64();
    }

    /// <summary>The daemon as a child (the one built beside this bench), over stdio with Content-Length frames; sizes from /proc.</summary>
    private sealed class BenchDaemon : IDisposable
    {
        private readonly Process _process;
        private readonly Stream _in, _out;
        private int _id;

        public BenchDaemon(string work)
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!, [typeof(CnnInterpret.Daemon.DaemonHost).Assembly.Location])
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            start.Environment["CNN_INTERPRET_CACHE"] = Path.Combine(work, "cache"); // filter patterns computed, not read from the user's cache
            _process = Process.Start(start) ?? throw new CnnInterpretException(ErrorKind.Internal, "the daemon did not start");
            _process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is { } line && (line.Contains("fail", StringComparison.OrdinalIgnoreCase) || line.Contains("unload", StringComparison.OrdinalIgnoreCase)))
                    Console.Error.WriteLine($"daemon: {Shorten(line, 300)}");
            };
            _process.BeginErrorReadLine();
            _in = _process.StandardInput.BaseStream;
            _out = _process.StandardOutput.BaseStream;
        }

        public long Resident => ProcessMemory.Status("VmRSS:", _process.Id) ?? 0;
        public long Peak => ProcessMemory.Status("VmHWM:", _process.Id) ?? 0;

        /// <summary>The resident size once the daemon has been idle long enough to give memory back, as between a user's clicks.</summary>
        public long IdleResident
        {
            get
            {
                Thread.Sleep(CnnInterpret.Daemon.RequestRunner.IdleGiveBackDelay * 2);
                return Resident;
            }
        }

        public void ResetPeak()
        {
            if (!ProcessMemory.ResetPeak(_process.Id))
                throw new CnnInterpretException(ErrorKind.Internal, "Cannot reset the daemon's peak (/proc/PID/clear_refs): the memory bench needs Linux.");
        }

        public JsonElement Call(string method, object parameters)
        {
            var response = Send(method, parameters);
            return response.TryGetProperty("error", out var error)
                ? throw new CnnInterpretException(ErrorKind.Internal, $"{method} failed: {error}")
                : response.GetProperty("result");
        }

        public JsonElement Send(string method, object parameters) => SendRaw(Encoding.UTF8.GetBytes(new JsonObject
        {
            ["jsonrpc"] = "2.0", ["id"] = ++_id, ["method"] = method, ["params"] = JsonSerializer.SerializeToNode(parameters),
        }.ToJsonString()));

        /// <summary>Sends one framed message and returns the next response (notifications are skipped).</summary>
        public JsonElement SendRaw(byte[] body)
        {
            _in.Write(Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"));
            _in.Write(body);
            _in.Flush();
            while (true)
            {
                var message = Read();
                if (message.TryGetProperty("id", out _)) return message;
            }
        }

        private JsonElement Read()
        {
            int? length = null;
            while (ReadLine() is { Length: > 0 } line)
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
            var body = new byte[length ?? throw new CnnInterpretException(ErrorKind.Internal, "the daemon sent a frame without Content-Length")];
            _out.ReadExactly(body);
            return JsonDocument.Parse(body).RootElement.Clone();
        }

        private string ReadLine()
        {
            var bytes = new List<byte>();
            while (true)
            {
                var b = _out.ReadByte();
                if (b < 0) throw new CnnInterpretException(ErrorKind.Internal, "the daemon closed its output (did it crash? its log is above)");
                if (b == '\n') return Encoding.ASCII.GetString(bytes.ToArray()).TrimEnd('\r');
                bytes.Add((byte)b);
            }
        }

        public void Dispose()
        {
            _in.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(60))) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }
}
