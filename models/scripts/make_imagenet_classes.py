#!/usr/bin/python3
"""Writes models/imagenet-classes.json: the 1000 ImageNet-1k class names in the order torchvision's
pretrained classifiers use (index i is logit i), taken from torchvision's own metadata.
Run with Debian's PyTorch: apt-get install python3-torchvision; /usr/bin/python3 models/scripts/make_imagenet_classes.py"""
import json
import pathlib

from torchvision.models import _meta

names = list(_meta._IMAGENET_CATEGORIES)
assert len(names) == 1000
out = pathlib.Path(__file__).resolve().parent.parent / "imagenet-classes.json"
out.write_text(json.dumps(names, indent=0) + "\n")
print(f"wrote {len(names)} names to {out}")
