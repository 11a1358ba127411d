#!/usr/bin/env bash
# Train the teacher scripts/demo.sh distils from and write it, with its provenance, to
# demo/gfl_teacher-r18_digits.pth (or $1):
#   1. 10,000 / 2,000 digit crops of 40 px cut from 96 px images of the train / val
#      handwriting pools (tools/make_digits_crops.py);
#   2. the ResNet-18 (32 base channels) pretrained on them as a digit classifier for 8
#      epochs (benchmarks/configs/pretrain/resnet18-w32_digits-crops.py, the benchmark's
#      pretraining);
#   3. the GFL teacher (demo/gfl_teacher-r18_digits.py) trained from that backbone for 2
#      epochs on 2,560 images of 96 px;
#   4. its weights stored as float16 (half the file; they load into the fp32 teacher), with
#      the config, commit, validation mAP, pretraining top-1 and the source checkpoint's
#      sha256 in its meta.
# About 20 minutes on 2 CPU cores. Runs already done are kept.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/install.sh"
cd "$here"
py="${KD_MMDET_VENV:-$here/.venv}/bin/python"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}" PYTHONWARNINGS=ignore
out="${1:-demo/gfl_teacher-r18_digits.pth}"
work="${DEMO_TEACHER_WORK:-work_dirs/demo_teacher}"
crops="data/digits_crops_10000-2000_40px_from96px"
data="data/digits_demo-teacher_2560-128_96px"
pretrain_epochs=8 epochs=2
mkdir -p "$work"

step() {  # name command...; skipped when its output exists
  local name=$1 done=$2 s; shift 2
  s=$(date +%s)
  printf '[demo-teacher] %-9s ... ' "$name"
  if [ -e "$done" ]; then echo "done before"; return; fi
  if ! "$@" > "$work/$name.log" 2>&1; then
    echo "failed; see $work/$name.log"; tail -20 "$work/$name.log"; exit 1
  fi
  echo "$(( $(date +%s) - s )) s"
}
roots() {  # data_root options of a config's three loaders
  echo train_dataloader.dataset.data_root="$1/" val_dataloader.dataset.data_root="$1/" \
    test_dataloader.dataset.data_root="$1/"
}
step crops "$crops/val" "$py" tools/make_digits_crops.py "$crops" --train 10000 --val 2000 \
  --img-size 96 --crop-size 40
step pretrain "$work/pretrain/epoch_$pretrain_epochs.pth" "$py" tools/train.py \
  benchmarks/configs/pretrain/resnet18-w32_digits-crops.py --epochs "$pretrain_epochs" \
  --work-dir "$work/pretrain" --cfg-options $(roots "$crops") randomness.seed=0
step data "$data/annotations/instances_val.json" "$py" tools/make_digits.py "$data" \
  --train 2560 --val 128 --size 96
ann="$data/annotations/instances_val.json"
step teacher "$work/teacher/epoch_$epochs.pth" "$py" tools/train.py \
  demo/gfl_teacher-r18_digits.py --epochs "$epochs" --work-dir "$work/teacher" \
  --cfg-options $(roots "$data") val_evaluator.ann_file="$ann" test_evaluator.ann_file="$ann" \
  model.backbone.init_cfg.checkpoint="$work/pretrain/epoch_$pretrain_epochs.pth" \
  randomness.seed=0
"$py" - "$work" "$epochs" "$out" <<'PY'
"""Store the teacher's weights as float16 with where they came from."""
import glob, hashlib, json, os.path as osp, subprocess, sys
import kd_mmdet  # noqa: F401  lets torch.load read mmengine checkpoints with weights_only
import torch
work, epochs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
src = osp.join(work, 'teacher', f'epoch_{epochs}.pth')
ckpt = torch.load(src, map_location='cpu', weights_only=True)
state = {k: v.half() if v.is_floating_point() else v for k, v in ckpt['state_dict'].items()}
def final(work_dir, key, scale):
    """The last value of ``key`` a run logged, times ``scale``, to one decimal."""
    scalars = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))[-1]
    rows = [json.loads(line) for line in open(scalars) if key in line]
    return round(scale * rows[-1][key], 1)
commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True,
                        text=True).stdout.strip() or None
meta = dict(
    config='demo/gfl_teacher-r18_digits.py', epochs=epochs, built_by='scripts/demo_teacher.sh',
    commit=commit, source_sha256=hashlib.sha256(open(src, 'rb').read()).hexdigest(),
    val_bbox_mAP=final(osp.join(work, 'teacher'), 'coco/bbox_mAP', 100),
    pretrain_top1=final(osp.join(work, 'pretrain'), 'accuracy/top1', 1),  # logged in %
    dataset_meta=ckpt['meta'].get('dataset_meta'))
torch.save(dict(meta=meta, state_dict=state), out)
print(f'[demo-teacher] {out}: {sum(v.numel() for v in state.values()) / 1e6:.2f} M values; '
      f'{json.dumps({k: meta[k] for k in ("val_bbox_mAP", "pretrain_top1", "commit")})}')
PY
