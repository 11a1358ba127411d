"""scripts/install.sh prints only its own progress lines; pip's output goes to the log.

The install runs against a stand-in venv whose ``bin/python`` answers pip commands the way
pip does on a fresh machine (a resolver ERROR about openmim's opendatalab, "WARNING:
Location ... is ignored" lines) without installing anything, and hands every other call
(torch's build tag, the final import check) to this interpreter. A cached mmcv wheel is
put where the script looks, so nothing is built.
"""
import os
import subprocess
import sys

import pytest

from tests.test_train_e2e import REPO

SHIM = r'''#!/usr/bin/env bash
# pip: noise on stdout and stderr as on a fresh machine; FAIL_ON=<word> fails the pip call
# whose arguments contain it; PIP_CHECK_OUT is what `pip check` reports.
if [ "$1" = -m ] && [ "$2" = pip ]; then
  if [ -n "${FAIL_ON:-}" ] && [[ " $* " == *"$FAIL_ON"* ]]; then
    echo "ERROR: No matching distribution found for $FAIL_ON" >&2; exit 1
  fi
  case "$3" in
    install)
      echo "WARNING: Location 'file:///opt/pypi/simple/x/' is ignored: it is neither a file" \
           "nor a directory."
      echo "ERROR: pip's dependency resolver does not currently take into account all the" \
           "packages that are installed." >&2
      echo "openmim 0.3.9 requires opendatalab, which is not installed." >&2
      exit 0;;
    check)
      printf '%s\n' "$PIP_CHECK_OUT"; exit 1;;
  esac
  exit 1
fi
if [ "$1" = -c ] && [[ "$2" == *sysconfig* ]]; then echo "$FAKE_SITE"; exit 0; fi
exec REAL_PYTHON "$@"
'''
OPENMIM_ONLY = 'openmim 0.3.9 requires opendatalab, which is not installed.'


@pytest.fixture
def fake_venv(tmp_path):
    venv, site, cache = tmp_path / 'venv', tmp_path / 'site', tmp_path / 'cache'
    (venv / 'bin').mkdir(parents=True)
    site.mkdir()
    shim = venv / 'bin' / 'python'
    shim.write_text(SHIM.replace('REAL_PYTHON', sys.executable))
    shim.chmod(0o755)
    tag = subprocess.run(  # the script's own tag computation
        [sys.executable, '-c', 'import torch; cuda = torch.version.cuda if '
         'torch.cuda.is_available() else None; print(f"torch{torch.__version__}-'
         '{\'cu\' + cuda if cuda else \'cpu\'}")'], capture_output=True, text=True).stdout
    wheel_dir = cache / f'mmcv-2.1.0-{tag.strip()}'
    wheel_dir.mkdir(parents=True)
    (wheel_dir / 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl').write_bytes(b'')
    env = dict(os.environ, KD_MMDET_VENV=str(venv), KD_MMDET_CACHE=str(cache),
               FAKE_SITE=str(site), PIP_CHECK_OUT=OPENMIM_ONLY)
    return venv, site, env


def install(env, **extra):
    return subprocess.run(['bash', 'scripts/install.sh'], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env=dict(env, **extra))


@pytest.mark.slow
def test_a_clean_install_prints_only_progress_lines(fake_venv):
    """Every line is the script's own; pip's ERROR and WARNING lines are in the log."""
    venv, site, env = fake_venv
    out = install(env)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = (out.stdout + out.stderr).splitlines()
    assert lines and all(line.startswith('[install] ') for line in lines), lines
    assert 'ERROR' not in out.stdout + out.stderr and 'WARNING' not in out.stdout + out.stderr
    assert any('checking requirements (pip check) ... ' in line for line in lines)
    assert lines[-1].startswith('[install] done in ')
    log = (venv / 'kd_mmdet-install.log').read_text()
    assert "WARNING: Location 'file:///opt/pypi/simple/x/' is ignored" in log
    assert OPENMIM_ONLY in log
    assert (venv / '.kd_mmdet_installed').is_file()
    assert os.path.realpath(site / 'kd_mmdet') == os.path.join(REPO, 'kd_mmdet')
    assert (site / 'kd_mmdet_startup.pth').read_text() == 'import kd_mmdet_startup\n'


@pytest.mark.slow
def test_a_failing_step_says_so_and_shows_the_log(fake_venv):
    """The step's line ends in 'failed', the log's tail follows, the exit status is 1."""
    venv, _, env = fake_venv
    out = install(env, FAIL_ON='requirements.txt')
    assert out.returncode == 1
    assert 'rest of requirements.txt ... failed' in out.stdout
    assert 'ERROR: No matching distribution found for requirements.txt' in out.stderr
    assert f'the last lines of {venv}/kd_mmdet-install.log' in out.stderr
    assert not (venv / '.kd_mmdet_installed').exists()


@pytest.mark.slow
def test_pip_check_allows_only_openmims_missing_chain(fake_venv):
    """Any other broken requirement fails the install at the final pip check."""
    _, _, env = fake_venv
    broken = (OPENMIM_ONLY + '\nmmdet 3.3.0 has requirement mmcv<2.2.0,>=2.0.0rc4, but you '
              'have mmcv 2.2.0.')
    out = install(env, PIP_CHECK_OUT=broken)
    assert out.returncode == 1
    assert 'checking requirements (pip check) ... failed' in out.stdout
    assert 'mmdet 3.3.0 has requirement mmcv' in out.stderr
