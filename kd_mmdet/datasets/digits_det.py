"""A COCO-format detection set built from real handwritten digits.

The source is scikit-learn's bundled ``load_digits`` (1,797 scans of 8×8 handwritten
digits, 10 classes), so nothing is downloaded. Each image is a noisy background of
coloured blobs with unlabelled clutter (fragments of other digits and strokes), and 1–6
tinted digits pasted at log-uniform scales from small to large (COCO's small < 32²,
medium < 96², large ≥ 96² px all occur at the default 128 px), with partial overlap.
Train, val and test paste three disjoint pools of source scans, so val (where choices are
made) and test (scored once, after them) both measure generalisation to unseen
handwriting, and neither shares a writer's scan with the other. Every annotation records
its ``source``: the scan's index in ``load_digits``, so disjointness can be checked from
the annotation files alone. Everything is a pure function of the seed.
"""
import json
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Sequence, Tuple

import numpy as np
from PIL import Image

CLASSES: Tuple[str, ...] = tuple(str(i) for i in range(10))


class ScanPool(NamedTuple):
    """The source scans of one split: ``images`` float in [0, 1] of shape (K, 8, 8),
    ``labels`` (K,) and ``source`` (K,), each scan's index in ``load_digits``."""
    images: np.ndarray
    labels: np.ndarray
    source: np.ndarray

    def subset(self, index: np.ndarray) -> 'ScanPool':
        return ScanPool(self.images[index], self.labels[index], self.source[index])


SPLITS: Tuple[str, ...] = ('train', 'val', 'test')


def load_digit_scans(seed: int, val_fraction: float = 0.2, test_fraction: float = 0.2
                     ) -> Dict[str, ScanPool]:
    """Split the 1,797 scans once into three disjoint pools: train, val and test.

    One seeded permutation: its first ``val_fraction`` are val, the next
    ``test_fraction`` test, the rest train (1,079 / 359 / 359 at the defaults).

    Returns:
        ``{'train': ScanPool, 'val': ScanPool, 'test': ScanPool}``.
    """
    if not (0 < val_fraction and 0 < test_fraction and val_fraction + test_fraction < 1):
        raise ValueError(f'load_digit_scans: val_fraction {val_fraction} and test_fraction '
                         f'{test_fraction} must be > 0 and leave scans for train')
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0
    order = np.random.default_rng(seed).permutation(len(images))
    n_val = int(round(len(images) * val_fraction))
    n_test = int(round(len(images) * test_fraction))
    index = {'val': order[:n_val], 'test': order[n_val:n_val + n_test],
             'train': order[n_val + n_test:]}
    return {split: ScanPool(images[index[split]], digits.target[index[split]],
                            index[split]) for split in SPLITS}


