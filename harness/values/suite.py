"""The values of a suite: Passage, AnswerSpan, Case, the suite.yaml keys (SuiteFile, Source, MetricPolicy,
JudgeSpec) and the loaded Suite.

A leaf module: no I/O and no registry imports. `harness.suite.load_suite` reads a folder into these values
and checks them against the metric and model tables.
"""

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from harness.hashing import digest


class Source(BaseModel):
    """Where a table comes from: a local file, or `hf:<dataset id>` with split and column mapping."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    path: str = Field(description="File relative to the suite folder, or hf:<dataset id>.")
    split: str = Field("train", description="Split to read (hub datasets; local files have one).")
    subset: str | None = Field(None, description="Hub dataset configuration name.")
    revision: str | None = Field(None, description="Hub dataset revision (commit or tag).")
    columns: dict[str, str] = Field(default_factory=dict, description="Our column name -> theirs.")


class Passage(BaseModel):
    """One corpus item or chunk of one."""

    model_config = ConfigDict(frozen=True)
    id: str
    text: str
    title: str = ""
    doc_id: str = Field("", description="The corpus item a chunk came from; gold ids refer to it.")
    score: float | None = Field(None, description="Retrieval score, set when retrieved.")

    @property
    def source_id(self) -> str:
        return self.doc_id or self.id


class AnswerSpan(BaseModel):
    """Where an accepted answer occurs: a character offset into one corpus item's text.

    `load_suite` checks that `corpus_text[start:start + len(text)] == text` for the item `doc_id`, so a
    retriever that chunks the item can tell which chunk holds the answer.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    doc_id: str = Field(min_length=1)
    start: int = Field(ge=0)
    text: str = Field(min_length=1)


class Case(BaseModel):
    """One question with its accepted answers and the corpus ids that support it.

    `references` holds every accepted answer (metrics that compare with a reference take the best over
    them); `reference` is the first, kept for what takes one answer ("" when the case has none). Build a
    case with either; given `reference` alone, `references` is `(reference,)`.
    """

    model_config = ConfigDict(frozen=True)
    id: str
    question: str
    reference: str = ""
    references: tuple[str, ...] = ()
    answer_spans: tuple[AnswerSpan, ...] = ()
    gold_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _first_reference(self) -> "Case":
        # Frozen: fill the other field of the pair through object.__setattr__, once, at construction.
        if not self.references and self.reference:
            object.__setattr__(self, "references", (self.reference,))
        elif self.references and not self.reference:
            object.__setattr__(self, "reference", self.references[0])
        elif self.references and self.references[0] != self.reference:
            raise ValueError("reference must be the first of references")
        return self

    def identity(self) -> dict[str, Any]:
        """What the case's hash is taken of: the new fields only when they say more than `reference`, so
        that a single-reference case hashes as it did before they existed (caches, baselines)."""
        fields = self.model_dump(mode="json")
        if self.references == ((self.reference,) if self.reference else ()):
            del fields["references"]
        if not self.answer_spans:
            del fields["answer_spans"]
        return fields

    @property
    def hash(self) -> str:
        return digest(self.identity())


def chunk_range(passage: Passage) -> tuple[int, int] | None:
    """The character range a chunk covers in its document's text: parsed from a `<doc>#<start>-<end>` id
    (what the chunker in harness.systems.retrieval writes); (0, len(text)) for a whole passage; None for
    an id the chunker did not make (a system's own contexts)."""
    if passage.id == passage.source_id:
        return 0, len(passage.text)
    suffix = passage.id.removeprefix(f"{passage.source_id}#")
    match = re.fullmatch(r"(\d+)-(\d+)", suffix) if suffix != passage.id else None
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def chunks_holding(span: AnswerSpan, chunks: Sequence[Passage]) -> list[int]:
    """Positions in `chunks` of the chunks that hold the whole answer span (its document, its range)."""
    end = span.start + len(span.text)
    held = []
    for position, passage in enumerate(chunks):
        covered = chunk_range(passage) if passage.source_id == span.doc_id else None
        if covered is not None and covered[0] <= span.start and end <= covered[1]:
            held.append(position)
    return held


def cases_hash(cases: Sequence[Case]) -> str:
    """The identity of a split: what Suite.train_hash and Suite.test_hash hold."""
    return digest([case.identity() for case in cases])


