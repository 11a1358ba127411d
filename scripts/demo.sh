#!/usr/bin/env bash
# The demo on the bundled digits data: install if needed, generate the data set, train the
# GFL student (ResNet-18 at 32 base channels, FPN 64) alone and distilled with CWD on the
# five FPN levels, side by side, evaluate both with COCO box mAP (the distillation's
# validation also evaluates the teacher) and print the reproduction table.
# The teacher is bundled: demo/gfl_teacher-r18_digits.pth, the toy teacher's FPN and head
# (128 channels) on a ResNet-18 pretrained as a digit classifier, trained once by
# scripts/demo_teacher.sh (about 20 min on 2 cores; DEMO_TEACHER=train rebuilds it here).
# Training a teacher would cost the demo several times its student's time on a CPU.
# On CPUs with native bf16 (avx512_bf16 / amx_bf16; DEMO_PRECISION=auto, the default) the
# teacher runs in bf16 + channels_last inside the distillation (teacher_precision); the
# students train in fp32. Elsewhere, or with DEMO_PRECISION=fp32, everything is fp32.
#   bash scripts/demo.sh
#   DEMO_SEEDS="0 1 2" bash scripts/demo.sh   # student and CWD at three seeds (the spread);
#                                             # runs that finished before are not repeated
# Other knobs: DEMO_EPOCHS, DEMO_TRAIN, DEMO_VAL, DEMO_SIZE (px), DEMO_PRECISION
# (auto | bf16 | fp32), DEMO_TEACHER (a checkpoint, or train), DEMO_WORK (default
# work_dirs/demo).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
t0=$(date +%s)
bash "$here/scripts/install.sh"
cd "$here"
py="${KD_MMDET_VENV:-$here/.venv}/bin/python"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}" PYTHONWARNINGS=ignore

epochs="${DEMO_EPOCHS:-12}"
teacher="${DEMO_TEACHER:-demo/gfl_teacher-r18_digits.pth}"
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
if [ "$teacher" = train ]; then
  teacher="$work/gfl_teacher-r18_digits.pth"
  [ -f "$teacher" ] || bash scripts/demo_teacher.sh "$teacher"
fi
if [ ! -f "$teacher" ]; then
  echo "[demo] no teacher checkpoint at '$teacher' (DEMO_TEACHER: a .pth, or 'train')" >&2
  exit 2
fi
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
distill_opts=()
if [ "$DEMO_PRECISION" = bf16 ]; then
  distill_opts=(model.teacher_precision=bf16 model.teacher_channels_last=True)
fi

train() {  # name config epochs [extra cfg options]: one line when it ends; skipped when
  local name=$1 config=$2 n=$3 s; shift 3  # its last checkpoint exists
  s=$(date +%s)
  if [ -f "$work/$name/epoch_$n.pth" ]; then
    printf '[demo] %-10s %s, %s epochs: done before\n' "$name" "$config" "$n"
    return
  fi
  if ! "$py" tools/train.py "$config" --epochs "$n" --work-dir "$work/$name" \
       --cfg-options "${opts[@]}" "$@" > "$work/$name.log" 2>&1; then
    printf '[demo] %-10s failed; see %s\n' "$name" "$work/$name.log"
    tail -20 "$work/$name.log"
    return 1
  fi
  printf '[demo] %-10s %s, %s epochs: %s s\n' "$name" "$config" "$n" "$(( $(date +%s) - s ))"
}
mkdir -p "$work"
# The student and its CWD twin train side by side, each on half the cores: on a CPU two
# runs of half the threads finish sooner than the same runs one after the other.
threads=$(( OMP_NUM_THREADS / 2 > 0 ? OMP_NUM_THREADS / 2 : 1 ))
echo "[demo] $num_train / $num_val images of $size px in $data; teacher $teacher;" \
  "student and CWD side by side, $threads thread(s) each; $DEMO_PRECISION teacher"
runs=()
for seed in "${seeds[@]}"; do
  suffix=$([ "$seed" = 0 ] || echo "_seed$seed")  # seed 0: student, cwd (the default runs)
  OMP_NUM_THREADS=$threads train "student$suffix" configs/toy/gfl_student_digits.py \
    "$epochs" randomness.seed="$seed" &
  student=$!
  OMP_NUM_THREADS=$threads train "cwd$suffix" demo/cwd_fpn_gfl-r18_digits.py "$epochs" \
    randomness.seed="$seed" model.teacher_ckpt="$teacher" "${distill_opts[@]}" &
  cwd=$!
  failed=0
  wait "$student" || failed=1
  wait "$cwd" || failed=1
  [ "$failed" = 0 ] || exit 1
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
