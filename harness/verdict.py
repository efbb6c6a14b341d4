"""The verdict: one suite's runs compared pairwise on shared cases, ranked, with the warnings that matter.

Over 300 lines for one reason: the comparisons, the rankings, the warnings and the sentences that state
them are one method (docs/verdict.md); the sentences must name exactly the comparisons the method made."""

from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from harness.cache import Cache
from harness.charts import kind_rank
from harness.errors import InputError
from harness.metrics import format_change
from harness.overlap import NEAR_DUPLICATE_COSINE, Overlap, suite_overlap
from harness.report import Record, Report, Run, format_value
from harness.stats import ALPHA, PERMUTATIONS, bootstrap_ci, detectable_difference, holm, permutation_p
from harness.text import normalise

MIN_TAG_CASES = 20  # a slice smaller than this is listed with its size, never given a verdict
COLLAPSE_SHARE = 0.5  # one answer text for more than half the cases: the system has collapsed
UNSCORED_SHARE = 0.2  # a metric unscored for more than a fifth of a system's cases is flagged
TRAINED_KINDS = ("finetuned", "hybrid")  # the kinds whose systems learn from the train split
OVERLAP_VERSION = 1  # bump when suite_overlap counts differently: cached overlaps are keyed by it
# Unscored reasons that mean "does not apply to this case or system", not "could not be scored".
BY_DESIGN = (
    "closed-book",
    "no gold",
    "no reference answer",
    "case has no reference",
    "reference is the abstention",
    "answerable case",
    "the suite declares no",
)
METHOD = (
    f"paired sign-flip permutation test ({PERMUTATIONS:,} resamples; exact when 2^n is fewer), p adjusted "
    f"by Holm over the suite's comparisons (each tag slice its own family); {int(100 * (1 - ALPHA))}% paired "
    "bootstrap interval of the mean difference; detectable = smallest difference found with 80% power"
)
FAMILIES: dict[str, tuple[str, ...]] = {
    "answer quality": (
        "token_f1",
        "exact_match",
        "answer_recall",
        "rouge_l",
        "rouge_1",
        "rouge_2",
        "factual_correctness",
        "format_match",
        "abstain_correct",
        "abstain_false",
        "answer_relevancy",
        "minilm_answer_relevancy",
    ),
    "grounding": ("faithfulness", "minilm_faithfulness"),
    "retrieval": ("hit_at_k", "recall_at_k", "mrr", "context_precision", "context_recall"),
    "cost and latency": ("latency_s",),
}
Outcome = Literal["A better", "B better", "not distinguishable"]


class Comparison(BaseModel):
    """One metric, two systems, the cases both scored: how far apart, how sure, and the call."""

    model_config = ConfigDict(frozen=True)
    metric: str
    tag: str | None
    system_a: str
    system_b: str
    n: int
    mean_a: float
    mean_b: float
    diff: float  # mean of (a - b) over the paired cases, in the metric's own unit
    ci_low: float
    ci_high: float
    p: float
    p_adjusted: float
    detectable: float
    higher_is_better: bool
    verdict: Outcome

    @property
    def winner(self) -> str | None:
        return {"A better": self.system_a, "B better": self.system_b}.get(self.verdict)


class Standing(BaseModel):
    """A system's place on one metric: 1 + the number of systems significantly better than it."""

    model_config = ConfigDict(frozen=True)
    system: str
    mean: float | None
    rank: int


class Tradeoff(BaseModel):
    """Quality, latency and cost of one system, and whether any other system beats it on all three."""

    model_config = ConfigDict(frozen=True)
    system: str
    kind: str
    quality: float | None
    latency_s: float | None
    cost_per_case: float | None
    pareto: bool


class SuiteVerdict(BaseModel):
    """Everything `harness compare` says about one suite."""

    model_config = ConfigDict(frozen=True)
    suite: str
    version: int
    judges: list[str]
    systems: list[str]
    kinds: dict[str, str]
    runs: dict[str, str]
    n_cases: int
    rank_metric: str | None
    method: str = METHOD
    comparisons: list[Comparison]
    ranking: dict[str, list[Standing]]
    tag_ranking: dict[str, dict[str, list[Standing]]]
    small_tags: dict[str, int]
    not_compared: dict[str, str]
    tradeoff: list[Tradeoff]
    overlap: dict[str, int] | None
    warnings: list[str]
    summary: list[str]


