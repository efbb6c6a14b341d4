"""Score, the Metric protocol, what a metric declares about itself, and the key its scores are cached by.

A metric declares its identity: everything its verdict on an answer depends on besides the case and the
answer (name, version, judge, and the settings it was built with). Two metrics with one identity must give
the same score to the same (case, answer): the score cache serves one's scores to the other.
"""

from abc import ABC, abstractmethod
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from harness.cache import Cache
from harness.hashing import digest
from harness.metrics.units import SCORE
from harness.values import Answer, Case


class Score(BaseModel):
    """A metric's verdict on one answer. value=None means "does not apply / could not be scored"."""

    model_config = ConfigDict(frozen=True)
    value: float | None
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    transient: bool = Field(
        False, description="Unscored for a reason that may pass (a timeout, a rate limit): not cached."
    )

    @classmethod
    def unscored(cls, reason: str) -> "Score":
        return cls(value=None, reason=reason)


class Metric(Protocol):
    """Scores one answer. `judge` names the model behind a model-graded metric ("" for lexical ones)."""

    name: str
    version: int
    judge: str
    unit: str  # what the value counts (harness.metrics.units): how the renderers show it

    @property
    def higher_is_better(self) -> bool | None:
        """True or False; None for a metric with no better direction (shown, never gated)."""

    def identity(self) -> list[Any]:
        """[name, version, judge, params]: what the score cache keys this metric's scores by."""

    def score(self, case: Case, answer: Answer) -> Score: ...


class MetricBase(ABC):
    """What the harness's own metrics share: the defaults, and an identity built from declared params.

    A subclass sets `name` (and `version`, bumped whenever its scores change meaning), and lists in
    `params()` every setting its scores depend on: a setting left out there would let a metric built
    with another value be served cached scores it never gave.
    """

    name: str
    version = 1
    judge = ""  # the model that grades the answer; "" when no model does
    unit = SCORE
    higher_is_better: bool | None = True

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """The settings the scores depend on (from suite.yaml or the judge block); {} for none."""

    def identity(self) -> list[Any]:
        return [self.name, self.version, self.judge, self.params()]

    @abstractmethod
    def score(self, case: Case, answer: Answer) -> Score: ...


def answer_hash(answer: Answer) -> str:
    """The digest an answer is known by in score keys (all of it: text, contexts, ranking, timing)."""
    return digest(answer.model_dump(mode="json"))


def score_key(metric: Metric, case: Case, answer: Answer, hashed: str | None = None) -> str:
    """The cache key of `metric`'s score of `answer` to `case`; every reader and writer of scores uses it.

    `hashed` is `answer_hash(answer)` when the caller already has it (one answer, many metrics).
    """
    return Cache.key("score", metric.identity(), case.hash, hashed or answer_hash(answer))
