#!/usr/bin/env bash
# Install kd_mmdet and its whole stack into a virtual environment, from nothing.
#
#   bash scripts/install.sh            # venv at ./.venv (KD_MMDET_VENV overrides)
#
# Idempotent: a second run only checks what is there. The one slow step, building mmcv
# 2.1.0 with its compiled ops, is cached as a wheel under ~/.cache/kd_mmdet (KD_MMDET_CACHE
# overrides; keyed by the torch version and CUDA build), so later installs on the same
# machine reuse it. On a machine with CUDA the same recipe compiles mmcv's CUDA kernels too.
# The terminal gets one line per step; pip's own output goes to <venv>/kd_mmdet-install.log,
# whose last lines are shown if a step fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${KD_MMDET_VENV:-$here/.venv}"
cache="${KD_MMDET_CACHE:-$HOME/.cache/kd_mmdet}"
py="$venv/bin/python"

# Versions verified together on current torch; why each pin exists is in requirements.txt.
TORCH_VERSION="${KD_MMDET_TORCH:-2.14.1}"
TORCHVISION_VERSION="${KD_MMDET_TORCHVISION:-0.29.1}"
MMCV_VERSION=2.1.0

log() { printf '[install] %s\n' "$*"; }

if [ ! -x "$py" ]; then
  log "creating virtual environment at $venv"
  python3 -m venv "$venv"
fi
logfile="$venv/kd_mmdet-install.log"

# step MESSAGE COMMAND...: one progress line with the step's time; the command's output
# goes to the log, and on failure the log's tail is shown and the install stops.
step() {
  local msg=$1 s
  shift
  s=$(date +%s)
  printf '[install] %s ... ' "$msg"
  printf '\n=== %s (%s)\n$ %s\n' "$msg" "$(date -u +%FT%TZ)" "$*" >> "$logfile"
  if ! "$@" >> "$logfile" 2>&1; then
    echo "failed"
    echo "[install] the last lines of $logfile:" >&2
    tail -n 40 "$logfile" >&2
    exit 1
  fi
  echo "$(( $(date +%s) - s )) s"
}
pip_() { "$py" -m pip install --disable-pip-version-check "$@"; }

stamp="$venv/.kd_mmdet_installed"
want="$(cat "$here/requirements.txt" "$here/setup.py" "$here/scripts/install.sh" | sha1sum | cut -c1-12)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$py" -c "import kd_mmdet, mmcv.ops" 2>/dev/null; then
  log "already installed ($venv)"
  exit 0
fi

t0=$(date +%s)
: > "$logfile"
log "pip's output: $logfile"
# setuptools < 82: mmcv's setup.py, mmengine's `mmdet::` config lookup and mim import
# pkg_resources, which setuptools 82 removed.
# (one command, so that torch's own setuptools requirement cannot upgrade past the pin)
step "torch $TORCH_VERSION, torchvision $TORCHVISION_VERSION" \
  pip_ "setuptools<81" wheel "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"

# mmcv 2.1.0 with ops, built from the sdist (mmcv-lite lacks mmcv.ops, which mmdet imports).
tag="$("$py" - <<'PY'
import torch
cuda = torch.version.cuda if torch.cuda.is_available() else None
print(f"torch{torch.__version__}-{'cu' + cuda if cuda else 'cpu'}")
PY
)"
wheel_dir="$cache/mmcv-$MMCV_VERSION-$tag"

mmcv_build=""
trap 'if [ -n "$mmcv_build" ]; then rm -rf "$mmcv_build"; fi' EXIT
build_mmcv() {  # the wheel into $wheel_dir; every command checked (errexit is off here)
  local src
  mmcv_build="$(mktemp -d)" || return 1
  "$py" -m pip download --no-deps --no-build-isolation --no-binary :all: \
    "mmcv==$MMCV_VERSION" -d "$mmcv_build" || return 1
  tar -xzf "$mmcv_build/mmcv-$MMCV_VERSION.tar.gz" -C "$mmcv_build" || return 1
  src="$mmcv_build/mmcv-$MMCV_VERSION"
  # torch >= 2.10 headers need C++20; mmcv's setup.py hard-codes -std=c++17 after torch's
  # own flags, so no environment variable can override it.
  if "$py" -c "import torch,sys; v=tuple(int(x) for x in torch.__version__.split('+')[0].split('.')[:2]); sys.exit(0 if v >= (2, 10) else 1)"; then
    if ! grep -q -- "-std=c++17" "$src/setup.py"; then
      echo "mmcv $MMCV_VERSION setup.py has no -std=c++17 flag: not the file this patch expects"
      return 1
    fi
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py" || return 1
  fi
  mkdir -p "$wheel_dir" || return 1
  (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" CFLAGS="${CFLAGS:--g0}" \
     CXXFLAGS="${CXXFLAGS:--g0}" "$py" -m pip wheel --no-build-isolation --no-deps . \
     -w "$wheel_dir")
}
if ! ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
  step "building mmcv $MMCV_VERSION with ops for $tag (about 5 minutes on 2 cores)" build_mmcv
fi
step "mmcv $MMCV_VERSION (cached wheel: $wheel_dir)" pip_ "$wheel_dir"/mmcv-*.whl

# openmim's own dependency chain (opendatalab -> openxlab) downgrades setuptools and
# friends; install it without dependencies plus the ones it really imports. pip would
# report that missing chain as an "ERROR" after every later install although nothing
# failed: --no-warn-conflicts, and one `pip check` at the end that allows exactly it.
step "openmim 0.3.9 (without its opendatalab chain)" pip_ --no-deps "openmim==0.3.9"
step "mmengine, mmdet, mmrazor, mmpretrain and the rest of requirements.txt" \
  pip_ --no-warn-conflicts -r "$here/requirements.txt"
# Editable install in "compat" mode (the repo root goes on sys.path through a .pth file).
step "kd_mmdet (editable)" pip_ --no-warn-conflicts --no-deps --no-build-isolation \
  -e "$here" --config-settings editable_mode=compat
site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
# mim and mmengine locate a package's configs as <dist location>/<name>/.mim, and an
# editable install's dist location is site-packages: link the package there.
if [ ! -e "$site/kd_mmdet" ] || [ -L "$site/kd_mmdet" ]; then
  ln -sfn "$here/kd_mmdet" "$site/kd_mmdet"
fi
# Fixes that must be active before mmrazor is imported (see kd_mmdet/compat.py).
echo "import kd_mmdet_startup" > "$site/kd_mmdet_startup.pth"

# Every declared requirement is met, except openmim's opendatalab (left out on purpose).
check_requirements() {
  local out
  out="$("$py" -m pip check 2>&1)"
  echo "$out"
  ! grep -v -e '^openmim [0-9.]* requires opendatalab, which is not installed\.$' \
    -e '^No broken requirements found\.$' <<< "$out" | grep -q .
}
step "checking requirements (pip check)" check_requirements

"$py" - <<'PY'
import mmcv, mmcv.ops, mmdet, mmengine, torch
import kd_mmdet
print(f"[install] torch {torch.__version__}, mmcv {mmcv.__version__} (ops), "
      f"mmengine {mmengine.__version__}, mmdet {mmdet.__version__}, kd_mmdet {kd_mmdet.__version__}")
PY
echo "$want" > "$stamp"
log "done in $(( $(date +%s) - t0 )) s"
