#!/usr/bin/env bash
# Train on a Slurm cluster: one task per GPU, started by srun, ranks set up by mmengine's
# Slurm launcher (SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST, SLURM_LOCALID).
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#     bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options...]
# The same variables as mmdet's tools/slurm_train.sh. GRES (default gpu:$GPUS_PER_NODE)
# is passed as --gres; GRES= (empty) leaves it out, for partitions without GPUs, where
# the tasks train on CPU with gloo. `mim train kd_mmdet CONFIG --launcher slurm -G 8
# -g 8 -p PARTITION` runs the same srun command.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]" >&2
  exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
shift 4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
GRES=${GRES-gpu:$GPUS_PER_NODE}
read -r -a srun_args <<< "${SRUN_ARGS:-}"
gres=()
if [ -n "$GRES" ]; then
  gres=(--gres="$GRES")
fi
tools="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

PYTHONPATH="$(dirname "$tools")${PYTHONPATH:+:$PYTHONPATH}" \
exec srun -p "$PARTITION" \
  --job-name="$JOB_NAME" \
  "${gres[@]}" \
  --ntasks="$GPUS" \
  --ntasks-per-node="$GPUS_PER_NODE" \
  --cpus-per-task="$CPUS_PER_TASK" \
  --kill-on-bad-exit=1 \
  "${srun_args[@]}" \
  python -u "$tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher=slurm "$@"
