"""The count distribution around a predicted mean: P(stat > line) is computed from it, not guessed.

Points, rebounds, assists and threes are counts with more spread than a Poisson (points come two
and three at a time). Per market the variance is fitted as a*mu + b*mu^2 on predictions the model
did not train on, and the outcome is a negative binomial with that mean and variance (a Poisson
where the fit leaves no over-dispersion).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import optimize, stats

MIN_MEAN = 0.05
# variance at least this multiple of the mean: below it the negative binomial is a Poisson
MIN_DISPERSION = 1.0001


def fit_dispersion(
    mean: np.ndarray, actual: np.ndarray, market: np.ndarray
) -> dict[str, tuple[float, float]]:
    """Per market, (a, b) >= 0 of var = a*mu + b*mu^2 by least squares on squared residuals."""
    out: dict[str, tuple[float, float]] = {}
    mu = np.maximum(np.asarray(mean, dtype=float), MIN_MEAN)
    sq = (np.asarray(actual, dtype=float) - mu) ** 2
    for name in np.unique(market):
        mask = market == name
        design = np.column_stack([mu[mask], mu[mask] ** 2])
        (a, b), _ = optimize.nnls(design, sq[mask])
        out[str(name)] = (float(a), float(b))
    return out


def _nbinom_params(
    mean: np.ndarray, market: np.ndarray, dispersion: Mapping[str, tuple[float, float]]
) -> tuple[np.ndarray, np.ndarray]:
    mu = np.maximum(np.asarray(mean, dtype=float), MIN_MEAN)
    codes = pd.Categorical(market, categories=sorted(dispersion))
    if (codes.codes < 0).any():
        missing = sorted(set(pd.unique(np.asarray(market))) - set(dispersion))
        raise KeyError(f"no dispersion fitted for market(s) {missing}")
    a = np.array([dispersion[m][0] for m in codes.categories])[codes.codes]
    b = np.array([dispersion[m][1] for m in codes.categories])[codes.codes]
    var = np.maximum(a * mu + b * mu**2, MIN_DISPERSION * mu)
    p = mu / var
    n = mu * p / (1.0 - p)
    return n, p


def probability_over(
    mean: np.ndarray,
    line: np.ndarray,
    market: np.ndarray,
    dispersion: Mapping[str, tuple[float, float]],
) -> np.ndarray:
    """P(stat > line): for a half-point line the over wins from ceil(line); on a whole line the
    push (stat == line) is neither side, so this is the probability of a strict win."""
    n, p = _nbinom_params(mean, market, dispersion)
    return stats.nbinom.sf(np.floor(np.asarray(line, dtype=float)), n, p)


def median(
    mean: np.ndarray, market: np.ndarray, dispersion: Mapping[str, tuple[float, float]]
) -> np.ndarray:
    """The smallest k with P(X <= k) >= 1/2, searched from floor(mean): the median of these counts
    is within a step or two of the mean, and a few vectorised CDF calls beat scipy's generic ppf
    by a factor of ten on a slate."""
    n, p = _nbinom_params(mean, market, dispersion)
    k = np.floor(np.maximum(np.asarray(mean, dtype=float), MIN_MEAN))
    for _ in range(64):
        up = stats.nbinom.cdf(k, n, p) < 0.5
        down = ~up & (k > 0) & (stats.nbinom.cdf(k - 1, n, p) >= 0.5)
        if not (up.any() or down.any()):
            break
        k = k + up - down
    return k


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def fit_calibration(
    p_over: np.ndarray,
    market_p_over: np.ndarray,
    went_over: np.ndarray,
    market: np.ndarray,
    ridge: float = 1.0,
) -> dict[str, tuple[float, float, float]]:
    """Per market, a logistic on the distribution's logit and the market's no-vig logit, fitted
    on held-out days (pushes left out). Raw count-distribution probabilities are overconfident
    where the model's mean strays from the line: most of that gap is noise the market has
    already priced; this learns how much of it to keep. A small ridge keeps thin markets near
    the identity (intercept 0, slopes 1 and 0)."""
    out: dict[str, tuple[float, float, float]] = {}
    prior = np.array([0.0, 1.0, 0.0])
    for name in np.unique(market):
        mask = market == name
        x = np.column_stack(
            [np.ones(mask.sum()), _logit(p_over[mask]), _logit(market_p_over[mask])]
        )
        y = np.asarray(went_over[mask], dtype=float)
        beta = prior.copy()
        for _ in range(50):  # Newton-Raphson (IRLS) on the penalised log-likelihood
            p = 1 / (1 + np.exp(-np.clip(x @ beta, -30, 30)))
            grad = x.T @ (y - p) - ridge * (beta - prior)
            hess = (x * (p * (1 - p))[:, None]).T @ x + ridge * np.eye(3)
            step = np.linalg.solve(hess, grad)
            beta = beta + step
            if np.abs(step).max() < 1e-8:
                break
        out[str(name)] = (float(beta[0]), float(beta[1]), float(beta[2]))
    return out


def calibrate(
    p_over: np.ndarray,
    market_p_over: np.ndarray,
    market: np.ndarray,
    params: Mapping[str, tuple[float, float, float]],
) -> np.ndarray:
    if not params:
        return np.asarray(p_over, dtype=float)
    coef = pd.DataFrame.from_dict(params, orient="index").reindex(np.asarray(market)).to_numpy()
    if np.isnan(coef).any():
        missing = sorted(set(pd.unique(np.asarray(market))) - set(params))
        raise KeyError(f"no calibration fitted for market(s) {missing}")
    z = coef[:, 0] + coef[:, 1] * _logit(p_over) + coef[:, 2] * _logit(market_p_over)
    return 1 / (1 + np.exp(-np.clip(z, -30, 30)))