def check_comparable(runs: Sequence[Run]) -> None:
    """Refuse (InputError, exit 2) runs that do not compare: other suite, suite version or judges."""
    first = runs[0].report
    for report in (run.report for run in runs[1:]):
        if report.suite.name != first.suite.name:
            raise InputError(report.run_id, f"is a run of {report.suite.name}, not {first.suite.name}")
        if report.suite.version != first.suite.version:
            raise InputError(
                report.run_id,
                f"is {first.suite.name} v{report.suite.version} but {first.run_id} is "
                f"v{first.suite.version}: results compare only within a suite version (run both again)",
            )
        if sorted(report.judges) != sorted(first.judges):
            raise InputError(
                report.run_id,
                f"was judged by [{', '.join(report.judges)}] but {first.run_id} by "
                f"[{', '.join(first.judges)}]: scores from different judges do not compare",
            )
        if report.suite.limit != first.suite.limit:  # --limit runs compare only alike
            raise InputError(
                report.run_id,
                f"saw {report.n_cases} test cases (--limit {report.suite.limit or 'none'}) but "
                f"{first.run_id} saw {first.n_cases} (--limit {first.suite.limit or 'none'}): "
                "run both with the same --limit, or without",
            )
    names = [run.report.system.name for run in runs]
    if twice := sorted(name for name, count in Counter(names).items() if count > 1):
        raise InputError(first.suite.name, f"two runs of {twice[0]}: name one run folder per system")


def rank_metric(report: Report) -> str | None:
    """The metric a suite is summarised by: token F1 where present, else its first metric with a direction."""
    if "token_f1" in report.summary:
        return "token_f1"
    return next((name for name, s in report.summary.items() if s.higher_is_better is not None), None)


def _values(records: Sequence[Record], metric: str) -> dict[str, float]:
    return {
        record.case_id: value
        for record in records
        if metric in record.scores and (value := record.scores[metric].value) is not None
    }


def _compare(
    metric: str, tag: str | None, a: str, b: str, higher: bool, va: dict[str, float], vb: dict[str, float]
) -> Comparison | None:
    shared = [cid for cid in va if cid in vb]
    if not shared:
        return None
    diffs = np.array([va[cid] - vb[cid] for cid in shared])
    low, high = bootstrap_ci(diffs)
    return Comparison(
        metric=metric,
        tag=tag,
        system_a=a,
        system_b=b,
        n=len(shared),
        mean_a=float(np.mean([va[cid] for cid in shared])),
        mean_b=float(np.mean([vb[cid] for cid in shared])),
        diff=float(diffs.mean()),
        ci_low=low,
        ci_high=high,
        p=permutation_p(diffs),
        p_adjusted=1.0,  # set once the family is complete
        detectable=detectable_difference(diffs),
        higher_is_better=higher,
        verdict="not distinguishable",
    )


def _adjust(family: list[Comparison]) -> list[Comparison]:
    adjusted = holm([c.p for c in family])
    out = []
    for comparison, p_adj in zip(family, adjusted, strict=True):
        verdict: Outcome = "not distinguishable"
        if p_adj < ALPHA and comparison.diff != 0:
            a_better = (comparison.diff > 0) == comparison.higher_is_better
            verdict = "A better" if a_better else "B better"
        out.append(comparison.model_copy(update={"p_adjusted": p_adj, "verdict": verdict}))
    return out


def _ranking(
    systems: Sequence[str], comparisons: Sequence[Comparison], means: dict[str, float | None], higher: bool
) -> list[Standing]:
    beaten_by = Counter(
        c.system_b if c.verdict == "A better" else c.system_a
        for c in comparisons
        if c.verdict != "not distinguishable"
    )
    standings = [Standing(system=s, mean=means.get(s), rank=1 + beaten_by[s]) for s in systems]

    def order(standing: Standing) -> tuple[int, float]:
        mean = standing.mean if standing.mean is not None else (-np.inf if higher else np.inf)
        return standing.rank, -mean if higher else mean

    return sorted(standings, key=order)


