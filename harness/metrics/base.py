"""Score and the Metric protocol: one value per (case, answer), or None with the reason why not."""

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from harness.suite import Case
from harness.system import Answer


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

    @property
    def higher_is_better(self) -> bool | None:
        """True or False; None for a metric with no better direction (shown, never gated)."""

    def score(self, case: Case, answer: Answer) -> Score: ...
