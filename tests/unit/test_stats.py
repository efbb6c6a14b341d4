"""harness.stats on inputs small enough to check by hand, or by enumerating every case in the test itself.

tests/unit/test_stats_scipy.py compares the same functions with scipy on larger inputs; here each expected
value is worked out in a comment or computed from first principles (exact fractions over all sign patterns).
"""

import itertools
import math
import random
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats as scipy_stats

from harness.stats import NORMAL_BEYOND, PERMUTATIONS, bootstrap_ci, holm, permutation_p

# ---- bootstrap_ci -------------------------------------------------------------------------------------


def test_bootstrap_of_one_value_or_of_equal_values_is_that_value() -> None:
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert bootstrap_ci([0.25] * 5) == (0.25, 0.25)  # every resample has mean 0.25


def test_bootstrap_of_two_values_spans_both() -> None:
    # A resample of [0, 1] has mean 0 (1/4), 0.5 (1/2) or 1 (1/4): each end holds about 500 of the 2,000
    # means, far more than the 50 (2.5%) below the lower or above the upper percentile.
    assert bootstrap_ci([0.0, 1.0]) == (0.0, 1.0)


def test_bootstrap_ends_follow_the_binomial_of_one_success_in_four() -> None:
    # A resample of [0, 0, 0, 1] holds k ones, k ~ Binomial(4, 1/4); its mean is k/4.
    # P(k = 0) = (3/4)^4 = 0.316 > 2.5%, so the 2.5th percentile is 0.
    # P(k >= 3) = 4 (1/4)^3 (3/4) + (1/4)^4 = 0.0508 > 2.5% but P(k = 4) = 0.0039 < 2.5%: the 97.5th is 0.75.
    assert bootstrap_ci([0.0, 0.0, 0.0, 1.0]) == (0.0, 0.75)


def test_bootstrap_moves_with_the_data_and_is_repeatable() -> None:
    values = [0.1, 0.4, 0.35, 0.8, 0.0, 0.55, 0.2]
    low, high = bootstrap_ci(values)
    assert min(values) <= low < float(np.mean(values)) < high <= max(values)
    assert bootstrap_ci(values) == (low, high)  # the seed is fixed
    # The same seed draws the same resamples, so shifting every value shifts both ends by as much.
    shifted = bootstrap_ci([v + 2.0 for v in values])
    assert shifted == pytest.approx((low + 2.0, high + 2.0), abs=1e-12)
    assert bootstrap_ci(values, seed=1) != (low, high)


def test_bootstrap_in_batches_keeps_the_same_contract() -> None:
    # Above 1,000 values the 2,000 resamples are drawn in several batches (bounded memory): a large sample
    # of 0s and 1s still gives an interval around its share, and shifting still shifts it.
    values = [1.0] * 900 + [0.0] * 1600  # 2,500 values, mean 0.36, standard error sqrt(.36 * .64 / 2500)
    low, high = bootstrap_ci(values)
    error = math.sqrt(0.36 * 0.64 / 2500)
    assert low == pytest.approx(0.36 - 1.96 * error, abs=0.005)
    assert high == pytest.approx(0.36 + 1.96 * error, abs=0.005)
    assert bootstrap_ci([v - 1.0 for v in values]) == pytest.approx((low - 1.0, high - 1.0), abs=1e-12)


# ---- permutation_p: the exact branch ------------------------------------------------------------------


def enumerated_p(diffs: list[Fraction]) -> Fraction:
    """The two-sided p by brute force: every sign pattern, exact arithmetic, no numpy."""
    n = len(diffs)
    observed = sum(diffs) / n
    means = [sum(s * d for s, d in zip(signs, diffs, strict=True)) / n for signs in _patterns(n)]
    less = Fraction(sum(m <= observed for m in means), len(means))
    greater = Fraction(sum(m >= observed for m in means), len(means))
    return min(Fraction(1), 2 * min(less, greater))


def _patterns(n: int) -> list[tuple[int, ...]]:
    return list(itertools.product((1, -1), repeat=n))


def test_exact_p_worked_by_hand() -> None:
    # [1, 1, 1]: of the 8 sign patterns only +++ reaches the observed mean 1: P(>= 1) = 1/8, p = 2/8.
    assert permutation_p([1.0, 1.0, 1.0]) == 0.25
    # Five equal gains: 1/32 on each side, p = 1/16.
    assert permutation_p([0.5] * 5) == 0.0625
    # [3, 1, -1]: the signed sums are 5, 3, 3, 1, -1, -3, -3, -5 (the sign patterns of 3, 1, 1); the observed
    # sum is 3, reached by 3 of 8 patterns from above and 7 of 8 from below: p = 2 * 3/8 = 0.75.
    assert permutation_p([3.0, 1.0, -1.0]) == 0.75
    # [2, -1]: means 1.5, 0.5 (observed), -0.5, -1.5: half are >= 0.5, so p = min(1, 2 * 1/2) = 1.
    assert permutation_p([2.0, -1.0]) == 1.0
    # A case that did not differ adds a 0 whose sign changes nothing: each pattern counts twice.
    assert permutation_p([1.0, 1.0, 1.0, 0.0]) == 0.25


