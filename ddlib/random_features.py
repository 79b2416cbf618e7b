"""Least squares in closed form: min-norm and ridge solutions, random ReLU features, exact risks.

Everything here is exact linear algebra in float64, with no training loop and so no optimiser
noise. For a design matrix :math:`X \\in \\mathbb{R}^{n \\times p}` and targets
:math:`Y \\in \\mathbb{R}^{n \\times k}` the ridge solution of
:math:`\\min_\\theta \\|X\\theta - Y\\|_F^2 + \\lambda \\|\\theta\\|_F^2` is computed through the
*smaller* of the two Gram matrices:

* :math:`p \\le n`: :math:`\\hat\\theta = (X^\\top X + \\lambda I_p)^{-1} X^\\top Y`;
* :math:`p > n`:  :math:`\\hat\\theta = X^\\top (X X^\\top + \\lambda I_n)^{-1} Y`.

The two agree for :math:`\\lambda > 0` (push-through identity). At :math:`\\lambda = 0` the first
is the ordinary least-squares solution and the second the *minimum-norm interpolant*
:math:`X^+ Y` (for full-rank :math:`X`), which is the solution gradient descent from zero
converges to. No pseudo-inverse of a large matrix is ever formed: the Gram system is solved by a
Cholesky factorisation, with an LU solve and then an eigendecomposition-based pseudo-solve of the
*Gram* system as fall-backs when the factorisation fails (a numerically singular Gram matrix).

Throughout this module :math:`\\lambda` (the functions' argument ``ridge``) penalises the plain *sum* of
squares. A penalty stated per sample,
:math:`\\min_\\theta \\frac1n\\|X\\theta - Y\\|_F^2 + \\lambda' \\|\\theta\\|_F^2` (the ridge strength
:math:`\\lambda'` of the chapter *Double descent and distillation in closed form*, its ``ridges``), has the
same minimiser for ``ridge`` :math:`= n\\lambda'` (:func:`ddlib.chapters.random_features.library_ridge`).

Sources:

* M. Belkin, D. Hsu, J. Xu (2020), *Two models of double descent for weak features*,
  SIAM J. Math. Data Sci. 2(4), arXiv:1903.07571, Theorem 1 -> :func:`belkin_hsu_xu_risk`.
* T. Hastie, A. Montanari, S. Rosset, R. Tibshirani (2022), *Surprises in high-dimensional
  ridgeless least squares interpolation*, Ann. Statist., arXiv:1903.08560 (same phenomenon,
  proportional asymptotics).
* A. Rahimi, B. Recht (2007), *Random features for large-scale kernel machines*, NeurIPS;
  S. Mei, A. Montanari (2022), *The generalization error of random features regression*,
  CPAM, arXiv:1908.05355 -> :class:`RandomReLUFeatures`.
* P. Nakkiran, P. Venkat, S. Kakade, T. Ma (2021), *Optimal regularization can mitigate double
  descent*, ICLR, arXiv:2003.01897 (ridge removes the peak).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from .validation import ConfigError, positive_int

DTYPE = torch.float64


def _as_tensor(a) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a.to(DTYPE)
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def gram_solve(gram: torch.Tensor, rhs: torch.Tensor, ridge: float = 0.0) -> torch.Tensor:
    """Solve :math:`(G + \\lambda I) Z = B` for a symmetric positive (semi-)definite ``gram``.

    ``gram`` is ``(..., m, m)`` and ``rhs`` ``(..., m, k)``; leading batch dimensions are allowed.
    Cholesky first; batch entries where it fails are re-solved with LU (``torch.linalg.solve``)
    and, if that fails too, by the eigendecomposition of the Gram matrix with eigenvalues below
    ``m * eps * max`` discarded (the minimum-norm solution of the Gram system).
    """
    if ridge < 0:
        raise ConfigError(f"ridge must be >= 0; got {ridge!r}")
    m = gram.shape[-1]
    if ridge:
        gram = gram + ridge * torch.eye(m, dtype=gram.dtype, device=gram.device)
    chol, info = torch.linalg.cholesky_ex(gram)
    if not bool((info != 0).any()):
        return torch.cholesky_solve(rhs, chol)
    if gram.dim() == 2:
        return _fallback_solve(gram, rhs)
    out = torch.empty(*gram.shape[:-1], rhs.shape[-1], dtype=gram.dtype, device=gram.device)
    good = info == 0
    if bool(good.any()):
        out[good] = torch.cholesky_solve(rhs[good], chol[good])
    for idx in torch.nonzero(~good, as_tuple=False):
        i = tuple(idx.tolist())
        out[i] = _fallback_solve(gram[i], rhs[i])
    return out


def _fallback_solve(gram: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
    sol, info = torch.linalg.solve_ex(gram, rhs)
    if int(info) == 0 and bool(torch.isfinite(sol).all()):
        return sol
    # Numerically singular: the minimum-norm solution of the Gram system through its
    # eigendecomposition, discarding eigenvalues below m * eps * largest (as numpy's pinv does).
    evals, evecs = torch.linalg.eigh(gram)
    cutoff = gram.shape[-1] * torch.finfo(gram.dtype).eps * evals.abs().max()
    inv = torch.where(evals > cutoff, 1.0 / evals, torch.zeros_like(evals))
    return evecs @ (inv.unsqueeze(-1) * (evecs.T @ rhs))


def min_norm_solve(x, y, ridge: float = 0.0) -> torch.Tensor:
    """Ridge (``ridge > 0``) or min-norm least squares (``ridge = 0``) through the smaller Gram.

    ``x`` is ``(..., n, p)``, ``y`` is ``(..., n)`` or ``(..., n, k)``; returns ``theta`` of shape
    ``(..., p)`` or ``(..., p, k)`` minimising :math:`\\|x\\theta - y\\|^2 + \\lambda\\|\\theta\\|^2`:

    * :math:`p \\le n`: :math:`\\theta = (x^\\top x + \\lambda I)^{-1} x^\\top y`,
    * :math:`p > n`: :math:`\\theta = x^\\top (x x^\\top + \\lambda I)^{-1} y`
      (the minimum-norm interpolant :math:`x^+ y` at :math:`\\lambda = 0`).

    ``ridge`` is :math:`\\lambda` of that plain sum; for the per-sample penalty
    :math:`\\frac1n\\|x\\theta - y\\|^2 + \\lambda'\\|\\theta\\|^2` (the random-features chapter's) pass
    ``ridge = n * lambda'``.
    """
    x, y = _as_tensor(x), _as_tensor(y)
    vector = y.dim() == x.dim() - 1
    if vector:
        y = y.unsqueeze(-1)
    n, p = x.shape[-2:]
    xt = x.transpose(-1, -2)
    if p <= n:
        theta = gram_solve(xt @ x, xt @ y, ridge)
    else:
        theta = xt @ gram_solve(x @ xt, y, ridge)
    return theta.squeeze(-1) if vector else theta


# --------------------------------------------------------------------------- linear theory


def belkin_hsu_xu_risk(n: int, p, beta, sigma: float) -> np.ndarray:
    """Exact expected risk of min-norm least squares on the first ``p`` of ``D`` Gaussian features.

    Model (Belkin, Hsu & Xu 2020, Theorem 1): :math:`x \\sim N(0, I_D)`,
    :math:`y = x^\\top\\beta + \\sigma\\varepsilon`, :math:`\\varepsilon \\sim N(0,1)`; the learner
    sees the features in :math:`T = \\{1..p\\}` only and fits :math:`\\hat\\beta_T = X_T^+ y` on
    ``n`` samples. With :math:`\\tau^2 = \\|\\beta_{T^c}\\|^2 + \\sigma^2` (unseen signal acts as
    noise) the risk :math:`\\mathbb{E}[(y - x_T^\\top\\hat\\beta_T)^2]` is

    * :math:`\\tau^2 \\bigl(1 + \\frac{p}{n - p - 1}\\bigr)` for :math:`p \\le n - 2`,
    * :math:`+\\infty` for :math:`n - 1 \\le p \\le n + 1`,
    * :math:`\\|\\beta_T\\|^2 \\bigl(1 - \\frac{n}{p}\\bigr) + \\tau^2 \\bigl(1 + \\frac{n}{p - n - 1}\\bigr)`
      for :math:`p \\ge n + 2`.

    ``p`` may be an int or an array of ints (each ``<= len(beta)``); returns a float array.
    """
    beta = np.asarray(beta, dtype=np.float64)
    ps = np.atleast_1d(np.asarray(p, dtype=np.int64))
    tail = np.concatenate([np.cumsum((beta ** 2)[::-1])[::-1], [0.0]])  # tail[p] = ||beta_{>p}||^2
    head = float(beta @ beta) - tail
    out = np.full(ps.shape, np.inf)
    for i, q in enumerate(ps):
        if q < 0 or q > len(beta):
            raise ConfigError(f"p must be in [0, {len(beta)}]; got {q}")
        tau2 = tail[q] + sigma ** 2
        if q <= n - 2:
            out[i] = tau2 * (1 + q / (n - q - 1))
        elif q >= n + 2:
            out[i] = head[q] * (1 - n / q) + tau2 * (1 + n / (q - n - 1))
    return out


def simulate_linear_risk(n: int, p: int, beta, sigma: float, trials: int, seed: int,
                         full: bool = False) -> np.ndarray:
    """Risks of ``trials`` independent fits in the model of :func:`belkin_hsu_xu_risk`.

    Each trial draws a fresh training set, fits the min-norm solution on the first ``p`` features
    with :func:`min_norm_solve`, and returns its *exact* risk given that training set,
    :math:`\\|\\beta_T - \\hat\\beta_T\\|^2 + \\|\\beta_{T^c}\\|^2 + \\sigma^2`, since test inputs are
    isotropic. Only the training draw is random, so the mean over trials is an unbiased estimate
    of the expected risk.

    With ``full=True`` all ``D`` features are drawn and :math:`y = x^\\top\\beta + \\sigma\\varepsilon`
    is formed literally. With ``full=False`` (faster, same distribution) only the ``p`` seen
    features are drawn and the rest of ``y`` is drawn as its exact law: the unseen features are
    independent of the seen ones, so :math:`x_{T^c}^\\top\\beta_{T^c} + \\sigma\\varepsilon \\sim
    N(0, \\|\\beta_{T^c}\\|^2 + \\sigma^2)`, independently of :math:`X_T`.
    """
    positive_int("trials", trials)
    beta_t = _as_tensor(beta)
    dim = beta_t.shape[0]
    if not 0 <= p <= dim:
        raise ConfigError(f"p must be in [0, {dim}]; got {p}")
    rng = np.random.default_rng(seed)
    tail = float((beta_t[p:] ** 2).sum())
    if full:
        x = torch.from_numpy(rng.standard_normal((trials, n, dim)))
        y = x @ beta_t + sigma * torch.from_numpy(rng.standard_normal((trials, n)))
        x = x[..., :p]
    else:
        x = torch.from_numpy(rng.standard_normal((trials, n, p)))
        noise = torch.from_numpy(rng.standard_normal((trials, n))) * (tail + sigma ** 2) ** 0.5
        y = x @ beta_t[:p] + noise
    if p == 0:
        err = torch.zeros(trials, dtype=DTYPE)
    else:
        err = ((min_norm_solve(x, y) - beta_t[:p]) ** 2).sum(-1)
    return (err + tail + sigma ** 2).numpy()


# --------------------------------------------------------------------------- random features


class RandomReLUFeatures:
    """A fixed random first layer: :math:`\\phi(x) = \\mathrm{ReLU}(W x / \\sqrt{d} + b) / \\sqrt{N}`.

    :math:`W \\in \\mathbb{R}^{N \\times d}` has i.i.d. :math:`N(0, 1)` entries and
    :math:`b \\in \\mathbb{R}^N` i.i.d. :math:`N(0, \\texttt{bias\\_std}^2)` entries, drawn from
    ``numpy.random.default_rng(seed)``. A bias spreads the ReLU kinks; keeping it small (default
    0.5) avoids features that fire on only a handful of training points, whose coefficients the
    min-norm fit makes huge and whose rare test activations then dominate the test MSE. The
    :math:`1/\\sqrt{N}` factor makes :math:`\\phi(x)^\\top\\phi(x')` converge to a fixed kernel as :math:`N \\to \\infty`, so a
    ridge strength means the same thing at every width (Rahimi & Recht 2007; Mei & Montanari 2022).
    """

    def __init__(self, in_dim: int, num_features: int, seed, bias_std: float = 0.5):
        positive_int("in_dim", in_dim)
        positive_int("num_features", num_features)
        rng = np.random.default_rng(seed)
        self.num_features = num_features
        self.weight = torch.from_numpy(rng.standard_normal((num_features, in_dim)) / np.sqrt(in_dim))
        self.bias = torch.from_numpy(bias_std * rng.standard_normal(num_features))

    def __call__(self, x) -> torch.Tensor:
        x = _as_tensor(x)
        out = torch.addmm(self.bias, x, self.weight.T)
        return out.relu_().mul_(1.0 / np.sqrt(self.num_features))

    def predict(self, x, theta: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
        """:math:`\\phi(x)\\,\\theta`, computing the features ``chunk`` rows at a time."""
        x = _as_tensor(x)
        return torch.cat([self(x[i:i + chunk]) @ theta for i in range(0, len(x), chunk)])


def fit_ridge_path(phi: torch.Tensor, y, ridges: Sequence[float]) -> list[torch.Tensor]:
    """Solutions :math:`\\theta_\\lambda` for every ``ridge`` in ``ridges``, one Gram matrix for all.

    Same formulas as :func:`min_norm_solve` (``ridges`` may contain 0, the min-norm solution; each is the
    penalty on the plain sum of squares, so ``n * lambda'`` for a per-sample :math:`\\lambda'`), but the Gram
    matrix of the smaller side is formed once.

    Columns of ``phi`` that are exactly zero on the training set ("dead" ReLU features, whose
    pre-activation is negative on every training input) are dropped before solving and get
    coefficient 0. This is exact: the minimum-norm (and every ridge) solution gives them 0, and
    without them :math:`\\phi^\\top\\phi` would be singular on the under-parameterised side. So
    the interpolation threshold sits where the number of *live* features reaches ``n``.
    """
    y = _as_tensor(y)
    live = (phi != 0).any(0)
    phi_live = phi[:, live]
    n, p = phi_live.shape
    if p <= n:
        gram, rhs = phi_live.T @ phi_live, phi_live.T @ y
        sols = [gram_solve(gram, rhs, float(lam)) for lam in ridges]
    else:
        gram = phi_live @ phi_live.T
        sols = [phi_live.T @ gram_solve(gram, y, float(lam)) for lam in ridges]
    out = []
    for sol in sols:
        full = torch.zeros(phi.shape[1], *sol.shape[1:], dtype=sol.dtype)
        full[live] = sol
        out.append(full)
    return out


def one_hot(labels, num_classes: int) -> torch.Tensor:
    """float64 one-hot encoding of integer ``labels``."""
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
    return torch.nn.functional.one_hot(labels, num_classes).to(DTYPE)


def block_metrics(outputs: torch.Tensor, labels, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Test error and one-hot MSE of each block of ``num_classes`` columns of ``outputs``.

    ``outputs`` is ``(m, B * num_classes)`` (``B`` models side by side); returns two length-``B``
    arrays, as :func:`classification_error` and :func:`onehot_mse` would for each block.
    """
    out = outputs.reshape(outputs.shape[0], -1, num_classes)
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
    target = one_hot(labels, num_classes).unsqueeze(1)
    err = (out.argmax(-1) != labels.unsqueeze(1)).double().mean(0)
    mse = ((out - target) ** 2).sum(-1).mean(0)
    return err.numpy(), mse.numpy()


def classification_error(outputs: torch.Tensor, labels) -> float:
    """Fraction of rows whose arg-max output differs from ``labels``."""
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
    return float((outputs.argmax(-1) != labels).double().mean())


def onehot_mse(outputs: torch.Tensor, labels) -> float:
    """Mean over samples of :math:`\\|f(x) - e_y\\|^2` (squared error summed over classes)."""
    target = one_hot(labels, outputs.shape[-1])
    return float(((outputs - target) ** 2).sum(-1).mean())
