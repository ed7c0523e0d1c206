#!/usr/bin/python3
"""The physical limit beside `cnn-interpret bench --only peers`: the same arithmetic in plain PyTorch (Debian's
python3-torch), on the same torchvision VGG16 weights and the same photo, on as many threads as the caller.

Usage: bench-pytorch.py WEIGHTS.pth IMAGE LAYER_INDEX CAM_LAYER_INDEX THREADS RUNS
Prints one JSON object of medians in milliseconds:
  forwardBatch8      forward of the whole network, batch 8, no gradients
  forwardBackward    forward to features[LAYER] + backward of a channel's mean to the input, batch 1
  gradCamNewImage    decode + resize/crop/normalise + forward to the class logits + backward to features[CAM_LAYER]
                     (pytorch-grad-cam's arithmetic for a new image, without its rendering)
  ascent30           30 steps of gradient ascent on one channel of features[LAYER] at 224 px (the classic recipe)
"""
import json
import sys
import time

import torch
import torchvision
from PIL import Image

weights, image_path, layer, cam_layer = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
threads, runs = int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(threads)
model = torchvision.models.vgg16()
model.load_state_dict(torch.load(weights))
model.eval()
for p in model.parameters():
    p.requires_grad_(False)
truncated = model.features[: layer + 1]
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
preprocess = torchvision.transforms.Compose([
    torchvision.transforms.Resize(256), torchvision.transforms.CenterCrop(224), torchvision.transforms.ToTensor(),
    torchvision.transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
x = preprocess(Image.open(image_path).convert("RGB")).unsqueeze(0)


def median(f, n=runs):
    f()  # warm-up
    times = []
    for _ in range(n):
        start = time.perf_counter()
        f()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[len(times) // 2]


def forward_batch():
    with torch.no_grad():
        model(x.expand(8, -1, -1, -1).contiguous())


def forward_backward():
    inp = x.clone().requires_grad_(True)
    torch.autograd.grad(truncated(inp)[0, 0].mean(), inp)


def grad_cam_new_image():
    inp = preprocess(Image.open(image_path).convert("RGB")).unsqueeze(0)
    activation = model.features[: cam_layer + 1](inp)
    activation.requires_grad_(True)  # a leaf: the backward stops at the layer, as pytorch-grad-cam's hook does
    logits = model.classifier(torch.flatten(model.avgpool(model.features[cam_layer + 1:](activation)), 1))
    torch.autograd.grad(logits[0].max(), activation)


def ascent30():
    # Chollet's recipe, as the classic preset: gray + noise in 0-255 units, 30 steps of 10 along the RMS-normalised gradient.
    g = torch.Generator().manual_seed(1)
    image = (128 + 20 * (torch.rand(1, 3, 224, 224, generator=g) - 0.5)).requires_grad_(True)
    for _ in range(30):
        objective = truncated((image / 255 - mean) / std)[0, 0].mean()
        gradient, = torch.autograd.grad(objective, image)
        with torch.no_grad():
            image += 10 * gradient / (gradient.square().mean().sqrt() + 1e-5)


print(json.dumps({
    "torch": torch.__version__, "threads": torch.get_num_threads(),
    "forwardBatch8": median(forward_batch), "forwardBackward": median(forward_backward),
    "gradCamNewImage": median(grad_cam_new_image), "ascent30": median(ascent30, max(1, runs // 5)),
}))
