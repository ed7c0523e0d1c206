// Checks that a daemon binary really works: daemon/info, models/load, image/predict and explain/featureMaps
// on a sample image, and models/load of resnet18-imagenet (its bundled ONNX files). package.sh runs it on the
// published, trimmed daemon after dropping the native libraries it should not need, so a .vsix is never built
// around a daemon that cannot load libtorch.
// usage: node scripts/daemon-smoke.mjs DAEMON IMAGE
import { spawn } from "node:child_process";
import * as rpc from "vscode-jsonrpc/node";

const [daemon, image] = process.argv.slice(2);
if (!daemon || !image) {
    console.error("usage: node scripts/daemon-smoke.mjs DAEMON IMAGE");
    process.exit(64);
}
const child = spawn(daemon, [], { stdio: ["pipe", "pipe", "pipe"] });
let stderr = "";
child.stderr.on("data", (d) => (stderr += d));
const connection = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
connection.listen();
const timer = setTimeout(() => fail("no answer within 120 s"), 120_000);
function fail(why) {
    console.error(`daemon smoke test failed: ${why}\n${stderr.split("\n").slice(-15).join("\n")}`);
    child.kill("SIGKILL");
    process.exit(1);
}
child.on("exit", (code, signal) => fail(`the daemon exited (${signal ?? code})`));
try {
    const info = await connection.sendRequest("daemon/info");
    const model = await connection.sendRequest("models/load", { model: "fashion-vgg" });
    const prediction = await connection.sendRequest("image/predict", { image, topK: 1 });
    const conv = model.layers.find((l) => l.kind === "Conv2d");
    const maps = await connection.sendRequest("explain/featureMaps", { image, layer: conv.name });
    // The bundled ONNX network, imported by the trimmed daemon (protobuf, the ONNX importer).
    const resnet = await connection.sendRequest("models/load", { model: "resnet18-imagenet" });
    console.error(
        `daemon smoke test: ${info.version} on ${info.device} (libtorch ${info.libTorchVersion}); ` +
            `${model.layers.length} layers; top class ${prediction.top[0].label}; ${maps.channels.length} feature maps of ${conv.name}; ` +
            `resnet18-imagenet: ${resnet.layers.length} layers`,
    );
} catch (e) {
    fail(e.message);
}
clearTimeout(timer);
child.removeAllListeners("exit");
connection.dispose();
child.stdin.end();