def compare_runs(runs: Sequence[Run], overlap: Overlap | None = None) -> SuiteVerdict:
    """Compare the runs of one suite (one run per system). Raises InputError when they do not compare."""
    if not runs:
        raise InputError("compare", "no runs to compare")
    check_comparable(runs)
    runs = sorted(runs, key=lambda run: kind_rank(run.report))
    reports = [run.report for run in runs]
    first = reports[0]
    systems = [r.system.name for r in reports]
    records = {run.report.system.name: run.records for run in runs}
    metrics = list(dict.fromkeys(name for r in reports for name in r.summary))
    not_compared: dict[str, str] = {}
    compared: list[str] = []
    for metric in metrics:
        summaries = [r.summary.get(metric) for r in reports]
        directions = {s.higher_is_better for s in summaries if s is not None}
        if None in directions:
            not_compared[metric] = "no better direction (shown, not compared)"
        elif len({s.judge for s in summaries if s is not None}) > 1:
            not_compared[metric] = "graded by different judges"
        elif sum(1 for s in summaries if s is not None and s.mean is not None) < 2:
            not_compared[metric] = (
                "scored for fewer than two systems (e.g. retrieval for closed-book systems)"
            )
        else:
            compared.append(metric)
    tags = sorted({tag for recs in records.values() for record in recs for tag in record.tags})

    def family(tag: str | None) -> list[Comparison]:
        found = []
        for metric in compared:
            higher = next(r.summary[metric].higher_is_better for r in reports if metric in r.summary)
            for a, b in combinations(systems, 2):
                chosen_a = [x for x in records[a] if tag is None or tag in x.tags]
                chosen_b = [x for x in records[b] if tag is None or tag in x.tags]
                va, vb = _values(chosen_a, metric), _values(chosen_b, metric)
                made = _compare(metric, tag, a, b, bool(higher), va, vb)
                if made is not None and (tag is None or made.n >= MIN_TAG_CASES):
                    found.append(made)
        return _adjust(found) if found else []

    comparisons = family(None)
    small_tags: dict[str, int] = {}
    tag_ranking: dict[str, dict[str, list[Standing]]] = {}
    for tag in tags:
        sliced = family(tag)
        if not sliced:
            small_tags[tag] = max(sum(tag in x.tags for x in recs) for recs in records.values())
            continue
        comparisons += sliced
        tag_ranking[tag] = _rankings(systems, sliced, records, tag)
    ranking = _rankings(systems, [c for c in comparisons if c.tag is None], records, None)
    tradeoff = _tradeoff(reports, rank_metric(first))
    verdict = SuiteVerdict(
        suite=first.suite.name,
        version=int(first.suite.version),
        judges=list(first.judges),
        systems=systems,
        kinds={r.system.name: r.system.kind for r in reports},
        runs={r.system.name: r.run_id for r in reports},
        n_cases=max(r.n_cases for r in reports),
        rank_metric=rank_metric(first),
        comparisons=comparisons,
        ranking=ranking,
        tag_ranking=tag_ranking,
        small_tags=small_tags,
        not_compared=not_compared,
        tradeoff=tradeoff,
        overlap=overlap.counts() if overlap else None,
        warnings=warnings(runs, overlap),
        summary=[],
    )
    from pathlib import Path

    from harness.calibration import sentence as calibration_sentence

    # beside the judged metrics: how far each agrees with people (harness calibrate), or "not calibrated"
    calibration = calibration_sentence(first.summary, Path(first.suite.path) / "suite.yaml")
    return verdict.model_copy(update={"summary": summary_sentences(verdict) + calibration})


def _rankings(
    systems: Sequence[str],
    comparisons: Sequence[Comparison],
    records: Mapping[str, Sequence[Record]],
    tag: str | None,
) -> dict[str, list[Standing]]:
    ranked: dict[str, list[Standing]] = {}
    for metric in dict.fromkeys(c.metric for c in comparisons):
        chosen = [c for c in comparisons if c.metric == metric]
        means: dict[str, float | None] = {}
        for system in systems:
            values = list(
                _values([x for x in records[system] if tag is None or tag in x.tags], metric).values()
            )
            means[system] = float(np.mean(values)) if values else None
        ranked[metric] = _ranking(
            [s for s in systems if means[s] is not None], chosen, means, chosen[0].higher_is_better
        )
    return ranked


