#!/usr/bin/env bash
# Run the test suite (installs the stack first if needed; see scripts/install.sh).
#   bash scripts/test.sh [pytest args]        e.g.  bash scripts/test.sh -m "not slow"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/install.sh"
cd "$here"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec "${KD_MMDET_VENV:-$here/.venv}/bin/python" -m pytest -q -p no:cacheprovider "$@"