class MetricPolicy(BaseModel):
    """How the gate treats a metric: an absolute floor and a tolerated drop from the baseline."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    min: float | None = Field(None, description="The gate fails when the mean is below this.")
    max_drop: float | None = Field(
        None,
        ge=0,
        description="Fail on a drop this large from the baseline, if a paired bootstrap finds it real.",
    )


class JudgeSpec(BaseModel):
    """The model that grades the LLM-judge metrics, pinned per suite (greedy by default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    model: str = Field(description="Chat model that grades: gemini:<model> or hf:<model>.")
    embeddings: str = Field(
        "offline:minilm", description="Embedder for answer relevancy: gemini:<model> or offline:minilm."
    )
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature of the judge (0: greedy).")
    max_output_tokens: int | None = Field(None, ge=16, description="Cap on each judge reply (None: model's).")


class SuiteFile(BaseModel):
    """The keys of suite.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1, description="The suite's name in results, MLflow and baselines.")
    version: int = Field(ge=1, description="Bump when cases, judge or prompts change.")
    description: str = Field("", description="What the suite measures, in a sentence.")
    corpus: str | Source = Field(description="The passages: a file in the suite folder, or a source mapping.")
    train: str | Source | None = Field(None, description="Question/answer pairs to fine-tune on (optional).")
    test: str | Source = Field(description="The cases every system is scored on.")
    k: int = Field(5, ge=1, description="Retrieval cutoff for hit_at_k and recall_at_k.")
    metrics: dict[str, MetricPolicy] = Field(
        min_length=1, description="Metric name -> its gate policy ({} for none), in report order."
    )
    judge: JudgeSpec | None = Field(None, description="The pinned judge of the LLM-judged metrics.")
    abstention: str | None = Field(
        None, description="The reference of a question the documents do not answer (abstain_* metrics)."
    )
    format: str | None = Field(
        None, description="Regular expression a whole answer must match (format_match)."
    )


class LazyCases(Sequence[Case]):
    """A split read when first used: the train split of a bench whose systems never train is not read.

    `load` (given by the loader) reads and validates the rows; it runs once, under a lock, on the first
    `len`, index or iteration, and a problem in the rows is raised from there as the loader's InputError.
    To be pickled, `load` must be picklable (the loader's is).
    """

    def __init__(self, load: Callable[[], tuple[Case, ...]]) -> None:
        self._load: Callable[[], tuple[Case, ...]] | None = load
        self._cases: tuple[Case, ...] = ()
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._load is None

    def cases(self) -> tuple[Case, ...]:
        """The split as a tuple, read now if it was not yet."""
        with self._lock:
            if self._load is not None:
                self._cases = self._load()
                self._load = None
            return self._cases

    @overload
    def __getitem__(self, index: int) -> Case: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Case, ...]: ...

    def __getitem__(self, index: int | slice) -> Case | tuple[Case, ...]:
        return self.cases()[index]

    def __len__(self) -> int:
        return len(self.cases())

    def __iter__(self) -> Iterator[Case]:
        return iter(self.cases())

    def __add__(self, other: Sequence[Case]) -> tuple[Case, ...]:
        return self.cases() + tuple(other)  # as the tuple it stands for: `suite.train + suite.test`

    def __radd__(self, other: Sequence[Case]) -> tuple[Case, ...]:
        return tuple(other) + self.cases()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyCases):
            return self is other or self.cases() == other.cases()
        return self.cases() == other if isinstance(other, tuple) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (to another process) as it stands: a split not read yet travels as its reader.
        with self._lock:
            return {"load": self._load, "cases": self._cases}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._load, self._cases, self._lock = state["load"], state["cases"], threading.Lock()

    def __repr__(self) -> str:
        return f"LazyCases({len(self._cases)} cases)" if self.loaded else "LazyCases(not read yet)"


class Suite(BaseModel):
    """A loaded, validated suite.

    `train` is a tuple, or LazyCases when the loader defers reading it; `train_hash` is known either way
    (the loader takes it from the cache when the same bytes were read before)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    name: str
    version: int
    description: str
    path: str
    k: int
    metrics: dict[str, MetricPolicy]
    judge: JudgeSpec | None = None
    abstention: str | None = None
    format: str | None = None
    corpus: tuple[Passage, ...]
    train: tuple[Case, ...] | LazyCases
    test: tuple[Case, ...]
    corpus_hash: str
    train_hash: str
    test_hash: str

    @field_validator("train", mode="wrap")
    @classmethod
    def _unread(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # A deferred split stays deferred: validating it as a tuple would read it.
        return value if isinstance(value, LazyCases) else handler(value)

    @property
    def hash(self) -> str:
        return digest([self.name, self.version, self.corpus_hash, self.train_hash, self.test_hash])
