#!/usr/bin/env bash
# The demo on the bundled digits data: install if needed, generate the data set, train a
# GFL teacher (R50) and student (R18) briefly, distil the student with CWD on the FPN,
# evaluate both with COCO box mAP and print the reproduction table. The teacher gets twice
# the student's epochs: a from-scratch ResNet-50 needs them to overtake the small student.
#   bash scripts/demo.sh   (DEMO_EPOCHS, DEMO_TEACHER_EPOCHS, DEMO_TRAIN, DEMO_VAL: sizes)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
t0=$(date +%s)
bash "$here/scripts/install.sh"
cd "$here"
py="${KD_MMDET_VENV:-$here/.venv}/bin/python"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}" PYTHONWARNINGS=ignore

epochs="${DEMO_EPOCHS:-6}"
teacher_epochs="${DEMO_TEACHER_EPOCHS:-$((2 * epochs))}"
data=data/digits_demo
work=work_dirs/demo
if [ ! -f "$data/annotations/instances_val.json" ]; then
  "$py" tools/make_digits.py "$data" --train "${DEMO_TRAIN:-600}" --val "${DEMO_VAL:-150}"
fi
ann="$data/annotations/instances_val.json"
opts=(train_dataloader.dataset.data_root="$data/" val_dataloader.dataset.data_root="$data/"
      test_dataloader.dataset.data_root="$data/" val_evaluator.ann_file="$ann"
      test_evaluator.ann_file="$ann")

train() {  # name config epochs [extra cfg options]
  local name=$1 config=$2 n=$3; shift 3
  local s; s=$(date +%s)
  printf '[demo] %-8s %s, %s epochs ... ' "$name" "$config" "$n"
  if ! "$py" tools/train.py "$config" --epochs "$n" --work-dir "$work/$name" \
       --cfg-options "${opts[@]}" "$@" > "$work/$name.log" 2>&1; then
    echo "failed; see $work/$name.log"; tail -20 "$work/$name.log"; exit 1
  fi
  echo "$(( $(date +%s) - s )) s"
}
mkdir -p "$work"
train teacher configs/toy/gfl_teacher_digits.py "$teacher_epochs"
train student configs/toy/gfl_student_digits.py "$epochs"
train cwd configs/cwd/cwd_fpn_gfl_digits.py "$epochs" \
  model.teacher_ckpt="$work/teacher/epoch_$teacher_epochs.pth"

echo
"$py" tools/repro_table.py "$work/student" "$work/cwd" --baseline "$work/student" \
  --csv "$work/table.csv"
echo
echo "[demo] done in $(( $(date +%s) - t0 )) s; logs and checkpoints in $work/"
