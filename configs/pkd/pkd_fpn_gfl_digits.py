# PKD on the FPN, toy GFL pair on the digits set (R50, FPN 128 -> R18 half width, 64).
# Weight of the CrossKD + PKD GFL recipe (6 per level); its levels are all five, P3..P7.
# Here P3..P5 only: at 96 px P6 and P7 are 2x2 and 1x1 maps that hold no object (ATSS
# assigns every digit to P3 or P4), and on them PKD's per-channel standardisation runs
# over the batch's 32 or 8 values; their gradient was the largest of the five (P7's 3.0x
# the task gradient early in training, 2.2x late) and orthogonal to the task's (cosine
# about 0; docs/quality/archive/grad_share.md). The levels were chosen in an earlier
# setting on the images they were scored on (docs/quality/NOTEBOOK.md, "Diagnosis"); the
# held-out benchmark re-chooses them on val (docs/benchmarks.md). The COCO configs keep
# their recipes' levels (on COCO every level holds objects).
# Teacher first:  python tools/train.py configs/toy/gfl_teacher_digits.py
_base_ = ['../_base_/pairs/gfl_digits.py', '../_base_/distillers/pkd_fpn.py']

levels = range(3)  # neck outputs 0..2: P3, P4, P5
model = dict(
    distiller=dict(
        _base_.pkd_fpn_distiller,
        # Student FPN has 64 channels, the teacher's 128: a 1x1 conv per level.
        connectors={f'fpn{i}': _base_.toy_fpn_connectors[f'fpn{i}'] for i in levels},
        distill_losses={f'loss_pkd_fpn{i}': dict(_base_.pkd_loss, loss_weight=6.0)
                        for i in levels},
        loss_forward_mappings={f'loss_pkd_fpn{i}': _base_.pkd_level_mappings_connected[i]
                               for i in levels}))
