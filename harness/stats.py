"""The statistics behind every interval and test in the harness: bootstrap, permutation test, Holm, power."""

import itertools
import math
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np

BOOTSTRAP_SAMPLES = 2000
PERMUTATIONS = 10_000
ALPHA = 0.05
CHANCE = ALPHA / 2  # one tail of the 95% interval
# Beyond this many paired cases the sign-flip distribution of a mean is normal to well within the Monte Carlo
# error of 10,000 resamples, and drawing them would cost n x 10,000 numbers per comparison.
NORMAL_BEYOND = 5000
Z_POWER = 0.8416  # the 80th percentile of the normal: 80% power
Z_TWO_SIDED = 1.9600  # the 97.5th percentile: a two-sided test at 5%
Values: TypeAlias = Sequence[float] | np.ndarray


def bootstrap_ci(values: Values, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean (fixed seed: the same data gives the same interval).

    Given the per-case differences of two paired runs it is the paired bootstrap: resampling cases keeps
    each case's two scores together. One implementation for the summaries, the gate and the verdict.
    """
    data = np.asarray(values, dtype=float)
    if len(data) == 1:
        return float(data[0]), float(data[0])
    rng = np.random.default_rng(seed)
    means = np.empty(BOOTSTRAP_SAMPLES)
    rows = max(1, 2_000_000 // len(data))  # bounded memory on a scaled-up suite
    for start in range(0, BOOTSTRAP_SAMPLES, rows):
        count = min(rows, BOOTSTRAP_SAMPLES - start)
        means[start : start + count] = data[rng.integers(0, len(data), size=(count, len(data)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def permutation_p(diffs: Values, resamples: int = PERMUTATIONS, seed: int = 0) -> float:
    """Two-sided p-value of the paired permutation test of a mean difference of zero.

    Under the null hypothesis the two systems are exchangeable within each case, so each per-case difference
    is as likely to have either sign. The null distribution is that of the mean with every sign flipped at
    random: enumerated exactly when 2^n <= `resamples`, else drawn `resamples` times (p then counts the
    observed statistic as one draw, so it is never 0; where no draw reaches the observed mean, the normal
    limit resolves the tail below that floor), and for more than NORMAL_BEYOND cases its normal limit.
    p = min(1, 2 * min(P(null <= observed), P(null >= observed))), as scipy.stats.permutation_test
    computes a two-sided p.
    """
    data = np.asarray(diffs, dtype=float)
    n = len(data)
    if n == 0:
        return 1.0
    observed = data.mean()
    if not np.any(data):
        return 1.0
    if n > NORMAL_BEYOND:
        return min(1.0, _normal_p(data))
    tolerance = 1e-12 * max(1.0, abs(observed))
    if 2**n <= resamples:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        null = signs @ data / n
        less = float(np.count_nonzero(null <= observed + tolerance) / len(null))
        greater = float(np.count_nonzero(null >= observed - tolerance) / len(null))
    else:
        rng = np.random.default_rng(seed)
        below = above = 0
        rows = max(1, 2_000_000 // n)
        for start in range(0, resamples, rows):
            count = min(rows, resamples - start)
            null = (rng.integers(0, 2, size=(count, n)) * 2 - 1) @ data / n
            below += int(np.count_nonzero(null <= observed + tolerance))
            above += int(np.count_nonzero(null >= observed - tolerance))
        less, greater = float((below + 1) / (resamples + 1)), float((above + 1) / (resamples + 1))
        if min(below, above) == 0:
            # No draw reached the observed mean: the draws only say p < 2 / (resamples + 1), a floor that
            # Holm then multiplies by the number of comparisons. The normal limit of the same sign-flip
            # distribution resolves the tail beyond it.
            return float(min(1.0, 2 * min(less, greater), _normal_p(data)))
    return float(min(1.0, 2 * min(less, greater)))


def _normal_p(data: np.ndarray) -> float:
    """Two-sided p of the mean under the normal limit of the sign-flip distribution (variance sum d²/n²)."""
    spread = math.sqrt(float(np.sum(data**2))) / len(data)
    return math.erfc(abs(float(data.mean())) / spread / math.sqrt(2))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment: the family-wise error stays under alpha across all the tests.

    The i-th smallest p (from 0) is multiplied by (m - i), then made non-decreasing in that order.
    """
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[index]))
        adjusted[index] = running
    return adjusted


def concentrated_floor(n: int) -> float:
    """The smallest change the bootstrap can call real when a few of n cases move from 1 to 0.

    A resample must almost never miss all of them: (1 - d)^n < 2.5%.
    """
    return 1 - CHANCE ** (1 / n) if n else 1.0


def detectable_difference(diffs: Values) -> float:
    """The smallest true mean difference these paired cases would detect with 80% power at 5% (two-sided).

    (z_0.975 + z_0.8) * sd / sqrt(n) with the spread of the observed per-case differences. When they do not
    spread at all (two systems scoring every case the same), the floor is the change a few cases flipping
    from 1 to 0 must exceed to be told from chance.
    """
    n = len(diffs)
    if n < 2:
        return math.inf
    spread = float(np.std(np.asarray(diffs, dtype=float), ddof=1))
    if spread == 0:
        return concentrated_floor(n)
    return (Z_TWO_SIDED + Z_POWER) * spread / math.sqrt(n)


__all__ = [
    "ALPHA",
    "bootstrap_ci",
    "concentrated_floor",
    "detectable_difference",
    "holm",
    "permutation_p",
]
