#!/usr/bin/env bash
# Installs what the tests need and the repository does not hold: Debian's Fashion-MNIST package (the
# test set for the accuracy checks). Safe to run again; does nothing when all is present.
set -euo pipefail
need=()
[[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz || -n "${FASHION_MNIST_DIR:-}" ]] || need+=(dataset-fashion-mnist)
if [[ ${#need[@]} -gt 0 ]]; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "Installing ${need[*]} (Debian packages needed by the tests)…" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >&2
fi
