"""Every metric the harness knows: one table, name -> factory(suite) -> Metric."""

from collections.abc import Callable

from harness.metrics.base import Metric, Score
from harness.metrics.lexical import ExactMatch, Latency, Rouge, TokenF1
from harness.metrics.offline_judge import MiniLMAnswerRelevancy, MiniLMFaithfulness
from harness.metrics.retrieval import MRR, HitAtK, RecallAtK
from harness.suite import Suite

METRICS: dict[str, Callable[[Suite], Metric]] = {
    "rouge_1": lambda suite: Rouge("rouge_1", "rouge1"),
    "rouge_2": lambda suite: Rouge("rouge_2", "rouge2"),
    "rouge_l": lambda suite: Rouge("rouge_l", "rougeL"),
    "exact_match": lambda suite: ExactMatch(),
    "token_f1": lambda suite: TokenF1(),
    "hit_at_k": lambda suite: HitAtK(suite.k),
    "recall_at_k": lambda suite: RecallAtK(suite.k),
    "mrr": lambda suite: MRR(),
    "minilm_faithfulness": lambda suite: MiniLMFaithfulness(),
    "minilm_answer_relevancy": lambda suite: MiniLMAnswerRelevancy(),
    "latency_s": lambda suite: Latency(),
}


def build_metrics(suite: Suite) -> list[Metric]:
    """The suite's metrics, in the order suite.yaml lists them."""
    return [METRICS[name](suite) for name in suite.metrics]


__all__ = ["METRICS", "Metric", "Score", "build_metrics"]
