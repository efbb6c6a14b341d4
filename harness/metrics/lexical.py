"""Reference-based text metrics: ROUGE (through `evaluate`) and SQuAD exact match and token F1."""

import functools
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from harness.metrics.base import Score
from harness.suite import Case
from harness.system import Answer
from harness.text import normalise, tokens

_ROUGE_MODULE = Path(__file__).parent / "rouge"
_lock = threading.Lock()


@functools.cache
def _rouge() -> Any:
    import evaluate

    return evaluate.load(str(_ROUGE_MODULE))


@functools.lru_cache(maxsize=4096)
def rouge_scores(prediction: str, reference: str) -> dict[str, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F-measure of one prediction, computed together."""
    with _lock:  # an evaluate.Metric instance is not safe to share between threads
        result = _rouge().compute(predictions=[prediction], references=[reference])
    return {name: float(value) for name, value in result.items()}


def _reference_problem(case: Case, answer: Answer) -> str | None:
    if not case.reference:
        return "no reference answer"
    if not answer.text.strip():
        return "empty answer"
    return None


class Rouge:
    higher_is_better = True
    version = 1
    judge = ""

    def __init__(self, name: str, rouge_type: str) -> None:
        self.name = name
        self.rouge_type = rouge_type

    def score(self, case: Case, answer: Answer) -> Score:
        # An empty answer shares no words with the reference: that is a real 0, not "unscorable".
        if not case.reference:
            return Score.unscored("no reference answer")
        return Score(value=rouge_scores(answer.text, case.reference)[self.rouge_type])


class ExactMatch:
    name = "exact_match"
    higher_is_better = True
    version = 1
    judge = ""

    def score(self, case: Case, answer: Answer) -> Score:
        if not case.reference:
            return Score.unscored("no reference answer")
        return Score(value=float(normalise(answer.text) == normalise(case.reference)))


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 on normalised tokens (bag of words, counted with multiplicity)."""
    predicted, wanted = tokens(prediction), tokens(reference)
    if not predicted or not wanted:
        return float(predicted == wanted)
    common = sum((Counter(predicted) & Counter(wanted)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


class TokenF1:
    name = "token_f1"
    higher_is_better = True
    version = 1
    judge = ""

    def score(self, case: Case, answer: Answer) -> Score:
        if not case.reference:
            return Score.unscored("no reference answer")
        return Score(value=token_f1(answer.text, case.reference))


class Latency:
    name = "latency_s"
    higher_is_better = False
    version = 1
    judge = ""

    def score(self, case: Case, answer: Answer) -> Score:
        return Score(value=answer.latency_s)
