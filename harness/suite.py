"""load_suite: a suite folder read and validated into the values of harness.values.suite.

The loader sits above the tables it checks a suite against (the metrics, the model families). The values
themselves live in the leaf module harness.values.suite; they are re-exported here so that
`from harness.suite import Case` keeps working.

The train split is read when first used, unless the loader must read it to know its hash: a bench whose
systems never train does not read it once the same bytes were read before (docs/architecture.md).
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from harness import modelref
from harness.cache import Cache
from harness.errors import InputError
from harness.hashing import digest
from harness.metrics import DIRECTIONLESS, METRICS, NEEDS_KEY
from harness.metrics.judged import JUDGED
from harness.references import describe as _describe
from harness.sources import read_rows
from harness.suite_rows import cases, corpus_texts, passages
from harness.values.suite import (
    AnswerSpan,
    Case,
    JudgeSpec,
    LazyCases,
    MetricPolicy,
    Passage,
    Source,
    Suite,
    SuiteFile,
    cases_hash,
)
from harness.yamlfile import did_you_mean, explain, read_yaml

# Re-exported: these values were defined here before harness.values existed.
__all__ = [
    "AnswerSpan",
    "Case",
    "JudgeSpec",
    "MetricPolicy",
    "Passage",
    "Source",
    "Suite",
    "SuiteFile",
    "load_suite",
]

# Bumped when reading a split's rows into Cases changes, so a train hash taken from the cache by the bytes
# of the file (not by reading it) is taken again.
TRAIN_HASH_VERSION = 1


def _known_keys() -> dict[str, list[str]]:
    keys = {"": list(SuiteFile.model_fields), "judge": list(JudgeSpec.model_fields)}
    for block in ("corpus", "train", "test"):
        keys[block] = list(Source.model_fields)
    return keys


def load_suite(folder: Path | str, read_train: bool = False) -> Suite:
    """Load and validate `folder/suite.yaml` and its tables; raise InputError naming file and key/row.

    The train split is read now when `read_train` is set, or when these bytes of it were never read
    (its hash is needed, and reading validates it); otherwise it is read on first use of `suite.train`.
    """
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
        modelref.check(spec.judge.model, modelref.CHAT_FAMILIES, str(yaml_path), "key 'judge.model'")
        modelref.check(
            spec.judge.embeddings, modelref.EMBEDDING_FAMILIES, str(yaml_path), "key 'judge.embeddings'"
        )

    corpus_where, corpus_rows = read_rows(_source(spec.corpus), folder)
    corpus = passages(corpus_where, corpus_rows)
    texts = corpus_texts(corpus, corpus_rows)
    train, train_hash = _train(spec, folder, texts, corpus_where, read_train)
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
        train_hash=train_hash,
        test_hash=cases_hash(test),
    )


def _train(
    spec: SuiteFile,
    folder: Path,
    texts: dict[str, tuple[str, int]],
    corpus_where: str,
    read_train: bool,
) -> tuple[tuple[Case, ...] | LazyCases, str]:
    """The train split and its hash. Deferred when the hash is in the cache under the digest of the very
    bytes, column mapping, corpus texts and abstention answer it was taken from: those bytes were read
    and validated before, so reading them again can wait until something uses the split."""
    if spec.train is None:
        return (), cases_hash(())
    source = _source(spec.train)
    read = _SplitReader(source, folder, texts, corpus_where, spec.abstention)
    path = folder / source.path
    if read_train or source.path.startswith("hf:") or not path.is_file():
        train = read()  # a hub dataset is read to be hashed; a missing file fails here, as it always did
        return train, cases_hash(train)
    content = hashlib.sha256(path.read_bytes()).hexdigest()
    key = Cache.key(
        "train_hash",
        TRAIN_HASH_VERSION,
        content,
        path.suffix.lower(),
        source.columns,
        digest(texts),
        spec.abstention,
    )
    cache = Cache()
    known = cache.get(key)
    if isinstance(known, str):
        return LazyCases(read), known
    train = read()
    train_hash = cases_hash(train)
    cache.put(key, train_hash)
    return train, train_hash


@dataclass(frozen=True)
class _SplitReader:
    """Reads and validates one split's rows into Cases: what a deferred split calls on first use (a class,
    not a closure, so that a Suite still pickles to another process)."""

    source: Source
    folder: Path
    texts: dict[str, tuple[str, int]]
    corpus_where: str
    abstention: str | None

    def __call__(self) -> tuple[Case, ...]:
        where, rows = read_rows(self.source, self.folder)
        return cases(where, rows, self.texts, self.corpus_where, self.abstention)


def read_all(suite: Suite) -> Suite:
    """Read a deferred train split now (validating it): before any system runs, when one trains."""
    if isinstance(suite.train, LazyCases):
        suite.train.cases()
    return suite


def _check_metric_keys(where: str, spec: SuiteFile) -> None:
    """The suite.yaml keys some metrics read (a format pattern, an abstention answer), and gate policies
    only on metrics that have a better direction."""
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
