"""How well a metric agrees with people: AUROC, Spearman, Kendall tau-b, balanced accuracy at a threshold
chosen on one half, pairwise agreement, flip rate; each with a 95% percentile bootstrap over items.

Items, not labels, are resampled: where two annotators label one item, its rows stay together, so a
second label does not pass for a second item.

Over 300 lines for one reason: each agreement statistic sits beside its item bootstrap and its
hand-checkable definition.
"""

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from harness.stats import BOOTSTRAP_SAMPLES, bootstrap_ci

TIE = 1e-12  # metric differences smaller than this are a tie
Stat = Callable[[np.ndarray], float]


def ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing the average of their ranks."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    boundaries = np.flatnonzero(np.diff(ordered) != 0) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(values)]))
    average = (starts + ends + 1) / 2.0  # mean of ranks start+1 .. end
    result = np.empty(len(values))
    result[order] = np.repeat(average, ends - starts)
    return result


def auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    """P(a positive scores above a negative), ties counted half: the Mann-Whitney U over n1 * n0."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    rank = ranks(scores)
    u = rank[positive].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of the average ranks; NaN when either side is constant."""
    if len(x) < 2:
        return math.nan
    rx, ry = ranks(x), ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = math.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    return float((rx * ry).sum() / denominator) if denominator > 0 else math.nan