def _tradeoff(reports: Sequence[Report], metric: str | None) -> list[Tradeoff]:
    rows = []
    for r in reports:
        quality = r.summary[metric].mean if metric and metric in r.summary else None
        latency = r.summary["latency_s"].mean if "latency_s" in r.summary else None
        used = r.usage.system
        cost = used.cost_usd / r.n_cases if used.calls and r.n_cases else None
        rows.append((r, quality, latency, cost))
    any_cost = any(cost is not None for *_, cost in rows)

    def point(row: tuple[Report, float | None, float | None, float | None]) -> tuple[float, ...]:
        _, quality, latency, cost = row
        values = (
            -(quality if quality is not None else -np.inf),
            latency if latency is not None else np.inf,
        )
        return (*values, cost or 0.0) if any_cost else values

    out = []
    for row in rows:
        mine = point(row)
        dominated = any(
            all(o <= m for o, m in zip(other, mine, strict=True)) and other != mine
            for other in (point(x) for x in rows if x is not row)
        )
        r, quality, latency, cost = row
        out.append(
            Tradeoff(
                system=r.system.name,
                kind=r.system.kind,
                quality=quality,
                latency_s=latency,
                cost_per_case=cost,
                pareto=not dominated and quality is not None,
            )
        )
    return out


def warnings(runs: Sequence[Run], overlap: Overlap | None) -> list[str]:
    """What makes the comparison other than it looks: overlap, collapsed systems, unscored cases, drift."""
    found: list[str] = []
    closed_book = [
        run.report.system.name
        for run in runs
        if run.report.system.kind in ("finetuned", "base")
        and all(x.answer.contexts is None for x in run.records)
    ]
    tuned_closed = [run.report.system.name for run in runs if run.report.system.kind == "finetuned"]
    if overlap is not None and overlap.n_train:
        lines = overlap.lines()
        if overlap.shared_references or overlap.near_duplicate_questions:
            target = (
                ", ".join(n for n in tuned_closed if n in closed_book) or "a closed-book fine-tuned system"
            )
            found.append(f"train/test overlap: {lines[0]} ({target})")
            found.append(f"train/test overlap: {lines[1]}")
        if overlap.shared_gold:
            found.append(f"train/test overlap: {lines[2]}")
    for report, recs in ((run.report, run.records) for run in runs):
        name = report.system.name
        answered = [normalise(x.answer.text) for x in recs if x.answer.error is None]
        if answered:
            text, count = Counter(answered).most_common(1)[0]
            if count > COLLAPSE_SHARE * len(recs):
                shown = next(
                    x.answer.text for x in recs if x.answer.error is None and normalise(x.answer.text) == text
                )
                found.append(
                    f"collapsed system: {name} gives the same answer to {count} of {len(recs)} cases "
                    f"({shown[:60]!r}); its scores say little about the approach"
                )
        if report.n_errors:
            found.append(f"failed answers: {name} failed on {report.n_errors} of {report.n_cases} cases")
        for metric, summary in report.summary.items():
            total = summary.n_scored + summary.n_unscored
            # Cases a metric does not apply to by design (retrieval for a closed-book system, abstain_false
            # on an unanswerable case) are expected; what is flagged is a metric failing to score.
            failing = {why: n for why, n in summary.unscored_reasons.items() if not why.startswith(BY_DESIGN)}
            if not total or sum(failing.values()) <= UNSCORED_SHARE * total:
                continue
            reasons = "; ".join(f"{why} ({n})" for why, n in failing.items())
            found.append(
                f"unscored: {metric} for {name}: {sum(failing.values())} of {total} cases ({reasons}); "
                "its comparisons use only the cases both systems scored"
            )
    hashes = {run.report.suite.hash for run in runs}
    if len(hashes) > 1:
        found.append("suite data differs between these runs (same version, other hash): bump the version")
    ids = [{x.case_id for x in run.records} for run in runs]
    if ids and any(s != ids[0] for s in ids):
        found.append("the runs cover different cases: each comparison uses only the cases both scored")
    return found


def format_diff(c: Comparison) -> str:
    low, high = (format_change(end, c.metric, suffix=False) for end in (c.ci_low, c.ci_high))
    return f"{format_change(c.diff, c.metric)} [{low}, {high}]"


def _p(value: float) -> str:
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def family_of(metric: str) -> str:
    return next((name for name, members in FAMILIES.items() if metric in members), "other")


