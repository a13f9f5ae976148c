#!/usr/bin/env bash
# Set up (first time only) and start Cabin. Arguments go to the `cabin` command: ./run.sh chat --model M
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec .venv/bin/cabin "$@"
