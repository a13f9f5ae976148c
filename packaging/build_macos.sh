#!/usr/bin/env bash
# Build Cabin.app and Cabin-<version>.dmg on an Apple Silicon Mac; sign, notarize and staple when credentials
# are given (each missing one skips its step with a line saying so). See packaging/README.md.
#
#   packaging/build_macos.sh [--model SMALL_MODEL_FOLDER] [--dry-run]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python packaging/macos_release.py "$@"