def summary_sentences(verdict: SuiteVerdict) -> list[str]:
    """One sentence per metric family from the numbers: the winner with its figures, or 'cannot tell'."""
    overall = [c for c in verdict.comparisons if c.tag is None]
    sentences = []
    metrics_by_family: dict[str, list[str]] = {}
    for metric in verdict.ranking:
        metrics_by_family.setdefault(family_of(metric), []).append(metric)
    for family_name in [*FAMILIES, "other"]:
        members = metrics_by_family.get(family_name)
        if not members:
            continue
        winners = {}
        for metric in members:
            top = [s for s in verdict.ranking[metric] if s.rank == 1]
            winners[metric] = top[0].system if len(top) == 1 else None
        decided = {m: w for m, w in winners.items() if w is not None}
        head = family_name.capitalize()
        separated = [m for m in members if any(c.metric == m and c.winner for c in overall)]
        if not decided and separated:
            # No single best system, but the suite does separate some: say who shares the top and who not.
            metric = verdict.rank_metric if verdict.rank_metric in separated else separated[0]
            leaders = [s.system for s in verdict.ranking[metric] if s.rank == 1]
            behind = [s.system for s in verdict.ranking[metric] if s.rank > 1]
            means = ", ".join(f"{s.system} {format_value(s.mean, metric)}" for s in verdict.ranking[metric])
            sentences.append(
                f"{head}: no single winner on {len(members)} metric(s); on {metric}, {' and '.join(leaders)} "
                f"share the top rank (the suite cannot separate them), and {', '.join(behind)} "
                f"rank{'s' * (len(behind) == 1)} below at least one of them ({means})."
            )
            continue
        if not decided:
            metric = verdict.rank_metric if verdict.rank_metric in members else members[0]
            closest = [c for c in overall if c.metric == metric]
            widest = max((c.detectable for c in closest), default=float("nan"))
            means = ", ".join(f"{s.system} {format_value(s.mean, metric)}" for s in verdict.ranking[metric])
            n_paired = min((c.n for c in closest), default=0)
            if n_paired < 2:
                power = f"only {n_paired} paired case(s): too few to test"
            else:
                below = format_value(widest, metric)
                power = f"with {n_paired} paired cases a difference below about {below} goes undetected"
            sentences.append(
                f"{head}: the suite cannot tell the systems apart on {len(members)} metric(s) "
                f"({metric}: {means}; {power})."
            )
            continue
        parts = []
        by_winner: dict[str, list[str]] = {}
        for metric, winner in decided.items():
            by_winner.setdefault(winner, []).append(metric)
        for winner, won in by_winner.items():
            metric = verdict.rank_metric if verdict.rank_metric in won else won[0]
            # the closest rival the winner still beat
            beaten = [c for c in overall if c.metric == metric and c.winner == winner]
            nearest = min(beaten, key=lambda c: abs(c.diff))
            rival = nearest.system_b if nearest.system_a == winner else nearest.system_a
            sign = 1 if nearest.system_a == winner else -1
            diff = nearest.model_copy(
                update={
                    "diff": sign * nearest.diff,
                    "ci_low": min(sign * nearest.ci_low, sign * nearest.ci_high),
                    "ci_high": max(sign * nearest.ci_low, sign * nearest.ci_high),
                }
            )
            mine, theirs = (nearest.mean_a, nearest.mean_b) if sign == 1 else (nearest.mean_b, nearest.mean_a)
            others = (
                f" and {len(won) - 1} more ({', '.join(m for m in won if m != metric)})"
                if len(won) > 1
                else ""
            )
            parts.append(
                f"{winner} on {metric}{others}: {format_value(mine, metric)} vs "
                f"{format_value(theirs, metric)} for the "
                f"runner-up {rival}, difference {format_diff(diff)}, p_adj {_p(nearest.p_adjusted)}, "
                f"{nearest.n} cases"
            )
        undecided = [m for m, w in winners.items() if w is None]
        tail = f"; no single winner on {', '.join(undecided)}" if undecided else ""
        sentences.append(f"{head}: " + "; ".join(parts) + tail + ".")
    if verdict.rank_metric and verdict.tag_ranking:
        for tag, ranked in verdict.tag_ranking.items():
            if verdict.rank_metric not in ranked:
                continue
            order = ranked[verdict.rank_metric]
            text = ", ".join(
                f"{s.rank}. {s.system} {format_value(s.mean, verdict.rank_metric)}" for s in order
            )
            sentences.append(f"On cases tagged {tag!r} ({verdict.rank_metric}): {text}.")
    if verdict.small_tags:
        small = ", ".join(f"{t!r} ({n})" for t, n in verdict.small_tags.items())
        sentences.append(f"Too few cases for a verdict (under {MIN_TAG_CASES}): {small}.")
    front = [t.system for t in verdict.tradeoff if t.pareto]
    if front and verdict.rank_metric:
        sentences.append(
            f"Pareto front ({verdict.rank_metric} against latency"
            + (" and cost" if any(t.cost_per_case is not None for t in verdict.tradeoff) else "")
            + f"): {', '.join(front)}."
        )
    return sentences


