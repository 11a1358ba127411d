# ReviewKD on the five FPN outputs, toy Faster R-CNN pair on the digits set.
# Settings of the official detection configs: configs/_base_/distillers/reviewkd_fpn.py.
_base_ = ['../_base_/pairs/faster-rcnn_digits.py', '../_base_/distillers/reviewkd_fpn.py']

# five FPN levels: P2..P6, strides 4..64 (ReviewKD uses all of them, as detectron2's p2..p6)
model = dict(distiller=dict(
    _base_.reviewkd_fpn_distiller,
    connectors=dict(review=dict(
        _base_.reviewkd_connector,
        in_channels=[64] * 5,  # level i: student FPN width
        out_channels=128, mid_channels=128))))
