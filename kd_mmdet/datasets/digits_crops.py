"""A digit-crop classification set that stands in for ImageNet pretraining of the toy
detectors' backbones.

mmdet's COCO recipes start every backbone from ImageNet weights, freeze the stem and first
stage and keep BN statistics fixed (``frozen_stages=1, norm_eval=True``). The digits
detectors can follow that recipe only if their backbones were first trained as
classifiers on images like the ones they will detect. This set provides them: detection
images are rendered exactly as :func:`kd_mmdet.datasets.make_digits_detection` draws them
(same background, clutter and digit scales, at the detector's image size), and every
pasted digit is cut out with some context around its box and resized to a fixed side —
so a crop holds the digit at the scale the detector sees it, plus the fragments, strokes
and neighbouring digits that surround it in a detection image.

Every crop comes from the detection set's *training* pool of scans (same ``seed`` → same
pools, :func:`~kd_mmdet.datasets.digits_det.load_digit_scans`), so no scan of the
detection val or test pools is seen in pretraining. That pool is split once more
(``crop_pools``): ``train`` crops paste one part, ``val`` crops the other, so the
pretraining curve still measures generalisation to unseen writers. The images differ
from the detection set's (another random stream), as ImageNet's differ from COCO's.

The layout is mmpretrain's ``CustomDataset`` folder form::

    {out_dir}/train/<class>/<index>.png
    {out_dir}/val/<class>/<index>.png
"""
import os
import os.path as osp
from typing import Dict

import numpy as np
from PIL import Image

from .digits_det import CLASSES, ScanPool, load_digit_scans, render_image

__all__ = ['crop_object', 'crop_pools', 'make_digits_crops']

# Added to the detection set's random streams so that the crops come from other images.
_STREAM = 7


def crop_pools(seed: int, val_fraction: float = 0.2) -> Dict[str, ScanPool]:
    """The detection set's training pool of scans split into the pretraining's
    ``train`` and ``val`` pools (a seeded permutation; its first ``val_fraction`` is val).
    """
    pool = load_digit_scans(seed)['train']
    order = np.random.default_rng([seed, _STREAM]).permutation(len(pool.labels))
    n_val = int(round(len(order) * val_fraction))
    return {'train': pool.subset(order[n_val:]), 'val': pool.subset(order[:n_val])}


def crop_object(image: np.ndarray, box, crop_size: int, context: float) -> np.ndarray:
    """Cut a square around ``box`` (x, y, w, h) with ``context`` of its longer side on
    every side, pad with the image's edge pixels where it leaves the image, and resize it
    to ``crop_size``. Returns uint8 (crop_size, crop_size, 3)."""
    x, y, w, h = box
    side = max(w, h) * (1 + 2 * context)
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = max(1, int(round(side)))
    pad = max(0, -x0, -y0, x0 + s - image.shape[1], y0 + s - image.shape[0])
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode='edge')
    patch = padded[y0 + pad:y0 + pad + s, x0 + pad:x0 + pad + s]
    return np.asarray(Image.fromarray(patch).resize((crop_size, crop_size), Image.BILINEAR))


def make_digits_crops(out_dir: str, num_train: int = 10000, num_val: int = 2000,
                      img_size: int = 96, crop_size: int = 40, context: float = 0.25,
                      seed: int = 0) -> Dict[str, int]:
    """Write ``{out_dir}/{train,val}/<class>/<index>.png`` (mmpretrain ``CustomDataset``).

    Args:
        out_dir: folder to write into (created).
        num_train, num_val: number of crops per split (detection images are rendered
            until there are enough).
        img_size: side of the detection images the crops are cut from, px — the
            detector's image size, so that digits have the scales it sees.
        crop_size: side of a crop, px.
        context: margin around a box, as a fraction of its longer side.
        seed: the detection set's seed (it decides its pools of scans, and so
            ``crop_pools``); equal arguments write byte-equal files.

    Returns:
        ``{split: number of crops written}``.
    """
    if crop_size < 16:
        raise ValueError(f'make_digits_crops: crop_size must be >= 16, got {crop_size}')
    if context < 0:
        raise ValueError(f'make_digits_crops: context must be >= 0, got {context}')
    pools = crop_pools(seed)
    counts = {}
    for split_idx, (split, count) in enumerate((('train', num_train), ('val', num_val))):
        scans, labels, _ = pools[split]
        rng = np.random.default_rng([seed, split_idx, _STREAM])
        for name in CLASSES:
            os.makedirs(osp.join(out_dir, split, name), exist_ok=True)
        written = 0
        while written < count:
            image, objects = render_image(rng, scans, labels, img_size)
            for box, label, _ in objects:
                if written == count:
                    break
                crop = crop_object(image, box, crop_size, context)
                Image.fromarray(crop).save(
                    osp.join(out_dir, split, CLASSES[label], f'{written:05d}.png'))
                written += 1
        counts[split] = written
    return counts