def outcome_text(c: Comparison) -> str:
    return {"A better": f"{c.system_a} better", "B better": f"{c.system_b} better"}.get(
        c.verdict, "not distinguishable"
    )


def render_text(verdict: SuiteVerdict, full: bool = False) -> str:
    """The verdict for a terminal or a markdown file: summary, rankings, warnings, and (full) every pair."""
    lines = [
        f"== Verdict: {verdict.suite} v{verdict.version} ({len(verdict.systems)} systems, "
        f"{verdict.n_cases} cases; judges: {', '.join(verdict.judges) or 'none'})",
        *verdict.summary,
        "",
        "Ranking (1 + the number of systems significantly better; ties share a rank):",
    ]
    for metric, standings in verdict.ranking.items():
        text = "  ".join(f"{s.rank}. {s.system} {format_value(s.mean, metric)}" for s in standings)
        lines.append(f"  {metric}: {text}")
    if verdict.not_compared:
        lines.append("Not compared: " + "; ".join(f"{m} ({why})" for m, why in verdict.not_compared.items()))
    lines.append("Warnings:" if verdict.warnings else "Warnings: none")
    lines += [f"  ! {warning}" for warning in verdict.warnings]
    if full:
        lines += [
            "",
            "| metric | tag | A | B | n | mean A | mean B | A - B [95% CI] | p | p adj (Holm) | "
            "detectable | verdict |",
            "| " + " | ".join(["---"] * 12) + " |",
        ]
        for c in verdict.comparisons:
            cells = [
                c.metric,
                c.tag or "all",
                c.system_a,
                c.system_b,
                str(c.n),
                format_value(c.mean_a, c.metric),
                format_value(c.mean_b, c.metric),
                format_diff(c),
                _p(c.p),
                _p(c.p_adjusted),
                format_value(c.detectable, c.metric),
                outcome_text(c),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", f"Method: {verdict.method}."]
    return "\n".join(lines)


def overlap_of(report: Report, cache: Cache | None = None) -> tuple[Overlap | None, str | None]:
    """The train/test overlap of a run's suite, read from its folder as it is now; or None and why not."""
    from harness.suite import load_suite

    # The overlap of the suite the run measured is keyed by that suite's hash: a warm verdict needs no load.
    key = Cache.key("overlap", report.suite.hash, NEAR_DUPLICATE_COSINE, OVERLAP_VERSION) if cache else ""
    if cache is not None and (hit := cache.get(key)) is not None:
        return Overlap.model_validate(hit), None
    path = report.suite.path
    try:
        suite = load_suite(path)
    except InputError as err:
        return None, f"train/test overlap not computed: {err}"
    if suite.hash != report.suite.hash:
        return None, f"train/test overlap not computed: {path} changed since run {report.run_id}"
    found = suite_overlap(suite)
    if cache is not None:
        cache.put(key, found.model_dump(mode="json"))
    return found, None


def verdicts_for(runs: Sequence[Run], cache: Cache | None = None, overlap: bool = True) -> list[SuiteVerdict]:
    """One verdict per suite among the runs (one run per system each), with the suite's overlap."""
    out = []
    for name in dict.fromkeys(run.report.suite.name for run in runs):
        group = [run for run in runs if run.report.suite.name == name]
        # Train/test overlap says what a trained system's score means; with no system that trained on the
        # train split it says nothing about the comparison, and its near-duplicate search embeds every
        # train question (a fifth of a cold 10k-passage rag run), so it is left out.
        trained = any(run.report.system.kind in TRAINED_KINDS for run in group)
        found, problem = overlap_of(group[0].report, cache) if overlap and trained else (None, None)
        verdict = compare_runs(group, found)
        if problem:
            verdict = verdict.model_copy(update={"warnings": [*verdict.warnings, problem]})
        out.append(verdict)
    return out


def to_json(verdicts: Sequence[SuiteVerdict]) -> dict[str, Any]:
    """{suite: verdict} for --json, verdict.json and MLflow."""
    return {v.suite: v.model_dump(mode="json") for v in verdicts}


__all__ = [
    "Comparison",
    "Standing",
    "SuiteVerdict",
    "Tradeoff",
    "check_comparable",
    "compare_runs",
    "overlap_of",
    "verdicts_for",
    "render_text",
    "to_json",
    "warnings",
]
