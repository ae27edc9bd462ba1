#!/usr/bin/env bash
# Install rdic-ops and everything it needs into ./.venv (safe to re-run).
# torch goes first, pinned to its CPU build: otherwise sentence-transformers pulls a multi-GB CUDA build.
# llama-cpp-python compiles llama.cpp the first time (about 11 minutes on 2 cores); pip caches the wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${RDIC_TORCH_SPEC:-torch==2.13.0}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q $TORCH_SPEC  # unquoted: may carry --index-url
.venv/bin/python -m pip install -q -e '.[llamacpp,remote,dev]'  # remote: Fabric, for invoke fleet.*
echo "rdic-ops installed in .venv: try .venv/bin/invoke --list"
