#!/usr/bin/python3
"""The bad-model corpus: model files a user may open that must be refused clearly and safely.

Run with Debian's PyTorch and ONNX (apt-get install python3-torch python3-onnx):
  /usr/bin/python3 tests/corpus/make_bad_models.py      (writes tests/corpus/models/, about 25 small files)
Files named evil-* would create /tmp/cnn-interpret-evil-marker if anything unpickled them with pickle.load.
"""
import io
import os
import pathlib
import pickle
import random
import zipfile

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

out = pathlib.Path(__file__).resolve().parent / "models"
out.mkdir(exist_ok=True)
for old in out.iterdir():
    old.unlink()
rng = random.Random(11)
torch.manual_seed(0)


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/cnn-interpret-evil-marker",))


class EvilEval:
    def __reduce__(self):
        return (eval, ("__import__('os').system('touch /tmp/cnn-interpret-evil-marker')",))


small = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 30 * 30, 10))
state = small.state_dict()
buf = io.BytesIO()
torch.save(state, buf)
good_zip = buf.getvalue()
buf = io.BytesIO()
torch.save(state, buf, _use_new_zipfile_serialization=False)
good_legacy = buf.getvalue()

files = {
    "empty.pth": b"",
    "empty.onnx": b"",
    "empty.safetensors": b"",
    "text.pth": b"this is not a checkpoint\n",
    "random-bytes.pth": bytes(rng.getrandbits(8) for _ in range(2048)),
    "random-bytes.onnx": bytes(rng.getrandbits(8) for _ in range(2048)),
    "truncated-zip-half.pth": good_zip[: len(good_zip) // 2],
    "truncated-zip-tail-cut.pth": good_zip[:-30],
    "truncated-legacy-half.pth": good_legacy[: len(good_legacy) // 2],
    "truncated-legacy-storage.pth": good_legacy[:-100],
    "corrupt-legacy-flipped.pth": bytes(b ^ 0x5A if 40 <= i < 80 else b for i, b in enumerate(good_legacy)),
    "wrong-architecture-for-vgg16.pth": good_zip,   # a small Sequential's state_dict, not VGG16's
}
garbage = io.BytesIO()
with zipfile.ZipFile(garbage, "w") as z:
    z.writestr("archive/data.pkl", bytes(rng.getrandbits(8) for _ in range(512)))
    z.writestr("archive/data/0", b"\x00" * 64)
files["zip-of-garbage.pth"] = garbage.getvalue()
files["zip-without-pickle.pth"] = (lambda b: (zipfile.ZipFile(b, "w").writestr("hello.txt", "hi"), b.getvalue())[1])(io.BytesIO())
files["evil-os-system-legacy.pth"] = pickle.dumps(Evil(), protocol=2)
files["evil-eval-protocol4.pth"] = pickle.dumps({"features.0.weight": EvilEval()}, protocol=4)
buf = io.BytesIO()
torch.save({"features.0.weight": Evil()}, buf)
files["evil-os-system-zip.pth"] = buf.getvalue()
# Absurd shapes: a tensor claiming far more elements than its storage holds.
absurd = {"weight": torch.zeros(4)}
buf = io.BytesIO()
torch.save(absurd, buf, _use_new_zipfile_serialization=False)
data = bytearray(buf.getvalue())
files["absurd-storage-size-legacy.pth"] = bytes(data[:-(4 * 4 + 8)]) + (10 ** 12).to_bytes(8, "little") + b"\x00" * 16
for name, data in files.items():
    (out / name).write_bytes(data)


def onnx_model(nodes, inputs, outputs, initializers=(), name="bad"):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
onnx.save(onnx_model([helper.make_node("FancyNewOp", ["x"], ["y"], name="fancy_1", domain="")], [x], [y]), out / "unknown-operator.onnx")
onnx.save(onnx_model([helper.make_node("Relu", ["x"], ["y"], name="relu_1", domain="com.example.custom")], [x], [y]), out / "custom-domain-operator.onnx")
w = numpy_helper.from_array(np.zeros((4, 3, 3, 3), np.float32), "w")
model = onnx_model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv_1")], [x], [y], [w])
onnx.save_model(model, out / "missing-external-data.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                location="missing-weights.bin", size_threshold=0)
for leftover in (out / "missing-weights.bin", pathlib.Path("missing-weights.bin")):
    leftover.unlink(missing_ok=True)
big = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[100000, 100000, 100000], raw_data=b"\0" * 16)
onnx.save(onnx_model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv_1")], [x], [y], [big]), out / "absurd-initializer-shape.onnx")
dyn = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, "height", "width"])
onnx.save(onnx_model([helper.make_node("Relu", ["x"], ["y"], name="relu_1")], [dyn], [y]), out / "dynamic-input-shape.onnx")
# Valid ONNX that libtorch cannot run: a MatMul whose weight does not fit the input (the error comes from inside a forward).
wrong = numpy_helper.from_array(np.zeros((5, 7), np.float32), "w")
flat = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
onnx.save(onnx_model([helper.make_node("Flatten", ["x"], ["f"], name="flatten_1"), helper.make_node("MatMul", ["f", "w"], ["y"], name="matmul_1")],
                     [flat], [y], [wrong]), out / "forward-fails-matmul-shapes.onnx")
truncated = (out / "unknown-operator.onnx").read_bytes()
(out / "truncated.onnx").write_bytes(truncated[: len(truncated) // 2])
print(f"wrote {len(list(out.iterdir()))} files to {out}")
