"""A small image-classification set built from real handwritten digits.

The source is scikit-learn's bundled ``load_digits`` (1,797 scans of 8×8 handwritten
digits, 10 classes), so nothing is downloaded. Each 32×32 RGB image holds one labelled
digit, tinted, rotated, scaled, sheared and shifted off centre, over a noisy colour
background with clutter: fragments of *other* digits, strokes, and a faint second digit
that is not the label. The clutter makes the task hard enough that a wider, deeper
classifier clearly beats a narrow one within a few CPU minutes, which is what a
distillation toy set needs. Train, val and (optionally) test draw from the three disjoint
pools of source scans (:func:`~kd_mmdet.datasets.digits_det.load_digit_scans`): unseen
handwriting at validation, where choices are made, and again at test, scored once.
Everything is a pure function of the seed.

The layout is mmpretrain's ``CustomDataset`` folder form, read unchanged::

    {out_dir}/train/<class>/<index>.png
    {out_dir}/val/<class>/<index>.png
    {out_dir}/test/<class>/<index>.png      (with num_test > 0)
"""
import os
import os.path as osp
from typing import Dict, Tuple

import numpy as np
from PIL import Image

from .digits_det import CLASSES, load_digit_scans

__all__ = ['CLASSES', 'render_digit', 'make_digits_classification']


def _to_image(a: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(a, 0, 1) * 255).astype(np.uint8))


def _warp(scan: np.ndarray, rng: np.random.Generator, size: int, scale: Tuple[float, float],
          max_angle: float, max_shift: float) -> np.ndarray:
    """An 8×8 scan under a random rotation, scale, shear and shift, as a (size, size) alpha."""
    angle = np.deg2rad(rng.uniform(-max_angle, max_angle))
    s = rng.uniform(*scale) * size / 8.0  # output pixels per scan pixel
    shear = rng.uniform(-0.3, 0.3)
    aspect = rng.uniform(0.8, 1.25)
    # Forward map (scan -> image): rotation · shear · anisotropic scale.
    cos, sin = np.cos(angle), np.sin(angle)
    fwd = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, shear], [0.0, 1.0]]) @ \
        np.diag([s * aspect, s / aspect])
    inv = np.linalg.inv(fwd)
    centre = np.array([size / 2, size / 2]) + rng.uniform(-max_shift, max_shift, 2) * size
    # PIL's affine maps each output pixel (x, y) to the input pixel inv · ((x, y) - centre) + 4.
    offset = np.array([4.0, 4.0]) - inv @ centre
    coeffs = (inv[0, 0], inv[0, 1], offset[0], inv[1, 0], inv[1, 1], offset[1])
    img = _to_image(scan).transform((size, size), Image.AFFINE, coeffs, Image.BILINEAR)
    return np.asarray(img, dtype=np.float32) / 255.0


def _paste(canvas: np.ndarray, alpha: np.ndarray, color: np.ndarray) -> None:
    canvas[:] = canvas * (1 - alpha[..., None]) + color * alpha[..., None]


def render_digit(rng: np.random.Generator, scans: np.ndarray, labels: np.ndarray, index: int,
                 size: int = 32) -> np.ndarray:
    """Draw scan ``index`` as one cluttered RGB image.

    Args:
        rng: the generator that all randomness comes from.
        scans: (K, 8, 8) float scans in [0, 1]; ``labels``: their (K,) classes.
        index: the scan to draw (its label is the image's label).
        size: side of the square image, px.

    Returns:
        uint8 array of shape (size, size, 3).
    """
    coarse = rng.uniform(0.0, 0.7, size=(3, 3, 3)).astype(np.float32)
    canvas = np.stack([np.asarray(_to_image(coarse[..., c]).resize((size, size),
                                                                   Image.BILINEAR),
                                  dtype=np.float32) / 255.0 for c in range(3)], axis=-1)
    # A faint distractor digit of another class, larger and behind the label.
    others = np.flatnonzero(labels != labels[index])
    distractor = scans[others[rng.integers(len(others))]]
    _paste(canvas, _warp(distractor, rng, size, (0.9, 1.3), 30, 0.3) * rng.uniform(0.1, 0.3),
           rng.uniform(0, 1, 3).astype(np.float32))
    # Clutter: quarter-fragments of random scans and thin strokes.
    for _ in range(rng.integers(2, 5)):
        frag = np.zeros((8, 8), np.float32)
        r0, c0 = rng.integers(0, 5, size=2)
        frag[2:6, 2:6] = scans[rng.integers(len(scans))][r0:r0 + 4, c0:c0 + 4]
        _paste(canvas, _warp(frag, rng, size, (0.4, 0.9), 180, 0.45) * rng.uniform(0.3, 0.8),
               rng.uniform(0, 1, 3).astype(np.float32))
    for _ in range(rng.integers(0, 3)):
        stroke = np.zeros((size, size), np.float32)
        if rng.random() < 0.5:
            stroke[rng.integers(size), :] = 1.0
        else:
            stroke[:, rng.integers(size)] = 1.0
        _paste(canvas, stroke * rng.uniform(0.2, 0.6), rng.uniform(0, 1, 3).astype(np.float32))
    # The labelled digit, with a tint that keeps some contrast with the background.
    alpha = np.clip(_warp(scans[index], rng, size, (0.65, 1.0), 20, 0.08) * 1.5, 0, 1)
    tint = rng.uniform(0.0, 1.0, 3).astype(np.float32)
    tint[rng.integers(3)] = rng.choice([0.05, 0.95])
    _paste(canvas, alpha * rng.uniform(0.85, 1.0), tint)
    canvas += rng.normal(0.0, 0.06, size=canvas.shape).astype(np.float32)
    return (np.clip(canvas, 0, 1) * 255).astype(np.uint8)


def make_digits_classification(out_dir: str, num_train: int = 3000, num_val: int = 1000,
                               img_size: int = 32, seed: int = 0,
                               num_test: int = 0) -> Dict[str, int]:
    """Write ``{out_dir}/{train,val[,test]}/<class>/<index>.png`` (mmpretrain
    ``CustomDataset``).

    Each split cycles through its own pool of source scans in a seeded order, so every
    scan is used about equally often, each time under a different warp and clutter.

    Args:
        out_dir: folder to write into (created).
        num_train, num_val, num_test: number of images per split (no test split at 0);
            each split has its own random stream, so adding a test split leaves train and
            val byte-equal.
        img_size: side of the square images, px (>= 16).
        seed: one seed for everything; equal seeds write byte-equal files.

    Returns:
        ``{split: number of images written}``.
    """
    if img_size < 16:
        raise ValueError(f'make_digits_classification: img_size must be >= 16, got {img_size}')
    if num_test < 0:
        raise ValueError(f'make_digits_classification: num_test must be >= 0, got {num_test}')
    pools = load_digit_scans(seed)
    counts = {}
    splits = [('train', num_train), ('val', num_val)] + ([('test', num_test)] if num_test
                                                         else [])
    for split_idx, (split, count) in enumerate(splits):
        scans, labels, _ = pools[split]
        rng = np.random.default_rng([seed, split_idx, 1])
        for name in CLASSES:
            os.makedirs(osp.join(out_dir, split, name), exist_ok=True)
        order = np.concatenate([rng.permutation(len(scans))
                                for _ in range(count // len(scans) + 1)])[:count]
        for i, k in enumerate(order):
            image = render_digit(rng, scans, labels, int(k), img_size)
            Image.fromarray(image).save(
                osp.join(out_dir, split, CLASSES[labels[k]], f'{i:05d}.png'))
        counts[split] = count
    return counts
