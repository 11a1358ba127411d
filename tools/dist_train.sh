#!/usr/bin/env bash
# Train with N processes on this node (one per GPU; on a CPU-only machine, gloo processes).
#   bash tools/dist_train.sh CONFIG N [train.py options...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, PORT as for torchrun.
set -euo pipefail
CONFIG=$1
NPROC=$2
shift 2
exec python -m torch.distributed.run \
  --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
  --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
  --nproc_per_node="$NPROC" \
  "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "$@"
