"""Every metric the harness knows: one table, name -> how to build it, whether a judge grades it, its
better direction and its unit.

`METRICS`, `NEEDS_KEY`, `DIRECTIONLESS` (and `judged.JUDGED`) are views of the table kept for the code
that reads them; `TABLE` is the one to extend.
"""

from collections.abc import Callable, Sequence
from typing import NamedTuple

from harness.cache import Cache
from harness.errors import InputError
from harness.metrics.answer import (
    AbstainCorrect,
    AbstainFalse,
    AnswerRecall,
    AnswerTokens,
    FormatMatch,
)
from harness.metrics.base import Metric, MetricBase, Score, answer_hash, score_key
from harness.metrics.judged import RagasMetric
from harness.metrics.lexical import ExactMatch, Latency, Rouge, TokenF1
from harness.metrics.offline_judge import MiniLMAnswerRelevancy, MiniLMFaithfulness
from harness.metrics.retrieval import MRR, HitAtK, RecallAtK, SpanHitAtK, corpus_documents
from harness.metrics.units import SCORE, SECONDS, TOKENS, Display, change_text, display, value_text
from harness.values import JudgeSpec, Suite
from harness.yamlfile import did_you_mean

Factory = Callable[[Suite, JudgeSpec | None, Cache | None], Metric]


class MetricInfo(NamedTuple):
    """One row of the metric table. The built metric's own `higher_is_better` and `unit` agree with it
    (a test checks every row)."""

    factory: Factory  # (suite, judge, store) -> Metric; only judged metrics use the judge and the store
    judged: bool = False  # graded by the suite's judge model: needs a judge: block, left out by --no-judge
    higher_is_better: bool | None = True  # None: no better direction (shown, never gated or compared)
    unit: str = SCORE
    needs_key: str | None = None  # the suite.yaml key the metric reads; a suite listing it must set it


def _plain(
    build: Callable[[Suite], Metric],
    higher_is_better: bool | None = True,
    unit: str = SCORE,
    needs_key: str | None = None,
) -> MetricInfo:
    """A row for a metric built from the suite alone."""
    return MetricInfo(lambda suite, judge, store: build(suite), False, higher_is_better, unit, needs_key)


def _judged(name: str) -> MetricInfo:
    """A row for a ragas metric graded by the suite's judge (or the one `harness score` names)."""

    def build(suite: Suite, judge: JudgeSpec | None, store: Cache | None) -> Metric:
        if judge is None:
            raise InputError(suite.path, f"metric '{name}' needs a judge: add a 'judge:' block to suite.yaml")
        return RagasMetric(name, judge, store)

    return MetricInfo(build, judged=True)


TABLE: dict[str, MetricInfo] = {
    "rouge_1": _plain(lambda suite: Rouge("rouge_1", "rouge1")),
    "rouge_2": _plain(lambda suite: Rouge("rouge_2", "rouge2")),
    "rouge_l": _plain(lambda suite: Rouge("rouge_l", "rougeL")),
    "exact_match": _plain(lambda suite: ExactMatch(suite.abstention)),
    "token_f1": _plain(lambda suite: TokenF1(suite.abstention)),
    # Retrieval: k (and MRR's depth) in distinct documents; span_hit_at_k in the generator's chunks.
    "hit_at_k": _plain(lambda suite: HitAtK(suite.k, corpus_documents(suite))),
    "recall_at_k": _plain(lambda suite: RecallAtK(suite.k, corpus_documents(suite))),
    "mrr": _plain(lambda suite: MRR(documents=corpus_documents(suite))),
    "mrr_at_k": _plain(lambda suite: MRR(suite.k, corpus_documents(suite), "mrr_at_k")),
    "span_hit_at_k": _plain(lambda suite: SpanHitAtK(suite.k)),
    "answer_recall": _plain(lambda suite: AnswerRecall(suite.abstention)),
    "answer_tokens": _plain(lambda suite: AnswerTokens(), higher_is_better=None, unit=TOKENS),
    "format_match": _plain(lambda suite: FormatMatch(suite.format, suite.abstention), needs_key="format"),
    "abstain_correct": _plain(lambda suite: AbstainCorrect(suite.abstention), needs_key="abstention"),
    "abstain_false": _plain(
        lambda suite: AbstainFalse(suite.abstention), higher_is_better=False, needs_key="abstention"
    ),
    "minilm_faithfulness": _plain(lambda suite: MiniLMFaithfulness(suite.abstention)),
    "minilm_answer_relevancy": _plain(lambda suite: MiniLMAnswerRelevancy()),
    "latency_s": _plain(lambda suite: Latency(), higher_is_better=False, unit=SECONDS),
    # LLM-judged, computed by ragas (judged.RAGAS says how).
    "faithfulness": _judged("faithfulness"),
    "answer_relevancy": _judged("answer_relevancy"),
    "context_precision": _judged("context_precision"),
    "context_recall": _judged("context_recall"),
    "factual_correctness": _judged("factual_correctness"),
}


