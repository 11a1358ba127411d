# Projector recipe (Miles & Mikolajczyk, AAAI 2024): pooled last-stage features; student
# -> linear projector to the teacher's width -> BatchNorm without affine, teacher ->
# BatchNorm without affine; LogSum distance (alpha 4, weight 2 as in the authors' code)
# plus KD on the logits (T=1, weight 1) plus CE (weight 1). Toy pair.
_base_ = ['../../_base_/cls_pair_digits.py', '../../_base_/distillers/cls_distillers.py']

model = dict(
    distiller=dict(
        _base_.projector_distiller,
        connectors=dict(
            proj_S=dict(_base_.projector_S, in_channels=_base_.student_channels[-1],
                        out_channels=_base_.teacher_channels[-1]),
            bn_T=dict(_base_.projector_T, out_channels=_base_.teacher_channels[-1]))))
