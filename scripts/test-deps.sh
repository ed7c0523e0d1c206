#!/usr/bin/env bash
# Installs what the tests need and the repository does not hold: Debian's Fashion-MNIST package (the
# test set for the accuracy checks), Debian's PyTorch (to make the full-size torchvision fixtures, once,
# and to export torchvision's CNNs to ONNX, once, into a cache folder outside the repository), ONNX's node tests and darknet's photos. Safe to run again; does nothing when all is present.
set -euo pipefail
need=()
[[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz || -n "${FASHION_MNIST_DIR:-}" ]] || need+=(dataset-fashion-mnist)
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixtures="${CNN_INTERPRET_TEST_FIXTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/cnn-interpret/test-fixtures}"
fixtures_needed=false
missing_mb=0 # roughly what the missing fixtures take on disk: a VGG checkpoint is 530–580 MB
# Checkpoints, then what PyTorch makes of a photo with each (.photo-vN: N is PHOTO_VERSION in the script).
for name in vgg16 vgg11_bn vgg13 vgg19 resnet18 resnet34 resnet50 old-formats \
  {vgg16,vgg11_bn,vgg13,vgg19,resnet18,resnet34,resnet50}.photo-v1; do
  if [[ ! -f "$fixtures/$name.json" ]]; then
    fixtures_needed=true
    case "$name" in vgg*.photo*) missing_mb=$((missing_mb + 45)) ;; vgg*) missing_mb=$((missing_mb + 600)) ;; *) missing_mb=$((missing_mb + 110)) ;; esac
  fi
done
# torchvision's CNNs exported to ONNX at opsets 13 and 17 (tests/fixtures/make_onnx_fixtures.py; ARCHS there).
onnx_archs=(alexnet vgg11_bn vgg16 resnet18 resnet50 resnext50_32x4d wide_resnet50_2 squeezenet1_1 densenet121 inception_v3
  googlenet shufflenet_v2_x1_0 mobilenet_v2 mobilenet_v3_small mobilenet_v3_large mnasnet1_0 efficientnet_b0 efficientnet_v2_s
  regnet_x_400mf regnet_y_400mf convnext_tiny)
onnx_needed=false
for name in "${onnx_archs[@]}"; do
  [[ -f "$fixtures/onnx/$name.json" ]] || { onnx_needed=true; missing_mb=$((missing_mb + 250)); }
done
# Models as users trained them (their own normalisation, fine-tuned heads, ONNX metadata, Keras's VGG16 HDF5 layout):
# user-models.json's "version" is VERSION in make_user_model_fixtures.py. About 1.3 GB (two VGG16s).
user_models_version=1
user_models_needed=false
if [[ "$(sed -n 's/.*"version": *\([0-9]*\).*/\1/p' "$fixtures/user-models/user-models.json" 2>/dev/null)" != "$user_models_version" ]]; then
  user_models_needed=true
  fixtures_needed=true
  missing_mb=$((missing_mb + 1300))
fi
if { $fixtures_needed || $onnx_needed; } && ! /usr/bin/python3 -c "import torch, torchvision" 2>/dev/null; then need+=(python3-torch python3-torchvision); fi
if $user_models_needed && ! /usr/bin/python3 -c "import h5py, PIL" 2>/dev/null; then need+=(python3-h5py python3-pil); fi
# ONNX's per-operator node tests (conformance of the ONNX importer).
[[ -d /usr/share/libonnx-testdata/data/node ]] || need+=(libonnx-testdata)
if [[ ${#need[@]} -gt 0 ]]; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "Installing ${need[*]} (Debian packages needed by the tests)…" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >&2
fi
# Real photos (dog, eagle, giraffe, …; MIT/GPL/WTFPL per the package's copyright file) from Debian's darknet
# package, unpacked without installing it, for the ONNX/ResNet18 tests.
darknet="${XDG_CACHE_HOME:-$HOME/.cache}/cnn-interpret/darknet"
if [[ ! -f "$darknet/usr/share/darknet/data/dog.jpg" ]]; then
  echo "Unpacking the darknet package's sample photos into $darknet…" >&2
  tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download darknet >&2 2>/dev/null || { apt-get update -qq >&2 && apt-get download darknet >&2; })
  mkdir -p "$darknet"
  dpkg-deb -x "$tmp"/darknet_*.deb "$darknet"
  rm -rf "$tmp"
fi
if $fixtures_needed || $onnx_needed; then
  mkdir -p "$fixtures"
  free_mb=$(df -Pm "$fixtures" | awk 'NR == 2 { print $4 }')
  if (( free_mb < missing_mb + 500 )); then
    echo "error: making the missing test fixtures needs about ${missing_mb} MB in $fixtures (and room to build), and only ${free_mb} MB are free. Free some space, or set CNN_INTERPRET_TEST_FIXTURES to a folder on a larger disk." >&2
    exit 1
  fi
  if $fixtures_needed; then
    echo "Making the torchvision checkpoint fixtures with PyTorch into $fixtures (once, only the missing ones; about a minute, 2.5 GB)…" >&2
    /usr/bin/python3 "$root/tests/fixtures/make_torchvision_fixtures.py" "$fixtures" >&2
  fi
  if $user_models_needed; then
    echo "Making the user-model fixtures (ResNet50 as ONNX, fine-tuned heads, Keras's VGG16 layout) into $fixtures/user-models…" >&2
    /usr/bin/python3 "$root/tests/fixtures/make_user_model_fixtures.py" "$fixtures" >&2
  fi
  if $onnx_needed; then
    echo "Exporting torchvision's CNNs to ONNX at opsets 13 and 17 with PyTorch into $fixtures/onnx (once, only the missing ones; a few minutes, 5 GB)…" >&2
    /usr/bin/python3 "$root/tests/fixtures/make_onnx_fixtures.py" "$fixtures" >&2
  fi
fi