def _suite_only(info: MetricInfo) -> Callable[[Suite], Metric]:
    return lambda suite: info.factory(suite, None, None)


# Views of the table, for the code that reads them by these names.
METRICS: dict[str, Callable[[Suite], Metric]] = {
    name: _suite_only(info) for name, info in TABLE.items() if not info.judged
}  # the metrics built from the suite alone
NEEDS_KEY: dict[str, str] = {name: info.needs_key for name, info in TABLE.items() if info.needs_key}
DIRECTIONLESS = frozenset(name for name, info in TABLE.items() if info.higher_is_better is None)


def is_judged(name: str) -> bool:
    """Whether the metric is graded by the suite's judge model (False for a name the table lacks)."""
    return name in TABLE and TABLE[name].judged


def unit_of(name: str) -> str:
    """The unit of the metric called `name`; a score for a name the table does not know."""
    return TABLE[name].unit if name in TABLE else SCORE


def format_value(value: float | None, name: str = "") -> str:
    """A value of metric `name` as every report writes it: `0.812`, `153.2 ms`, `12.5`, `n/a`."""
    return value_text(value, unit_of(name))


def format_change(value: float, name: str = "", suffix: bool = True) -> str:
    """A signed change in metric `name`: `+0.050`, `-12.0 ms` (`suffix=False`: `-12.0`)."""
    return change_text(value, unit_of(name), suffix)


def display_of(name: str) -> Display:
    """How values of metric `name` are scaled and labelled (charts)."""
    return display(unit_of(name))


def build_metrics(
    suite: Suite,
    store: Cache | None = None,
    judge: JudgeSpec | None = None,
    names: Sequence[str] | None = None,
    use_judge: bool = True,
) -> list[Metric]:
    """The suite's metrics in the order suite.yaml lists them (or `names`), LLM-judged ones included.

    `judge` replaces the suite's judge (re-scoring with another judge); `use_judge=False` leaves the
    judged metrics out (a run without an API key).
    """
    judge = judge or suite.judge
    built: list[Metric] = []
    for name in names or list(suite.metrics):
        info = TABLE.get(name)
        if info is None:
            raise InputError(suite.path, f"unknown metric '{name}'{did_you_mean(name, list(TABLE))}")
        if info.judged and not use_judge:
            continue
        built.append(info.factory(suite, judge, store))
    return built


__all__ = [
    "DIRECTIONLESS",
    "METRICS",
    "NEEDS_KEY",
    "SCORE",
    "SECONDS",
    "TABLE",
    "TOKENS",
    "Metric",
    "MetricBase",
    "MetricInfo",
    "Score",
    "answer_hash",
    "build_metrics",
    "display_of",
    "format_change",
    "format_value",
    "is_judged",
    "score_key",
    "unit_of",
]
