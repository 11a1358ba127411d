#!/usr/bin/env bash
# The demo on the bundled digits data: install if needed, generate the data set, train a
# GFL teacher (R50) and student (R18), distil the student with CWD on the FPN, evaluate
# both with COCO box mAP and print the reproduction table. The teacher gets twice the
# student's epochs: a from-scratch ResNet-50 needs them to overtake the small student.
# The setting is docs/benchmarks.md's GFL pair (512 / 128 images of 96 px, 24 / 12
# epochs), where CWD's gain is several times the spread between seeds.
# On CPUs with native bf16 (avx512_bf16 / amx_bf16; DEMO_PRECISION=auto, the default) the
# teacher trains under bf16 autocast and runs in bf16 + channels_last inside the
# distillation (kd_mmdet.AutocastOptimWrapper, teacher_precision); the students stay
# fp32. Elsewhere, or with DEMO_PRECISION=fp32, everything is fp32.
#   bash scripts/demo.sh
#   DEMO_SEEDS="0 1 2" bash scripts/demo.sh   # student and CWD at three seeds (the spread);
#                                             # runs that finished before are not repeated
# Other knobs: DEMO_EPOCHS, DEMO_TEACHER_EPOCHS, DEMO_TRAIN, DEMO_VAL, DEMO_SIZE (px),
# DEMO_PRECISION (auto | bf16 | fp32), DEMO_WORK (default work_dirs/demo).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
t0=$(date +%s)
bash "$here/scripts/install.sh"
cd "$here"
py="${KD_MMDET_VENV:-$here/.venv}/bin/python"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}" PYTHONWARNINGS=ignore

epochs="${DEMO_EPOCHS:-12}"
teacher_epochs="${DEMO_TEACHER_EPOCHS:-$((2 * epochs))}"
num_train="${DEMO_TRAIN:-512}"
num_val="${DEMO_VAL:-128}"
size="${DEMO_SIZE:-96}"
read -r -a seeds <<< "${DEMO_SEEDS:-0}"
DEMO_PRECISION="${DEMO_PRECISION:-auto}"
if [ "$DEMO_PRECISION" = auto ]; then  # the flags of kd_mmdet's precision.BF16_CPU_FLAGS
  if grep -qw -e avx512_bf16 -e amx_bf16 /proc/cpuinfo 2>/dev/null; then
    DEMO_PRECISION=bf16
  else
    DEMO_PRECISION=fp32
  fi
fi
if [ "$DEMO_PRECISION" != fp32 ] && [ "$DEMO_PRECISION" != bf16 ]; then
  echo "[demo] DEMO_PRECISION must be auto, fp32 or bf16, got '$DEMO_PRECISION'" >&2
  exit 2
fi
data="data/digits_demo_${num_train}-${num_val}_${size}px"
work="${DEMO_WORK:-work_dirs/demo}"
if [ ! -f "$data/annotations/instances_val.json" ]; then
  "$py" tools/make_digits.py "$data" --train "$num_train" --val "$num_val" --size "$size" \
    > /dev/null
fi
ann="$data/annotations/instances_val.json"
opts=(train_dataloader.dataset.data_root="$data/" val_dataloader.dataset.data_root="$data/"
      test_dataloader.dataset.data_root="$data/" val_evaluator.ann_file="$ann"
      test_evaluator.ann_file="$ann")
# The image side: the Resize step of each loader's pipeline (found, not assumed).
while IFS= read -r opt; do opts+=("$opt"); done < <("$py" - "$size" <<'PY' 2>/dev/null
import sys
from mmengine.config import Config
cfg, size = Config.fromfile('configs/toy/gfl_student_digits.py'), int(sys.argv[1])
for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
    for i, step in enumerate(cfg[loader].dataset.pipeline):
        if step['type'] == 'Resize':
            print(f'{loader}.dataset.pipeline.{i}.scale=({size},{size})')
PY
)
teacher_opts=() distill_opts=()
if [ "$DEMO_PRECISION" = bf16 ]; then
  teacher_opts=(optim_wrapper.type=kd_mmdet.AutocastOptimWrapper optim_wrapper.dtype=bfloat16)
  distill_opts=(model.teacher_precision=bf16 model.teacher_channels_last=True)
fi

train() {  # name config epochs [extra cfg options]; skipped when its last checkpoint exists
  local name=$1 config=$2 n=$3 s; shift 3
  s=$(date +%s)
  printf '[demo] %-10s %s, %s epochs ... ' "$name" "$config" "$n"
  if [ -f "$work/$name/epoch_$n.pth" ]; then
    echo "done before"
    return
  fi
  if ! "$py" tools/train.py "$config" --epochs "$n" --work-dir "$work/$name" \
       --cfg-options "${opts[@]}" "$@" > "$work/$name.log" 2>&1; then
    echo "failed; see $work/$name.log"; tail -20 "$work/$name.log"; exit 1
  fi
  echo "$(( $(date +%s) - s )) s"
}
mkdir -p "$work"
echo "[demo] $num_train / $num_val images of $size px in $data; $DEMO_PRECISION teacher"
train teacher configs/toy/gfl_teacher_digits.py "$teacher_epochs" "${teacher_opts[@]}" \
  randomness.seed=0
runs=()
for seed in "${seeds[@]}"; do
  suffix=$([ "$seed" = 0 ] || echo "_seed$seed")  # seed 0: student, cwd (the default runs)
  train "student$suffix" configs/toy/gfl_student_digits.py "$epochs" randomness.seed="$seed"
  train "cwd$suffix" configs/cwd/cwd_fpn_gfl_digits.py "$epochs" randomness.seed="$seed" \
    model.teacher_ckpt="$work/teacher/epoch_$teacher_epochs.pth" "${distill_opts[@]}"
  runs+=("$work/student$suffix" "$work/cwd$suffix")
done

echo
"$py" tools/repro_table.py "${runs[@]}" --baseline "${runs[0]}" --csv "$work/table.csv"
if [ "${#seeds[@]}" -gt 1 ]; then  # mean and sample standard deviation over the seeds
  "$py" - "${runs[@]}" <<'PY'
import glob, json, os.path as osp, statistics, sys
def final_map(work_dir):
    scalars = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))[-1]
    rows = [line for line in open(scalars) if 'coco/bbox_mAP' in line]
    return 100 * json.loads(rows[-1])['coco/bbox_mAP'] if rows else None
for kind in ('student', 'cwd'):
    maps = [final_map(w) for w in sys.argv[1:]
            if osp.basename(w) == kind or osp.basename(w).startswith(kind + '_seed')]
    if None in maps:
        continue
    print(f'[demo] {kind:8s} mAP over {len(maps)} seeds: {statistics.mean(maps):.2f} '
          f'+- {statistics.stdev(maps):.2f} ({", ".join(f"{m:.1f}" for m in maps)})')
PY
fi
echo
echo "[demo] done in $(( $(date +%s) - t0 )) s; logs and checkpoints in $work/"
