"""linear_cka (Kornblith et al., ICML 2019) against its definition and its invariances."""
import math

import pytest
import torch

from kd_mmdet.analysis.cka import cka_matrix, linear_cka, pool_features


def features(n=20, d=7, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def hsic_reference(X, Y):
    """Loop-by-loop biased HSIC with linear kernels: tr(K H L H) / (n - 1)², H = I - 11ᵀ/n."""
    n = X.shape[0]
    K = [[sum(float(X[i, k] * X[j, k]) for k in range(X.shape[1])) for j in range(n)]
         for i in range(n)]
    L = [[sum(float(Y[i, k] * Y[j, k]) for k in range(Y.shape[1])) for j in range(n)]
         for i in range(n)]
    H = [[(1.0 if i == j else 0.0) - 1.0 / n for j in range(n)] for i in range(n)]

    def matmul(A, B):
        return [[sum(A[i][k] * B[k][j] for k in range(n)) for j in range(n)] for i in range(n)]

    KHLH = matmul(matmul(matmul(K, H), L), H)
    return sum(KHLH[i][i] for i in range(n)) / (n - 1) ** 2


def cka_reference(X, Y):
    """CKA = HSIC(K, L) / sqrt(HSIC(K, K) · HSIC(L, L)), Kornblith et al. eq. (3)."""
    return hsic_reference(X, Y) / math.sqrt(hsic_reference(X, X) * hsic_reference(Y, Y))


@pytest.mark.parametrize('n,dx,dy', [(6, 3, 5), (10, 8, 2), (12, 20, 20)])
def test_matches_slow_hsic_transcription(n, dx, dy):
    """The Gram-matrix form equals the HSIC formula written out with centring matrices."""
    X, Y = features(n, dx, seed=1), features(n, dy, seed=2)
    Y = Y + 0.5 * X[:, :1]  # some shared signal, so the value is not near 0
    assert linear_cka(X, Y) == pytest.approx(cka_reference(X, Y), rel=1e-9)


def test_identical_features_give_one():
    """A representation is perfectly aligned with itself."""
    X = features()
    assert linear_cka(X, X) == pytest.approx(1.0, abs=1e-12)


def test_orthogonal_features_give_zero():
    """Centred features spanning orthogonal subspaces have zero cross-covariance: CKA 0."""
    n = 16
    centred = features(n, n - 1, seed=3)
    centred = centred - centred.mean(dim=0)
    Q, _ = torch.linalg.qr(centred)  # orthonormal columns, each orthogonal to 1
    X = Q[:, :4] @ features(4, 6, seed=4)
    Y = Q[:, 4:9] @ features(5, 3, seed=5) + 3.0  # an offset is removed by centring
    assert linear_cka(X, Y) == pytest.approx(0.0, abs=1e-12)


def test_invariant_to_orthogonal_transform_and_isotropic_scaling():
    """CKA(XR, cY) = CKA(X, Y) for an orthogonal R and a scalar c > 0."""
    X = features(seed=6)
    Y = features(d=5, seed=7) + X[:, :5]
    R, _ = torch.linalg.qr(features(7, 7, seed=8))
    ref = linear_cka(X, Y)
    assert linear_cka(X @ R, Y) == pytest.approx(ref, rel=1e-10)
    assert linear_cka(X, 37.5 * Y) == pytest.approx(ref, rel=1e-10)
    assert linear_cka(0.01 * X @ R, 4.0 * Y) == pytest.approx(ref, rel=1e-10)


def test_not_invariant_to_anisotropic_scaling():
    """Stretching one feature changes CKA (it is not invariant to any linear map)."""
    X = features(seed=9)
    Y = features(seed=10) + X
    stretch = torch.ones(7, dtype=torch.float64)
    stretch[0] = 50.0
    assert abs(linear_cka(X * stretch, Y) - linear_cka(X, Y)) > 1e-3


def test_symmetric():
    """CKA(X, Y) = CKA(Y, X), also for different widths."""
    X, Y = features(d=3, seed=11), features(d=9, seed=12)
    assert linear_cka(X, Y) == pytest.approx(linear_cka(Y, X), rel=1e-12)


def test_constant_features_give_nan():
    """A representation that does not vary over the samples has no alignment to report."""
    X = torch.ones(5, 3)
    assert math.isnan(linear_cka(X, features(5, 2)))


def test_bad_shapes_raise_with_shapes():
    """Different sample counts or unflattened maps fail with the shapes in the message."""
    with pytest.raises(ValueError, match=r'\(4, 3\).*\(5, 3\)'):
        linear_cka(torch.randn(4, 3), torch.randn(5, 3))
    with pytest.raises(ValueError, match='pool_features'):
        linear_cka(torch.randn(4, 3, 2, 2), torch.randn(4, 3))


def test_pool_features_grid_and_global():
    """grid=1 is global average pooling; grid=g gives C·g² columns per sample."""
    feat = torch.randn(3, 4, 8, 8)
    assert torch.allclose(pool_features(feat, 1), feat.mean(dim=(2, 3)))
    assert pool_features(feat, 2).shape == (3, 16)
    assert pool_features(torch.randn(3, 5), 4).shape == (3, 5)


def test_cka_matrix_is_teacher_by_student():
    """Entry (i, j) compares teacher stage i with student stage j."""
    T = [features(d=4, seed=13), features(d=6, seed=14)]
    S = [features(d=2, seed=15), features(d=4, seed=13), features(d=3, seed=16)]
    M = cka_matrix(T, S)
    assert M.shape == (2, 3)
    assert M[0, 1].item() == pytest.approx(1.0)
    assert M[1, 2].item() == pytest.approx(linear_cka(T[1], S[2]))
