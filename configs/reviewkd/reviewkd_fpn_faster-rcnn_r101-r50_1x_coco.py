# ReviewKD on the FPN: Faster R-CNN R101 2x (39.8) -> Faster R-CNN R50 1x (37.4).
# Official settings (dvlab-research/ReviewKD Detection/configs/ReviewKD-R50-R101.yaml):
# ABF review path over the 5 FPN outputs p2..p6 (256 channels in, mid and out), HCL weight
# 1.0, no inherit initialisation, no gradient clipping; 180k iterations x 8 images at
# lr 0.01 = mmdet's 1x (12 epochs at lr 0.02 x 16 images), kept from the student recipe.
# (Their teacher is detectron2's R101 Faster R-CNN; here mmdet's R101 2x.)
_base_ = ['../_base_/pairs/faster-rcnn_r101-r50_1x_coco.py', '../_base_/distillers/reviewkd_fpn.py']

# five FPN levels: P2..P6
model = dict(distiller=dict(
    _base_.reviewkd_fpn_distiller,
    connectors=dict(review=dict(
        _base_.reviewkd_connector,
        in_channels=[256] * 5,  # level i: student FPN width
        out_channels=256, mid_channels=256))))
