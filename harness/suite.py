"""Suite, Case and Passage, and load_suite: a suite folder validated into frozen values."""

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.errors import InputError
from harness.hashing import digest
from harness.references import describe as _describe
from harness.sources import Source, read_rows
from harness.yamlfile import did_you_mean, explain, read_yaml


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


class Suite(BaseModel):
    """A loaded, validated suite."""

    model_config = ConfigDict(frozen=True)
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
    train: tuple[Case, ...]
    test: tuple[Case, ...]
    corpus_hash: str
    train_hash: str
    test_hash: str

    @property
    def hash(self) -> str:
        return digest([self.name, self.version, self.corpus_hash, self.train_hash, self.test_hash])


def _known_keys() -> dict[str, list[str]]:
    keys = {"": list(SuiteFile.model_fields), "judge": list(JudgeSpec.model_fields)}
    for block in ("corpus", "train", "test"):
        keys[block] = list(Source.model_fields)
    return keys


def load_suite(folder: Path | str) -> Suite:
    """Load and validate `folder/suite.yaml` and its tables; raise InputError naming file and key/row."""
    folder = Path(folder)
    yaml_path = folder / "suite.yaml" if folder.is_dir() or not folder.suffix else folder
    folder = yaml_path.parent
    raw = read_yaml(yaml_path)
    try:
        spec = SuiteFile.model_validate(raw)
    except ValidationError as err:
        for block in ("corpus", "train", "test"):  # report the nested key, not the str|Source union noise
            value = raw.get(block)
            if value is not None and not isinstance(value, str | dict):
                raise InputError(
                    str(yaml_path),
                    f"key '{block}': a file name or a mapping (path, split, columns), got {_describe(value)}",
                ) from None
            if isinstance(value, dict):
                try:
                    Source.model_validate(value)
                except ValidationError as inner:
                    # The inner error's location is relative to the block, so suggest the block's keys.
                    bad = explain(yaml_path, inner, {"": list(Source.model_fields)})
                    raise InputError(bad.where, bad.what.replace("key '", f"key '{block}.", 1)) from None
        raise explain(yaml_path, err, _known_keys()) from None

    from harness.metrics import METRICS
    from harness.metrics.judged import JUDGED

    for name in spec.metrics:
        if name not in METRICS and name not in JUDGED:
            hint = did_you_mean(name, [*METRICS, *JUDGED])
            raise InputError(str(yaml_path), f"metrics: unknown metric '{name}'{hint}")
    judged = [name for name in spec.metrics if name in JUDGED]
    if judged and spec.judge is None:
        raise InputError(
            str(yaml_path),
            f"metrics: '{judged[0]}' is graded by an LLM: add a 'judge:' block (model, embeddings)",
        )
    _check_metric_keys(str(yaml_path), spec)
    if spec.judge is not None:
        from harness.llm.backends import CHAT_FAMILIES, EMBEDDING_FAMILIES, check_ref

        check_ref(spec.judge.model, CHAT_FAMILIES, str(yaml_path), "key 'judge.model'")
        check_ref(spec.judge.embeddings, EMBEDDING_FAMILIES, str(yaml_path), "key 'judge.embeddings'")

    corpus_where, corpus_rows = read_rows(_source(spec.corpus), folder)
    from harness.suite_rows import cases, corpus_texts, passages

    corpus = passages(corpus_where, corpus_rows)
    texts = corpus_texts(corpus, corpus_rows)
    train: tuple[Case, ...] = ()
    if spec.train is not None:
        train = cases(*read_rows(_source(spec.train), folder), texts, corpus_where, spec.abstention)
    test = cases(*read_rows(_source(spec.test), folder), texts, corpus_where, spec.abstention)
    if not test:
        raise InputError(_where(spec.test, folder), "no test cases")
    return Suite(
        name=spec.name,
        version=spec.version,
        description=spec.description,
        path=str(folder),
        k=spec.k,
        metrics=spec.metrics,
        judge=spec.judge,
        abstention=spec.abstention,
        format=spec.format,
        corpus=corpus,
        train=train,
        test=test,
        corpus_hash=digest([p.model_dump() for p in corpus]),
        train_hash=digest([c.identity() for c in train]),
        test_hash=digest([c.identity() for c in test]),
    )


def _check_metric_keys(where: str, spec: SuiteFile) -> None:
    """The suite.yaml keys some metrics read (a format pattern, an abstention answer), and gate policies
    only on metrics that have a better direction."""
    import re

    from harness.metrics import DIRECTIONLESS, NEEDS_KEY

    if spec.format is not None:
        try:
            re.compile(spec.format)
        except re.error as err:
            raise InputError(where, f"key 'format': not a valid regular expression ({err})") from None
    for name, policy in spec.metrics.items():
        key = NEEDS_KEY.get(name)
        if key is not None and not getattr(spec, key):
            raise InputError(where, f"metrics: '{name}' needs the key '{key}' in suite.yaml")
        if name in DIRECTIONLESS and (policy.min is not None or policy.max_drop is not None):
            raise InputError(
                where, f"metrics: '{name}' has no better direction: it is shown, never gated (use {{}})"
            )


def _source(value: str | Source) -> Source:
    return Source(path=value) if isinstance(value, str) else value


def _where(value: str | Source, folder: Path) -> str:
    source = _source(value)
    return source.path if source.path.startswith("hf:") else str(folder / source.path)