def _resize(scan: np.ndarray, h: int, w: int) -> np.ndarray:
    img = Image.fromarray((scan * 255).astype(np.uint8))
    return np.asarray(img.resize((w, h), Image.BILINEAR), dtype=np.float32) / 255.0


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Low-frequency colour blobs plus pixel noise, (size, size, 3) float in [0, 1]."""
    coarse = rng.uniform(0.0, 0.6, size=(4, 4, 3)).astype(np.float32)
    bg = np.stack([_resize(coarse[..., c], size, size) for c in range(3)], axis=-1)
    bg += rng.normal(0.0, 0.06, size=bg.shape).astype(np.float32)
    return bg


def _paste(canvas: np.ndarray, alpha: np.ndarray, color: np.ndarray, x: int, y: int
           ) -> None:
    h, w = alpha.shape
    region = canvas[y:y + h, x:x + w]
    region[:] = region * (1 - alpha[..., None]) + color * alpha[..., None]


def render_image(rng: np.random.Generator, scans: np.ndarray, labels: np.ndarray,
                 size: int, max_objects: int = 6, max_iou: float = 0.3,
                 min_side: float = 0.08, max_side: float = 1.0
                 ) -> Tuple[np.ndarray, List[Tuple[List[float], int, int]]]:
    """Draw one image and its boxes.

    Returns:
        ``(image, objects)``: uint8 (size, size, 3) and a list of
        ``([x, y, w, h], label, k)`` with boxes tight on the pasted ink and ``k`` the
        index in ``scans`` of the pasted scan. Clutter fragments are cut from ``scans``
        too, so an image holds no handwriting from outside its pool.
    """
    canvas = _background(rng, size)
    # Clutter: unlabelled quarter-fragments of random scans and thin strokes.
    for _ in range(rng.integers(2, 6)):
        frag = scans[rng.integers(len(scans))]
        r0, c0 = rng.integers(0, 5, size=2)
        side = int(rng.integers(max(4, size // 16), max(5, size // 5)))
        alpha = _resize(frag[r0:r0 + 4, c0:c0 + 4], side, side) * rng.uniform(0.3, 0.8)
        x, y = rng.integers(0, size - side, size=2)
        _paste(canvas, alpha, rng.uniform(0, 1, 3).astype(np.float32), x, y)
    for _ in range(rng.integers(1, 4)):
        stroke = np.zeros((size, size), np.float32)
        if rng.random() < 0.5:
            stroke[rng.integers(size), :] = 1.0
        else:
            stroke[:, rng.integers(size)] = 1.0
        _paste(canvas, stroke * rng.uniform(0.2, 0.6), rng.uniform(0, 1, 3), 0, 0)

    objects: List[Tuple[List[float], int]] = []
    n_obj = int(rng.integers(1, max_objects + 1))
    # Largest first, so that smaller digits may partly cover larger ones.
    sides = np.sort(np.exp(rng.uniform(np.log(min_side), np.log(max_side), n_obj)))[::-1]
    for side in sides:
        for _attempt in range(20):
            k = int(rng.integers(len(scans)))
            h = max(6, int(round(side * size)))
            w = max(5, int(round(h * rng.uniform(0.75, 1.25))))
            if h > size or w > size:
                continue
            alpha = _resize(scans[k], h, w)
            ink = alpha > 0.25
            if not ink.any():
                continue
            x, y = (int(v) for v in rng.integers(0, [size - w + 1, size - h + 1]))
            rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
            box = [float(x + cols[0]), float(y + rows[0]),
                   float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1)]
            if any(_iou(box, other[0]) > max_iou for other in objects):
                continue
            tint = rng.uniform(0.0, 1.0, 3).astype(np.float32)
            tint[rng.integers(3)] = rng.choice([0.05, 0.95])  # keep contrast with bg
            _paste(canvas, np.clip(alpha * 1.3, 0, 1), tint, x, y)
            objects.append((box, int(labels[k]), k))
            break
    image = (np.clip(canvas, 0, 1) * 255).astype(np.uint8)
    return image, objects


def make_digits_detection(out_dir: str, num_train: int = 1200, num_val: int = 300,
                          img_size: int = 128, seed: int = 0,
                          num_test: int = 0) -> Dict[str, str]:
    """Write ``{out_dir}/{train,val[,test]}/*.png`` and
    ``annotations/instances_{split}.json``.

    Each split draws from its own random stream, so a split's images do not depend on
    the other splits' sizes (adding a test split leaves train and val byte-equal), and
    the first ``n`` images of a split are those of a smaller one. Each split pastes only
    its own pool of scans (``load_digit_scans``: train, val and test disjoint), and every
    annotation carries ``source``, the pasted scan's index in ``load_digits``.

    Args:
        out_dir: folder to write into (created).
        num_train, num_val, num_test: number of images per split (no test split at 0).
        img_size: side of the square images, px (>= 32).
        seed: one seed for everything; equal seeds write byte-equal files.

    Returns:
        ``{split: annotation file path}``.
    """
    if img_size < 32:
        raise ValueError(f'make_digits_detection: img_size must be >= 32, got {img_size}')
    if num_test < 0:
        raise ValueError(f'make_digits_detection: num_test must be >= 0, got {num_test}')
    pools = load_digit_scans(seed)
    splits = [('train', num_train), ('val', num_val)] + ([('test', num_test)] if num_test
                                                         else [])
    paths = {}
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    for split_idx, (split, count) in enumerate(splits):
        pool = pools[split]
        rng = np.random.default_rng([seed, split_idx])
        os.makedirs(osp.join(out_dir, split), exist_ok=True)
        images, annotations = [], []
        for i in range(count):
            image, objects = render_image(rng, pool.images, pool.labels, img_size)
            file_name = f'{split}/{i:05d}.png'
            Image.fromarray(image).save(osp.join(out_dir, file_name))
            images.append(dict(id=i + 1, file_name=file_name, width=img_size,
                               height=img_size))
            for box, label, k in objects:
                annotations.append(dict(id=len(annotations) + 1, image_id=i + 1,
                                        category_id=label + 1, bbox=box,
                                        area=box[2] * box[3], iscrowd=0,
                                        source=int(pool.source[k])))
        coco = dict(images=images, annotations=annotations,
                    categories=[dict(id=i + 1, name=n) for i, n in enumerate(CLASSES)])
        paths[split] = osp.join(out_dir, 'annotations', f'instances_{split}.json')
        with open(paths[split], 'w') as f:
            json.dump(coco, f)
    return paths
