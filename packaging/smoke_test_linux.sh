#!/usr/bin/env bash
# Build the Linux one-folder app from packaging/cabin.spec (the spec Cabin.app is built from) and run the
# frozen app's --selftest with a tiny model built here. Fails if the build fails, if any selftest check fails
# (a module, library or resource missing from the bundle), or if the frozen app lost the OpenBLAS fast path.
# CI runs it after the tests (.ci/run); by hand: packaging/smoke_test_linux.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/setup.sh

scratch=$(mktemp -d -t cabin-smoke-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
.venv/bin/python -c "
import sys
from pathlib import Path
from tests.model_factory import build_model
build_model(Path(sys.argv[1]))
" "$scratch/tiny-llama"

start=$SECONDS
.venv/bin/python -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/cabin.spec
echo "built dist/Cabin in $((SECONDS - start)) s: $(du -sh dist/Cabin | cut -f1)"

# Run from elsewhere, offline, with a private home: nothing may come from the source tree or the network.
cd "$scratch"
report=$(HOME="$scratch/home" HF_HUB_OFFLINE=1 "$root/dist/Cabin/Cabin" --selftest "$scratch/tiny-llama" 2>"$scratch/stderr") || {
    echo "$report"
    cat "$scratch/stderr" >&2
    echo "smoke test: the frozen app's --selftest failed" >&2
    exit 1
}
echo "$report"
if ! grep -q "^ok   blas   OpenBLAS" <<<"$report"; then
    echo "smoke test: the frozen app runs MLX on the reference BLAS (engine/_blas_shim or scipy-openblas32 missing)" >&2
    exit 1
fi

# The Core ML export (torch tracing, coremltools conversion and palettization in a spawned child process) is the
# heaviest thing the bundle carries: when the app has it, export the tiny model with the frozen app too.
if "$root/dist/Cabin/Cabin" export-coreml --help >/dev/null 2>&1; then
    start=$SECONDS
    HOME="$scratch/home" HF_HUB_OFFLINE=1 "$root/dist/Cabin/Cabin" export-coreml --model "$scratch/tiny-llama" \
        --out "$scratch/tiny-llama-coreml" --context 64 >"$scratch/export.log" 2>&1 || {
        cat "$scratch/export.log" >&2
        echo "smoke test: the frozen app's Core ML export failed" >&2
        exit 1
    }
    echo "frozen Core ML export of the tiny model: ok in $((SECONDS - start)) s"
fi
