"""What a system gives for a case (Answer) and what a system is (the System protocol). A leaf module."""

from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_serializer

from harness.values.suite import Case, Passage, Suite
from harness.values.system import SystemSpec


class Answer(BaseModel):
    """What a system gave for one case. A failure sets `error` instead of raising."""

    model_config = ConfigDict(frozen=True)
    case_id: str
    text: str = ""
    contexts: tuple[Passage, ...] | None = Field(
        None, description="Passages the generator saw; None for a closed-book system (it never retrieves)."
    )
    latency_s: float = 0.0
    usage: dict[str, int] = Field(default_factory=dict)
    error: str | None = None
    ranking: tuple[str, ...] | None = Field(
        None,
        description="Distinct document ids the retriever ranked, best first, as deep as its rank_depth: what "
        "hit_at_k, recall_at_k and mrr score (contexts are the top_k chunks the generator read). None: the "
        "system reports no ranking; those metrics then read the documents of its contexts.",
    )

    @model_serializer(mode="wrap")
    def _without_empty_ranking(self, handler: Any) -> Any:
        # Answers without a ranking dump as they did before it existed: their score cache keys stay.
        data = handler(self)
        if isinstance(data, dict) and data.get("ranking", ()) is None:
            del data["ranking"]
        return data


class System(Protocol):
    """A configuration under test.

    A system that trains may also expose `training_log: dict[str, list[float]]` (e.g. "train_loss",
    "val_loss" per epoch or step) after prepare(); the runner records it and MLflow shows it as curves.
    """

    spec: SystemSpec

    def prepare(self, suite: Suite) -> None:
        """Index the corpus and train what the spec asks for; called once before answering."""

    def answer(self, cases: Sequence[Case]) -> list[Answer]:
        """Answer a batch of cases, one Answer per case, in order."""
