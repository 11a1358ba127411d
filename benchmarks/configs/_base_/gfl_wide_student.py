# The toy GFL student's neck and head at the teacher's widths (configs/_base_/models/
# toy_detectors.py: FPN 128, a head of 4 stacked convs of 128); its ResNet-18 backbone at
# 32 base channels is kept. At these widths the student can start its neck and head from
# the teacher's, as the official FGD recipe does ("inherit", Yang et al. CVPR 2022): every
# tensor but the FPN's lateral 1x1 convs, which read the backbone's narrower outputs.
wide_student = dict(
    neck=dict(out_channels=128),
    bbox_head=dict(in_channels=128, feat_channels=128, stacked_convs=4))
