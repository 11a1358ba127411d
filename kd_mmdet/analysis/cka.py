"""Linear CKA — Kornblith, Norouzi, Lee, Hinton, "Similarity of Neural Network
Representations Revisited", ICML 2019. https://arxiv.org/abs/1905.00414

Centred kernel alignment compares two representations of the same ``n`` inputs, each
flattened to (n_samples, d); ``d`` may differ. It is invariant to orthogonal transforms
and isotropic scaling of either side, not to arbitrary invertible linear maps. The OFA-KD
paper (Hao et al., "One-for-All: Bridge the Gap Between Heterogeneous Architectures in
Knowledge Distillation", NeurIPS 2023, https://arxiv.org/abs/2310.19444) uses it to show
how far apart teacher and student stages are; ``tools/analysis/cka_heatmap.py`` draws the
teacher-stage × student-stage matrix.
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def _check_features(X: Tensor, Y: Tensor) -> None:
    if X.dim() != 2 or Y.dim() != 2:
        raise ValueError(f'linear_cka: features must be (n_samples, d), got X {tuple(X.shape)}'
                         f' and Y {tuple(Y.shape)} — flatten them first (pool_features)')
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f'linear_cka: X {tuple(X.shape)} and Y {tuple(Y.shape)} describe '
                         'different numbers of samples; rows must be the same inputs')
    if X.shape[0] < 2:
        raise ValueError(f'linear_cka: needs at least 2 samples, got {X.shape[0]}')


def linear_cka(X: Tensor, Y: Tensor) -> float:
    r"""Linear centred kernel alignment of two representations of the same inputs.

    .. math::
        \mathrm{CKA}(X, Y) = \frac{\lVert \tilde Y^\top \tilde X \rVert_F^2}
            {\lVert \tilde X^\top \tilde X \rVert_F \, \lVert \tilde Y^\top \tilde Y \rVert_F}
        = \frac{\langle \tilde K, \tilde L \rangle_F}
            {\lVert \tilde K \rVert_F \lVert \tilde L \rVert_F}

    where :math:`\tilde X = X - \mathbf{1}\bar x^\top` has centred columns (each feature
    has zero mean over the samples), :math:`\tilde K = \tilde X \tilde X^\top` and
    :math:`\tilde L = \tilde Y \tilde Y^\top` are the (n, n) centred Gram matrices.
    This is Kornblith et al.'s eq. (5), i.e. the biased HSIC estimator
    :math:`\mathrm{HSIC}(K, L) = \mathrm{tr}(KHLH)/(n-1)^2` normalised; it is computed
    through the Gram matrices, so memory is O(n²) however large ``d`` is.

    Args:
        X: features, shape (n_samples, d_x).
        Y: features of the same samples, shape (n_samples, d_y).

    Returns:
        CKA in [0, 1] (1: the same representation up to rotation and scale; 0: no linear
        relation), or ``nan`` when either side is constant over the samples.
    """
    X, Y = torch.as_tensor(X), torch.as_tensor(Y)
    _check_features(X, Y)
    # float64: the Gram products of wide features lose digits in float32.
    X = X.detach().double()
    Y = Y.detach().double()
    X = X - X.mean(dim=0, keepdim=True)
    Y = Y - Y.mean(dim=0, keepdim=True)
    K, L = X @ X.T, Y @ Y.T
    denom = torch.linalg.norm(K) * torch.linalg.norm(L)
    if denom == 0:
        return float('nan')
    return float((K * L).sum() / denom)


def pool_features(feat: Tensor, grid: int = 1) -> Tensor:
    """Flatten a batch of features to (N, d) for CKA.

    A 4-D map (N, C, H, W) is average-pooled to ``grid × grid`` cells (adaptive pooling;
    ``grid=1`` is global average pooling) and flattened to (N, C·grid²). Pooling to a
    fixed grid makes stages of different strides comparable while keeping their coarse
    spatial layout, which is what a detector's features are about; global pooling keeps
    only which channels fire. 2-D inputs (N, d) are returned as they are.

    Args:
        feat: (N, C, H, W) or (N, d).
        grid: cells per side after pooling, >= 1.
    """
    if grid < 1:
        raise ValueError(f'pool_features: grid must be >= 1, got {grid}')
    if feat.dim() == 2:
        return feat
    if feat.dim() != 4:
        raise ValueError(f'pool_features: expected (N, C, H, W) or (N, d), got '
                         f'{tuple(feat.shape)}')
    return F.adaptive_avg_pool2d(feat, grid).flatten(1)


def cka_matrix(feats_T: Sequence[Tensor], feats_S: Sequence[Tensor]) -> Tensor:
    """Linear CKA of every teacher stage with every student stage.

    Args:
        feats_T: teacher stages, each (n_samples, d_i).
        feats_S: student stages, each (n_samples, d_j), the same samples.

    Returns:
        (len(feats_T), len(feats_S)) float64 matrix; entry (i, j) compares teacher stage
        i with student stage j.
    """
    return torch.tensor([[linear_cka(t, s) for s in feats_S] for t in feats_T],
                        dtype=torch.float64)