@pytest.mark.parametrize("seed", range(6))
def test_exact_p_equals_brute_force_enumeration(seed: int) -> None:
    # Quarter steps are exact in binary floating point, so the enumeration's exact fractions and the
    # function's floats describe the same numbers; ties between sign patterns are common and must count.
    rng = random.Random(seed)
    n = rng.randint(1, 10)
    quarters = [rng.randint(-4, 4) for _ in range(n)]
    if not any(quarters):
        quarters[0] = 1
    diffs = [q / 4 for q in quarters]
    expected = enumerated_p([Fraction(q, 4) for q in quarters])
    assert permutation_p(diffs) == pytest.approx(float(expected), abs=1e-12), diffs


def test_no_difference_at_all_has_p_one() -> None:
    assert permutation_p([0.0, 0.0, 0.0]) == 1.0
    assert permutation_p([]) == 1.0


def test_the_sign_of_the_difference_does_not_change_p() -> None:
    diffs = [0.5, 0.25, -0.25, 0.75, 0.0, 0.5]
    assert permutation_p(diffs) == permutation_p([-d for d in diffs])


# ---- permutation_p: drawn signs, and the normal limit ----------------------------------------------------


def test_fewer_resamples_than_patterns_draws_them_and_counts_the_observed_as_one_draw() -> None:
    # 2^7 = 128 patterns > 20 resamples: signs are drawn. The observed mean (0.5 / 7) sits in the middle
    # of the null, so draws land on both sides of it and p = 2 * (draws on the rarer side + 1) / 21.
    p = permutation_p([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 0.5], resamples=20, seed=0)
    assert 0 < p <= 1.0
    assert p == 1.0 or p * 21 == pytest.approx(round(p * 21), abs=1e-9)
    assert permutation_p([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 0.5], resamples=20, seed=0) == p


def test_when_no_draw_reaches_the_observed_mean_the_normal_limit_gives_the_tail() -> None:
    # 20 equal gains: 2^20 patterns > 10,000 draws, and a draw reaches the mean 1 with probability 2^-20.
    # The draws alone say only p < 2 / 10,001. The sign-flip mean has variance sum(d^2) / n^2 = 1/20, so
    # z = 1 / sqrt(1/20) = sqrt(20) and the two-sided normal p is erfc(sqrt(20) / sqrt(2)) = erfc(sqrt(10)).
    p = permutation_p([1.0] * 20)
    assert p == pytest.approx(math.erfc(math.sqrt(10)), rel=1e-12)
    assert p < 2 / (PERMUTATIONS + 1)


def test_beyond_normal_beyond_cases_the_normal_limit_is_used_and_agrees_with_the_exact_binomial() -> None:
    # n = 5,001 differences of +-1: 2,600 gains and 2,401 losses, sum 199. The sign-flip sum of +-1s is
    # 2B - n with B ~ Binomial(n, 1/2), so the exact p is 2 P(B >= 2600). The normal limit: z = 199 / sqrt(n).
    n, gains = NORMAL_BEYOND + 1, 2600
    diffs = np.array([1.0] * gains + [-1.0] * (n - gains))
    p = permutation_p(diffs)
    z = (2 * gains - n) / math.sqrt(n)
    assert p == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-9)  # 0.00489
    exact = 2 * float(scipy_stats.binom.sf(gains - 1, n, 0.5))  # 0.00511
    assert p == pytest.approx(exact, rel=0.1)  # the normal limit without continuity correction


# ---- holm ---------------------------------------------------------------------------------------------


def test_holm_worked_by_hand() -> None:
    # m = 3. Sorted: 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04, raised to 0.06 to stay non-decreasing.
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    # Ties: 0.02 x 2 = 0.04 for the first, 0.02 x 1 raised to 0.04 for the second.
    assert holm([0.02, 0.02]) == pytest.approx([0.04, 0.04])
    assert holm([0.3]) == [0.3]  # one test: nothing to adjust
    assert holm([0.6, 0.001]) == pytest.approx([0.6, 0.002])


def step_down_rejections(pvalues: list[float], alpha: float) -> set[int]:
    """Holm's procedure as usually stated: walk the p-values from the smallest, reject while
    p_(k) <= alpha / (m - k) (k from 0), stop at the first that is not."""
    m = len(pvalues)
    rejected: set[int] = set()
    for k, index in enumerate(sorted(range(m), key=lambda i: pvalues[i])):
        if pvalues[index] > alpha / (m - k):
            break
        rejected.add(index)
    return rejected


@pytest.mark.parametrize("seed", range(5))
def test_adjusted_p_values_reject_what_the_step_down_procedure_rejects(seed: int) -> None:
    # No p-value times 1..7 lands on an alpha below, so float rounding cannot decide a comparison.
    rng = random.Random(seed)
    pvalues = [
        rng.choice((0.0011, 0.0043, 0.0093, 0.013, 0.021, 0.033, 0.2)) for _ in range(rng.randint(2, 7))
    ]
    adjusted = holm(pvalues)
    assert all(a >= p for a, p in zip(adjusted, pvalues, strict=True)) and max(adjusted) <= 1.0
    for alpha in (0.01, 0.025, 0.05, 0.1):
        by_adjusted = {i for i, a in enumerate(adjusted) if a <= alpha}
        assert by_adjusted == step_down_rejections(pvalues, alpha), (pvalues, alpha)
