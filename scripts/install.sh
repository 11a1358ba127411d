#!/usr/bin/env bash
# Install kd_mmdet and its whole stack into a virtual environment, from nothing.
#
#   bash scripts/install.sh            # venv at ./.venv (KD_MMDET_VENV overrides)
#
# Idempotent: a second run only checks what is there. The one slow step, building mmcv
# 2.1.0 with its compiled ops, is cached as a wheel under ~/.cache/kd_mmdet (keyed by the
# torch version and CUDA build), so later installs on the same machine reuse it.
# On a machine with CUDA the same recipe compiles mmcv's CUDA kernels too.
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
pip_() { "$py" -m pip install --disable-pip-version-check "$@"; }

stamp="$venv/.kd_mmdet_installed"
want="$(cat "$here/requirements.txt" "$here/setup.py" "$here/scripts/install.sh" | sha1sum | cut -c1-12)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$py" -c "import kd_mmdet, mmcv.ops" 2>/dev/null; then
  log "already installed ($venv)"
  exit 0
fi

t0=$(date +%s)
# setuptools < 82: mmcv's setup.py, mmengine's `mmdet::` config lookup and mim import
# pkg_resources, which setuptools 82 removed.
# (one command, so that torch's own setuptools requirement cannot upgrade past the pin)
pip_ -q "setuptools<81" wheel "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"

# mmcv 2.1.0 with ops, built from the sdist (mmcv-lite lacks mmcv.ops, which mmdet imports).
tag="$("$py" - <<'PY'
import torch
cuda = torch.version.cuda if torch.cuda.is_available() else None
print(f"torch{torch.__version__}-{'cu' + cuda if cuda else 'cpu'}")
PY
)"
wheel_dir="$cache/mmcv-$MMCV_VERSION-$tag"
if ! ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
  log "building mmcv $MMCV_VERSION with ops for $tag (about 5 minutes on 2 cores)"
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  "$py" -m pip download -q --no-deps --no-build-isolation --no-binary :all: \
    "mmcv==$MMCV_VERSION" -d "$build"
  tar -xzf "$build"/mmcv-$MMCV_VERSION.tar.gz -C "$build"
  src="$build/mmcv-$MMCV_VERSION"
  # torch >= 2.10 headers need C++20; mmcv's setup.py hard-codes -std=c++17 after torch's
  # own flags, so no environment variable can override it.
  if "$py" -c "import torch,sys; v=tuple(int(x) for x in torch.__version__.split('+')[0].split('.')[:2]); sys.exit(0 if v >= (2, 10) else 1)"; then
    n=$(grep -c -- "-std=c++17" "$src/setup.py" || true)
    if [ "$n" -lt 1 ]; then
      echo "[install] mmcv $MMCV_VERSION setup.py has no -std=c++17 flag: not the file this patch expects" >&2
      exit 1
    fi
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
  fi
  mkdir -p "$wheel_dir"
  (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" CFLAGS="${CFLAGS:--g0}" \
     CXXFLAGS="${CXXFLAGS:--g0}" "$py" -m pip wheel -q --no-build-isolation --no-deps . -w "$wheel_dir")
fi
pip_ -q "$wheel_dir"/mmcv-*.whl

# openmim's own dependency chain (opendatalab -> openxlab) downgrades setuptools and
# friends; install it without dependencies plus the ones it really imports.
pip_ -q --no-deps "openmim==0.3.9"
pip_ -q -r "$here/requirements.txt"
# Editable install in "compat" mode (the repo root goes on sys.path through a .pth file).
pip_ -q --no-deps --no-build-isolation -e "$here" --config-settings editable_mode=compat
site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
# mim and mmengine locate a package's configs as <dist location>/<name>/.mim, and an
# editable install's dist location is site-packages: link the package there.
if [ ! -e "$site/kd_mmdet" ] || [ -L "$site/kd_mmdet" ]; then
  ln -sfn "$here/kd_mmdet" "$site/kd_mmdet"
fi
# Fixes that must be active before mmrazor is imported (see kd_mmdet/compat.py).
echo "import kd_mmdet_startup" > "$site/kd_mmdet_startup.pth"

"$py" - <<'PY'
import mmcv, mmcv.ops, mmdet, mmengine, torch
import kd_mmdet
print(f"[install] torch {torch.__version__}, mmcv {mmcv.__version__} (ops), "
      f"mmengine {mmengine.__version__}, mmdet {mmdet.__version__}, kd_mmdet {kd_mmdet.__version__}")
PY
echo "$want" > "$stamp"
log "done in $(( $(date +%s) - t0 )) s"
