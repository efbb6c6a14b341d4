"""The statistics module against scipy.stats and hand-worked examples."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from harness.stats import bootstrap_ci, detectable_difference, holm, permutation_p


@pytest.mark.parametrize(
    "diffs",
    [
        [1.0, 1.0, 0.0, 1.0, -1.0, 1.0, 0.0, 1.0],  # exact: 2^8 sign patterns
        [0.3, -0.1, 0.25, 0.4, 0.05, -0.2, 0.6, 0.1, 0.0, 0.35],
        [1.0, 0.0, 0.0, -1.0, 0.0],
    ],
)
def test_permutation_p_matches_scipy_exact(diffs: list[float]) -> None:
    zeros = np.zeros(len(diffs))
    expected = scipy_stats.permutation_test(
        (np.asarray(diffs), zeros),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=10_000,
        alternative="two-sided",
    ).pvalue
    assert permutation_p(diffs) == pytest.approx(expected, abs=1e-12)


def test_permutation_p_monte_carlo_close_to_scipy() -> None:
    rng = np.random.default_rng(3)
    diffs = (rng.random(60) < 0.6).astype(float) - (rng.random(60) < 0.45).astype(float)
    expected = scipy_stats.permutation_test(
        (diffs, np.zeros(60)),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=10_000,
        random_state=1,
    ).pvalue
    assert permutation_p(diffs) == pytest.approx(expected, abs=0.02)  # two Monte Carlo draws of 10,000


def test_permutation_p_of_identical_systems_is_one() -> None:
    assert permutation_p([0.0] * 30) == 1.0
    assert permutation_p([]) == 1.0


def test_bootstrap_ci_matches_scipy_percentile() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(0.2, 0.5, size=80)
    low, high = bootstrap_ci(values)
    expected = scipy_stats.bootstrap(
        (values,), np.mean, method="percentile", n_resamples=20_000, random_state=0
    ).confidence_interval
    # Both are Monte Carlo estimates of the same percentiles (2,000 vs 20,000 resamples); the interval's
    # half-width is about 0.11 here, so 0.02 is a tenth of the sampling error of either end.
    assert low == pytest.approx(expected.low, abs=0.02)
    assert high == pytest.approx(expected.high, abs=0.02)
    assert bootstrap_ci([0.5]) == (0.5, 0.5)


def test_holm_hand_worked() -> None:
    # m = 4. Sorted: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06), 0.5 (x1 = 0.5).
    # Step-down keeps them non-decreasing: 0.04, 0.06, 0.06, 0.5, then put back in the input order.
    assert holm([0.03, 0.5, 0.01, 0.02]) == pytest.approx([0.06, 0.5, 0.04, 0.06])
    # 0.8 x 2 = 1.6, capped at 1; then 0.9 x 1 = 0.9 is raised to 1 to stay non-decreasing
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_detectable_difference() -> None:
    # sd of [1, 0, 1, 0] (ddof 1) = 0.5774; (1.96 + 0.8416) * 0.5774 / sqrt(4) = 0.8088
    assert detectable_difference([1.0, 0.0, 1.0, 0.0]) == pytest.approx(0.8088, abs=1e-3)
    # no spread: the floor for a few cases flipping, 1 - 0.025^(1/20) = 0.168
    assert detectable_difference([0.0] * 20) == pytest.approx(0.1683, abs=1e-3)


def test_a_difference_beyond_every_draw_is_not_held_at_the_monte_carlo_floor() -> None:
    """No sign-flip draw reaches a large paired difference: the draws say only p < 2/10001; the normal limit
    of the same distribution gives the tail (which Holm then multiplies by the number of comparisons)."""
    import math

    import numpy as np

    from harness.stats import PERMUTATIONS, permutation_p

    diffs = np.array([0.6, 0.1, 0.0, 0.4, -0.2, 0.5] * 25)  # 150 cases, mean 0.233
    p = permutation_p(diffs)
    spread = math.sqrt(float(np.sum(diffs**2))) / len(diffs)
    assert p == pytest.approx(math.erfc(diffs.mean() / spread / math.sqrt(2)))
    assert p < 1e-6 < 2 / (PERMUTATIONS + 1)
    # Where draws do reach it, the Monte Carlo estimate stands.
    noisy = np.array([0.3, -0.25, 0.1, -0.1, 0.05] * 30)
    assert permutation_p(noisy) > 2 / (PERMUTATIONS + 1)
