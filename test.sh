#!/usr/bin/env bash
# Set up (first time only) and run the test suite. Arguments go to pytest: ./test.sh -k cache
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
