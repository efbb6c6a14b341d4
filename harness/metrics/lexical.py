"""Reference-based text metrics: ROUGE (through `evaluate`) and SQuAD exact match and token F1.

A case may have several accepted answers (`Case.references`); each metric takes the best over them, as the
official SQuAD evaluation does for EM and F1 and `rouge_score`'s `score_multi` does for ROUGE (the best
F-measure per ROUGE type). All three are `answer.ReferenceMetric`s; with more than one reference, an EM or
F1 score's details say which one was best (ROUGE's cannot: `rouge_score` does not say).

On an unanswerable case (its reference is the suite's `abstention`), EM and F1 score what the official
SQuAD v2.0 script scores against its empty gold answer: 1 when the answer abstains (see
`answer.abstains`), else 0. Token overlap with the abstention sentence ("The documents say ...") is not
partial credit. ROUGE stays a plain text overlap with the abstention sentence.
"""

import functools
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from harness.metrics.answer import ReferenceMetric
from harness.metrics.base import MetricBase, Score
from harness.metrics.units import SECONDS
from harness.text import normalise, tokens
from harness.values import Answer, Case

_ROUGE_MODULE = Path(__file__).parent / "rouge"
_lock = threading.Lock()


@functools.cache
def _rouge() -> Any:
    import evaluate

    return evaluate.load(str(_ROUGE_MODULE))


# (prediction, references) -> best F-measure per ROUGE type; filled a run at a time by `prefetch_rouge`.
_ROUGE_MEMO: dict[tuple[str, tuple[str, ...]], dict[str, float]] = {}
_ROUGE_MEMO_SIZE = 200_000


def _rouge_batch(pairs: list[tuple[str, tuple[str, ...]]]) -> list[dict[str, float]]:
    """ROUGE of many (prediction, references) pairs in one `evaluate` call: one row per reference."""
    predictions = [prediction for prediction, wanted in pairs for _ in wanted]
    references = [reference for _, wanted in pairs for reference in wanted]
    with _lock:  # an evaluate.Metric instance is not safe to share between threads
        result = _rouge().compute(predictions=predictions, references=references, use_aggregator=False)
    out, row = [], 0
    for _, wanted in pairs:
        out.append(
            {name: max(float(v) for v in values[row : row + len(wanted)]) for name, values in result.items()}
        )
        row += len(wanted)
    return out


def prefetch_rouge(pairs: list[tuple[str, tuple[str, ...]]]) -> None:
    """Compute the ROUGE of a run's (answer, references) pairs in one call, before the cases are scored one
    by one: a call per case cost about 3.7 ms of `evaluate` overhead for 0.04 ms of ROUGE (issue 18)."""
    todo = list(dict.fromkeys(pair for pair in pairs if pair[1] and pair not in _ROUGE_MEMO))
    if not todo:
        return
    if len(_ROUGE_MEMO) + len(todo) > _ROUGE_MEMO_SIZE:
        _ROUGE_MEMO.clear()
    _ROUGE_MEMO.update(zip(todo, _rouge_batch(todo), strict=True))


def rouge_scores(prediction: str, references: tuple[str, ...] | str) -> dict[str, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F-measure of one prediction, computed together: with several
    references, the best F-measure over them per type (what `rouge_score`'s `score_multi` returns)."""
    wanted = (references,) if isinstance(references, str) else tuple(references)
    found = _ROUGE_MEMO.get((prediction, wanted))
    if found is None:
        found = _rouge_batch([(prediction, wanted)])[0]
        if len(_ROUGE_MEMO) < _ROUGE_MEMO_SIZE:
            _ROUGE_MEMO[(prediction, wanted)] = found
    return found


def gold_answers(case: Case) -> tuple[str, ...]:
    """The references EM and F1 compare with: those with a token after normalisation, as the official
    SQuAD script keeps them ('The' alone counts only when no reference has a token)."""
    kept = tuple(reference for reference in case.references if tokens(reference))
    return kept or case.references


class Rouge(ReferenceMetric):
    """ROUGE-1, -2 or -L F-measure, the best over the references (computed together, see `rouge_scores`).

    A plain text overlap: no abstention rule (ROUGE against the abstention sentence is ROUGE), and no
    details naming the best reference (`rouge_score` does not say which one it was)."""

    def __init__(self, name: str, rouge_type: str) -> None:  # no abstention: the class's None stands
        self.name = name
        self.rouge_type = rouge_type

    def params(self) -> dict[str, Any]:
        # `name` is listed because it always was (an instance attribute); it keeps the cache keys.
        return {"name": self.name, "rouge_type": self.rouge_type}

    def against_references(self, case: Case, answer: Answer) -> Score:
        # An empty answer shares no words with the reference: that is a real 0, not "unscorable".
        return Score(value=rouge_scores(answer.text, case.references)[self.rouge_type])


class ExactMatch(ReferenceMetric):
    """1 when the normalised answer equals a normalised reference (SQuAD exact match), else 0."""

    name = "exact_match"
    version = 2  # 2: an unanswerable case scores whether the answer abstained

    def candidates(self, case: Case) -> tuple[str, ...]:
        return gold_answers(case)

    def compare(self, text: str, reference: str) -> tuple[float, dict[str, Any]]:
        return float(normalise(text) == normalise(reference)), {}


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


class TokenF1(ReferenceMetric):
    """SQuAD token F1 (`token_f1`), the best over the references."""

    name = "token_f1"
    version = 2  # 2: an unanswerable case scores whether the answer abstained

    def candidates(self, case: Case) -> tuple[str, ...]:
        return gold_answers(case)

    def compare(self, text: str, reference: str) -> tuple[float, dict[str, Any]]:
        return token_f1(text, reference), {}


class Latency(MetricBase):
    """Seconds the system took to answer the case, as its answer records them (`Answer.latency_s`)."""

    name = "latency_s"
    higher_is_better = False
    unit = SECONDS

    def params(self) -> dict[str, Any]:
        return {}

    def score(self, case: Case, answer: Answer) -> Score:
        return Score(value=answer.latency_s)
