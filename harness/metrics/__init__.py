"""Every metric the harness knows: one table, name -> factory(suite) -> Metric."""

from collections.abc import Callable, Sequence

from harness.cache import Cache
from harness.errors import InputError
from harness.metrics.answer import (
    AbstainCorrect,
    AbstainFalse,
    AnswerRecall,
    AnswerTokens,
    FormatMatch,
)
from harness.metrics.base import Metric, Score
from harness.metrics.lexical import ExactMatch, Latency, Rouge, TokenF1
from harness.metrics.offline_judge import MiniLMAnswerRelevancy, MiniLMFaithfulness
from harness.metrics.retrieval import MRR, HitAtK, RecallAtK, SpanHitAtK, corpus_documents
from harness.suite import JudgeSpec, Suite
from harness.yamlfile import did_you_mean

METRICS: dict[str, Callable[[Suite], Metric]] = {
    "rouge_1": lambda suite: Rouge("rouge_1", "rouge1"),
    "rouge_2": lambda suite: Rouge("rouge_2", "rouge2"),
    "rouge_l": lambda suite: Rouge("rouge_l", "rougeL"),
    "exact_match": lambda suite: ExactMatch(suite.abstention),
    "token_f1": lambda suite: TokenF1(suite.abstention),
    # Retrieval: k (and MRR's depth) in distinct documents; span_hit_at_k in the generator's chunks.
    "hit_at_k": lambda suite: HitAtK(suite.k, corpus_documents(suite)),
    "recall_at_k": lambda suite: RecallAtK(suite.k, corpus_documents(suite)),
    "mrr": lambda suite: MRR(documents=corpus_documents(suite)),
    "mrr_at_k": lambda suite: MRR(suite.k, corpus_documents(suite), "mrr_at_k"),
    "span_hit_at_k": lambda suite: SpanHitAtK(suite.k),
    "answer_recall": lambda suite: AnswerRecall(suite.abstention),
    "answer_tokens": lambda suite: AnswerTokens(),
    "format_match": lambda suite: FormatMatch(suite.format, suite.abstention),
    "abstain_correct": lambda suite: AbstainCorrect(suite.abstention),
    "abstain_false": lambda suite: AbstainFalse(suite.abstention),
    "minilm_faithfulness": lambda suite: MiniLMFaithfulness(suite.abstention),
    "minilm_answer_relevancy": lambda suite: MiniLMAnswerRelevancy(),
    "latency_s": lambda suite: Latency(),
}

# Metrics that read a suite.yaml key; load_suite refuses a suite that lists one without its key.
NEEDS_KEY: dict[str, str] = {
    "format_match": "format",
    "abstain_correct": "abstention",
    "abstain_false": "abstention",
}
# Metrics with no better direction (higher_is_better None): reported, never gated, skipped by comparisons.
DIRECTIONLESS = frozenset({"answer_tokens"})


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
    from harness.metrics.judged import JUDGED, RagasMetric

    judge = judge or suite.judge
    built: list[Metric] = []
    for name in names or list(suite.metrics):
        if name in JUDGED:
            if not use_judge:
                continue
            if judge is None:
                raise InputError(
                    suite.path, f"metric '{name}' needs a judge: add a 'judge:' block to suite.yaml"
                )
            built.append(RagasMetric(name, judge, store))
        elif name in METRICS:
            built.append(METRICS[name](suite))
        else:
            raise InputError(suite.path, f"unknown metric '{name}'{did_you_mean(name, [*METRICS, *JUDGED])}")
    return built


__all__ = ["DIRECTIONLESS", "METRICS", "NEEDS_KEY", "Metric", "Score", "build_metrics"]