def kendall(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b (ties on either side corrected for), scipy's O(n log n) implementation."""
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return math.nan
    return float(scipy_stats.kendalltau(x, y).statistic)


def balanced_accuracy(scores: np.ndarray, positive: np.ndarray, threshold: float) -> float:
    """Mean of the true-positive and true-negative rates when `score >= threshold` predicts positive."""
    if positive.all() or not positive.any():
        return math.nan
    predicted = scores >= threshold
    return float((predicted[positive].mean() + (~predicted[~positive]).mean()) / 2)


def best_threshold(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """The cut with the best balanced accuracy on these labels (the lowest such cut on a tie)."""
    if positive.all() or not positive.any():
        return None
    candidates = np.unique(scores)
    accuracies = [balanced_accuracy(scores, positive, cut) for cut in candidates]
    return float(candidates[int(np.argmax(accuracies))])


def item_bootstrap(
    groups: Sequence[np.ndarray], statistic: Stat, seed: int = 0
) -> tuple[float | None, float | None]:
    """95% percentile interval of `statistic(rows)` with items (groups of row indices) resampled.

    Resamples where the statistic is undefined (one class only, a constant side) are left out; with
    fewer than half of them defined there is no interval.
    """
    if len(groups) < 2:
        return None, None
    rng = np.random.default_rng(seed)
    sizes = np.array([len(g) for g in groups])
    flat = np.concatenate(groups)
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    values = np.empty(BOOTSTRAP_SAMPLES)
    for b in range(BOOTSTRAP_SAMPLES):
        chosen = rng.integers(0, len(groups), size=len(groups))
        if np.all(sizes == 1):
            rows = flat[chosen]
        else:
            rows = np.concatenate([flat[offsets[i] : offsets[i] + sizes[i]] for i in chosen])
        values[b] = statistic(rows)
    defined = values[~np.isnan(values)]
    if len(defined) < BOOTSTRAP_SAMPLES / 2:
        return None, None
    low, high = np.percentile(defined, [2.5, 97.5])
    return float(low), float(high)


def figure(groups: Sequence[np.ndarray], statistic: Stat, seed: int = 0, **extra: Any) -> dict[str, Any]:
    """A figure as saved: its value on every row, its interval, and how many items and rows it rests on."""
    rows = np.concatenate(groups) if groups else np.array([], dtype=int)
    value = statistic(rows) if len(rows) else math.nan
    low, high = item_bootstrap(groups, statistic, seed) if not math.isnan(value) else (None, None)
    return {
        "value": None if math.isnan(value) else value,
        "ci_low": low,
        "ci_high": high,
        "n_items": len(groups),
        "n_labels": int(len(rows)),
        **extra,
    }


def groups_of(item_of_row: np.ndarray, keep: np.ndarray | None = None) -> list[np.ndarray]:
    """Row indices grouped by item, in first-seen order, keeping only rows where `keep` is true."""
    found: dict[int, list[int]] = {}
    for row, item in enumerate(item_of_row):
        if keep is None or keep[row]:
            found.setdefault(int(item), []).append(row)
    return [np.array(rows, dtype=int) for rows in found.values()]


def pointwise_figures(
    scores: np.ndarray, labels: np.ndarray, item_of_row: np.ndarray, binary: bool, high: float, seed: int
) -> dict[str, Any]:
    """Scores (one per labelled row, NaN for unscored) against labels."""
    scored = ~np.isnan(scores)
    groups = groups_of(item_of_row, scored)
    out: dict[str, Any] = {}
    if binary:
        positive = labels == high
        out["auroc"] = figure(groups, lambda r: auroc(scores[r], positive[r]), seed)
        out.update(_split_accuracy(scores, positive, item_of_row, scored, seed))
    else:
        out["spearman"] = figure(groups, lambda r: spearman(scores[r], labels[r]), seed)
        out["kendall_tau_b"] = figure(groups, lambda r: kendall(scores[r], labels[r]), seed)
    return out


def _split_accuracy(
    scores: np.ndarray, positive: np.ndarray, item_of_row: np.ndarray, scored: np.ndarray, seed: int
) -> dict[str, Any]:
    """Balanced accuracy at the threshold chosen on a seeded half of the items, reported on the other."""
    items = np.unique(item_of_row[scored])
    rng = np.random.default_rng(seed)
    chosen_half = set(rng.permutation(items)[: len(items) // 2].tolist())
    in_choice = np.array([int(i) in chosen_half for i in item_of_row]) & scored
    in_report = ~np.array([int(i) in chosen_half for i in item_of_row]) & scored
    threshold = best_threshold(scores[in_choice], positive[in_choice])
    if threshold is None:
        return {"balanced_accuracy": {"value": None, "reason": "the choosing half has one class only"}}
    groups = groups_of(item_of_row, in_report)
    return {
        "balanced_accuracy": figure(
            groups,
            lambda r: balanced_accuracy(scores[r], positive[r], threshold),
            seed,
            threshold=threshold,
            chosen_on_items=int(len(chosen_half)),
        )
    }


def pairwise_figures(
    diffs: np.ndarray, preferences: np.ndarray, item_of_row: np.ndarray, seed: int
) -> dict[str, Any]:
    """Metric differences (a - b, one per labelled row, NaN when either answer is unscored) against
    preferences (positive: people preferred a). Agreement is counted on the pairs people decided; metric
    ties and pairs people tied are counted separately."""
    scored = ~np.isnan(diffs)
    sign = np.sign(np.where(np.abs(np.nan_to_num(diffs)) < TIE, 0.0, np.nan_to_num(diffs)))
    wanted = np.sign(preferences)
    decided = scored & (wanted != 0)
    groups = groups_of(item_of_row, decided)

    def share(condition: np.ndarray) -> Stat:
        return lambda r: float(condition[r].mean()) if len(r) else math.nan

    agree, disagree, tie = sign == wanted, (sign == -wanted) & (sign != 0), sign == 0

    def decisive(r: np.ndarray) -> float:
        counted = agree[r].sum() + disagree[r].sum()
        return float(agree[r].sum() / counted) if counted else math.nan

    human_ties = scored & (wanted == 0)
    return {
        "agreement": figure(groups, share(agree), seed),
        "disagreement": figure(groups, share(disagree), seed),
        "metric_ties": figure(groups, share(tie), seed),
        "agreement_when_metric_decides": figure(groups, decisive, seed),
        "correlation_spearman": figure(
            groups_of(item_of_row, scored), lambda r: spearman(diffs[r], preferences[r]), seed
        ),
        "human_ties": {
            "n_labels": int(human_ties.sum()),
            "metric_also_ties": float(tie[human_ties].mean()) if human_ties.any() else None,
        },
    }


def ceiling(
    first: np.ndarray, second: np.ndarray, kind: str, binary: bool, high: float, seed: int
) -> dict[str, Any]:
    """The annotators' own agreement on the items two of them labelled: the first label of each item in
    the metric's place and the second as the truth, so the figures read on the metric's own scale."""
    groups = [np.array([i]) for i in range(len(first))]
    out: dict[str, Any] = {"n_items": len(first)}
    if kind == "pairwise":
        out.update(pairwise_figures(first, second, np.arange(len(first)), seed))
    elif binary:
        a, b = first == high, second == high
        out["auroc"] = figure(groups, lambda r: auroc(a[r].astype(float), b[r]), seed)
        out["raw_agreement"] = figure(groups, lambda r: float((a[r] == b[r]).mean()), seed)
        out["cohen_kappa"] = figure(groups, lambda r: cohen_kappa(a[r], b[r]), seed)
    else:
        out["spearman"] = figure(groups, lambda r: spearman(first[r], second[r]), seed)
        out["kendall_tau_b"] = figure(groups, lambda r: kendall(first[r], second[r]), seed)
    return out


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    observed = float((a == b).mean())
    expected = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
    return (observed - expected) / (1 - expected) if expected < 1 else math.nan


def consistency(repeats: np.ndarray, threshold: float, seed: int = 0) -> dict[str, Any]:
    """Self-consistency of k scorings of the same units (rows: units, columns: repeats; NaN unscored).

    A unit flips when its scores fall on both sides of `threshold`; its spread is max - min. Units with a
    repeat unscored are counted apart, not as flips.
    """
    complete = ~np.isnan(repeats).any(axis=1)
    done = repeats[complete]
    if not len(done):
        return {"n_units": 0, "n_incomplete": int((~complete).sum()), "threshold": threshold}
    above = done >= threshold
    flips = (above.any(axis=1) & ~above.all(axis=1)).astype(float)
    spread = done.max(axis=1) - done.min(axis=1)
    flip_low, flip_high = bootstrap_ci(flips, seed)
    spread_low, spread_high = bootstrap_ci(spread, seed)
    return {
        "k": int(repeats.shape[1]),
        "threshold": threshold,
        "n_units": int(len(done)),
        "n_incomplete": int((~complete).sum()),
        "flip_rate": {"value": float(flips.mean()), "ci_low": flip_low, "ci_high": flip_high},
        "mean_spread": {"value": float(spread.mean()), "ci_low": spread_low, "ci_high": spread_high},
        "max_spread": float(spread.max()),
        "share_changed": float((spread > TIE).mean()),
        "mean_sd": float(done.std(axis=1, ddof=1).mean()) if done.shape[1] > 1 else 0.0,
    }


def decision_flips(diffs: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Pairs whose winner (the sign of a - b; a tie is its own outcome) changes between repeats."""
    complete = ~np.isnan(diffs).any(axis=1)
    done = diffs[complete]
    if not len(done):
        return {"n_pairs": 0}
    signs = np.sign(np.where(np.abs(done) < TIE, 0.0, done))
    flips = (signs != signs[:, :1]).any(axis=1).astype(float)
    low, high = bootstrap_ci(flips, seed)
    return {
        "n_pairs": int(len(done)),
        "flip_rate": {"value": float(flips.mean()), "ci_low": low, "ci_high": high},
    }


# The figure that heads each kind of label, the level that means no agreement at all, and the level below
# which the harness calls a metric's agreement poor (a rule of thumb, documented in docs/calibration.md).
HEADLINE: dict[str, tuple[str, float, float]] = {
    "binary": ("auroc", 0.5, 0.7),
    "graded": ("spearman", 0.0, 0.4),
    "pairwise": ("agreement", 0.5, 0.7),
}


def headline(figures: dict[str, Any], which: str) -> dict[str, Any]:
    """The one figure shown beside the metric elsewhere, and whether it counts as agreeing poorly."""
    name, chance, poor_below = HEADLINE[which]
    found = figures.get(name) or {}
    value, low = found.get("value"), found.get("ci_low")
    # undefined (nothing scored, one class only): neither agreeing well nor poorly, just not measured
    poor = None if value is None else value < poor_below or low is None or low <= chance
    return {
        "figure": name,
        "value": value,
        "ci_low": low,
        "ci_high": found.get("ci_high"),
        "n_items": found.get("n_items", 0),
        "chance": chance,
        "poor_below": poor_below,
        "agrees_poorly": poor,
    }
