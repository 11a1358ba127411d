# ReviewKD on the five FPN outputs, toy GFL pair on the digits set.
# Settings of the official detection configs: configs/_base_/distillers/reviewkd_fpn.py.
_base_ = ['../_base_/pairs/gfl_digits.py', '../_base_/distillers/reviewkd_fpn.py']

# five FPN levels: P3..P7, strides 8..128
model = dict(distiller=dict(
    _base_.reviewkd_fpn_distiller,
    connectors=dict(review=dict(
        _base_.reviewkd_connector,
        in_channels=[64] * 5,  # level i: student FPN width
        out_channels=128, mid_channels=128))))
