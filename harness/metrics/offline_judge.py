"""Offline stand-ins for faithfulness and answer relevancy, graded by MiniLM embeddings, not an LLM.

They are named `minilm_*` so that nobody mistakes them for the ragas LLM-judge metrics: a score is only
comparable with scores from the same judge.
"""

from typing import Any

import numpy as np

from harness.metrics.answer import DEFAULT_ABSTENTION, abstains
from harness.metrics.base import MetricBase, Score
from harness.models import minilm
from harness.text import normalise, sentences
from harness.values import Answer, Case

JUDGE = f"offline:{minilm.MODEL_ID}"


class MiniLMFaithfulness(MetricBase):
    """Share of answer sentences supported by a context sentence (cosine >= threshold, or quoted).

    Unscored: a closed-book answer (no contexts); an abstention (the suite's `abstention`, else
    "The documents do not say.": it makes no claim); an empty answer.
    """

    name = "minilm_faithfulness"
    version = 2  # 2: abstentions are unscored, no longer 0
    judge = JUDGE

    def __init__(self, abstention: str | None = None, threshold: float = 0.75) -> None:
        self.abstention = abstention or DEFAULT_ABSTENTION
        self.threshold = threshold

    def params(self) -> dict[str, Any]:
        return {"abstention": self.abstention, "threshold": self.threshold}

    def score(self, case: Case, answer: Answer) -> Score:
        if answer.contexts is None:
            return Score.unscored("closed-book system: no contexts to be faithful to")
        if abstains(answer.text, self.abstention):
            # An abstention makes no claim to check; abstain_* judge whether it was right.
            return Score.unscored("abstention: no claims to check (see abstain_correct, abstain_false)")
        claims = sentences(answer.text)
        if not claims:
            return Score.unscored("empty answer")
        evidence = [s for passage in answer.contexts for s in sentences(passage.text)]
        if not evidence:
            return Score(
                value=0.0, reason="no passages retrieved", details={"supported": 0, "claims": len(claims)}
            )
        joined = normalise(" ".join(passage.text for passage in answer.contexts))
        vectors = minilm.embed(claims + evidence)
        best = (vectors[: len(claims)] @ vectors[len(claims) :].T).max(axis=1)
        supported = [
            bool(similarity >= self.threshold or normalise(claim) in joined)
            for claim, similarity in zip(claims, best, strict=True)
        ]
        return Score(
            value=sum(supported) / len(claims),
            details={"supported": sum(supported), "claims": len(claims), "threshold": self.threshold},
        )


class MiniLMAnswerRelevancy(MetricBase):
    """Cosine similarity of question and answer embeddings, clipped to [0, 1]."""

    name = "minilm_answer_relevancy"
    judge = JUDGE

    def params(self) -> dict[str, Any]:
        return {}

    def score(self, case: Case, answer: Answer) -> Score:
        if not answer.text.strip():
            return Score.unscored("empty answer")
        question, reply = minilm.embed([case.question, answer.text])
        return Score(value=float(np.clip(question @ reply, 0.0, 1.0)))
