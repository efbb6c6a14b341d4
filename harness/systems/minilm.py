"""`minilm`: MiniLM systems of the offline profile. Without `finetune`, rag: retrieval read by the
general span reader. finetune.method `classifier`: finetuned, a closed-book head over the train answers.
finetune.method `reader`: hybrid, retrieval (optionally with a tuned encoder) read by the general reader
tuned RAFT-style on the train split. Training recipes are in training.py, the span reader in
span_reader.py.
"""

import json
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from harness.cache import Cache
from harness.errors import InputError
from harness.models import minilm as encoder
from harness.systems import training
from harness.systems.extractive import ReaderAnswerer
from harness.systems.pipeline import Answerer, Pipeline, Reply
from harness.systems.retrieval import Retriever, indexed_text
from harness.systems.span_reader import SpanReader, calibrate, general_span_reader
from harness.values import DEFAULT_ENCODER, Case, FinetuneSpec, Passage, Suite, SystemSpec


class TunedEncoder:
    """A sentence encoder fine-tuned by `training.train_retriever`, with the contract of `encoder.embed`."""

    def __init__(self, folder: Path) -> None:
        from sentence_transformers import SentenceTransformer

        with training.quiet_transformers():
            self.model = SentenceTransformer(str(folder), device="cpu")
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:  # the runner answers from two threads; encode is not documented as thread-safe
            vectors = self.model.encode(
                texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)


def _train_split(suite: Suite, spec: SystemSpec) -> list[Case]:
    if not suite.train:
        raise InputError(suite.path, f"system '{spec.name}' fine-tunes, but the suite has no train split")
    return list(suite.train)


class ClassifierAnswerer(Answerer):
    """finetuned: answers with the train answer its tuned head ranks first; never retrieves."""

    def __init__(self, spec: SystemSpec, cache: Cache | None = None) -> None:
        assert spec.finetune is not None
        self.spec = spec
        self.tune: FinetuneSpec = spec.finetune
        self.cache = cache
        self.labels: list[str] = []
        self.head: torch.nn.Linear | None = None
        self._embed: Callable[[list[str]], np.ndarray] = encoder.embed

    def prepare(self, suite: Suite, retriever: Retriever | None) -> None:
        cases = _train_split(suite, self.spec)
        trained = training.train_classifier(
            [c.question for c in cases], [c.reference for c in cases], self.tune, self.cache
        )
        self.labels = json.loads((trained.folder / "labels.json").read_text(encoding="utf-8"))
        self.head = torch.nn.Linear(384, len(self.labels))
        self.head.load_state_dict(torch.load(trained.folder / "head.pt", weights_only=True))
        self.head.eval()
        if (trained.folder / "encoder").exists():
            self._embed = TunedEncoder(trained.folder / "encoder").embed
        self.training_log = dict(trained.curves)

    def answer(self, cases: Sequence[Case], contexts: Sequence[Sequence[Passage]] | None) -> list[Reply]:
        if self.head is None:
            raise RuntimeError("prepare() must run before answer()")
        vectors = torch.from_numpy(self._embed([case.question for case in cases]))
        with torch.no_grad():
            picks = self.head(vectors).argmax(dim=1).tolist()
        return [Reply(text=self.labels[pick]) for pick in picks]


class GeneralReaderAnswerer(ReaderAnswerer):
    """rag: the general reader, which never sees the suite's train split, reads the retrieved passages."""

    def prepare(self, suite: Suite, retriever: Retriever | None) -> None:
        self.reader = general_span_reader()


class TunedReaderAnswerer(ReaderAnswerer):
    """hybrid: the general reader tuned on the train split, reading what a (tuned) retriever found."""

    def __init__(self, spec: SystemSpec, cache: Cache | None = None) -> None:
        super().__init__()
        assert spec.finetune is not None and spec.retriever is not None
        self.spec = spec
        self.tune: FinetuneSpec = spec.finetune
        self.cache = cache
        self._retriever_log: dict[str, list[float]] = {}  # the tuned encoder's curves, when it is tuned

    def retriever(self, spec: SystemSpec, suite: Suite, cache: Cache | None) -> Retriever:
        """The spec's retriever; with tune_retriever, its MiniLM encoder tuned on the train split first."""
        assert spec.retriever is not None
        train = _train_split(suite, spec)
        embed: Callable[[list[str]], np.ndarray] = encoder.embed
        embed_id = encoder.MODEL_ID
        self._retriever_log = {}
        if self.tune.tune_retriever:
            if spec.retriever.embeddings != DEFAULT_ENCODER:
                raise InputError(
                    f"system '{spec.name}'",
                    "key 'retriever.embeddings': tune_retriever tunes MiniLM, not a hosted encoder",
                )
            corpus = {passage.id: passage for passage in suite.corpus}
            pairs = [
                (case.question, indexed_text(corpus[case.gold_ids[0]])) for case in train if case.gold_ids
            ]
            tuned = training.train_retriever(pairs, self.tune, cache)
            embed, embed_id = TunedEncoder(tuned.folder / "encoder").embed, f"tuned:{tuned.folder.name}"
            self._retriever_log = {f"retriever_{name}": values for name, values in tuned.curves.items()}
        return Retriever(spec.retriever, suite.corpus, cache, embed, embed_id)

    def prepare(self, suite: Suite, retriever: Retriever | None) -> None:
        assert retriever is not None
        train = _train_split(suite, self.spec)
        log = dict(self._retriever_log)
        kept, held = training.holdout(
            [c.id for c in train], self.tune.val_share, self.tune.seed, stratify=False
        )
        train_cases, val_cases = [train[i] for i in kept], [train[i] for i in held]
        examples, skipped = reader_examples(train_cases, retriever, self.tune.distractors)
        val_examples, _ = reader_examples(val_cases, retriever, self.tune.distractors)
        # RAFT-style: the same general reader the rag arm uses, then tuned on this suite's train split.
        start = training.general_reader().folder / "reader"
        trained = training.train_reader(examples, val_examples, self.tune, self.cache, init=start)
        reader = SpanReader(trained.folder / "reader", self.tune.max_length)
        # No fixed cut-off: the held-out train questions, read through retrieval as at test time, choose it.
        questions = [case.question for case in val_cases]
        scored = reader.scored(questions, retriever.search(questions))
        reader.threshold = calibrate(scored, [case.reference for case in val_cases])
        log.update(trained.curves)
        log["reader_skipped_cases"] = [float(skipped)]
        log["no_answer_threshold"] = [reader.threshold]
        self.reader = reader
        self.training_log = log


def minilm(spec: SystemSpec, cache: Cache | None = None) -> Pipeline:
    """The factory for `generator: {model: minilm}`: the general reader without a finetune block (rag),
    else finetune.method picks the answerer."""
    where = f"system '{spec.name}'"
    if spec.finetune is None:
        if spec.retriever is None:
            raise InputError(
                where, "generator 'minilm' without 'finetune' is the general reader: add a 'retriever' block"
            )
        return Pipeline(spec, GeneralReaderAnswerer(), cache)
    if spec.finetune.method not in ("classifier", "reader"):
        raise InputError(
            where,
            f"finetune.method '{spec.finetune.method}' is for hf: models; minilm: 'classifier' or 'reader'",
        )
    if spec.finetune.method == "classifier":
        if spec.retriever is not None:
            raise InputError(
                where, "finetune.method 'classifier' is closed-book: remove 'retriever' (kind: finetuned)"
            )
        return Pipeline(spec, ClassifierAnswerer(spec, cache), cache)
    if spec.retriever is None:
        raise InputError(where, "finetune.method 'reader' reads retrieved passages: add a 'retriever' block")
    if spec.finetune.tune_retriever and spec.retriever.method == "bm25":
        raise InputError(
            where, "finetune.tune_retriever needs a dense encoder: retriever.method dense or hybrid"
        )
    if spec.finetune.freeze_layers >= 6:
        raise InputError(where, "finetune.freeze_layers 6 leaves the reader nothing to tune: use 0 to 5")
    return Pipeline(spec, TunedReaderAnswerer(spec, cache), cache)


_LABEL_OR_STOP = re.compile(r"(?:^|[.;]\s+)[A-Z][A-Za-z]*:\s*|[.;]\s+")


def span_candidates(reference: str) -> list[str]:
    """The reference itself, then its pieces without "Label:" prefixes, longest first.

    A formatted reference such as "Answer: 2.2 kg. Source: Trail Manual" has no verbatim match in its
    passage, but its core ("2.2 kg") does: that is the span the reader can learn to extract.
    """
    if not reference:
        return []
    pieces = [p.strip(" .") for p in _LABEL_OR_STOP.split(reference)]
    extra = sorted({p for p in pieces if len(p) >= 2 and p != reference}, key=lambda p: (-len(p), p))
    return [reference, *extra]


def reader_examples(
    cases: Sequence[Case], retriever: Retriever, distractors: int
) -> tuple[list[training.ReaderExample], int]:
    """RAFT-style examples: the gold chunk with the reference as its span, plus retrieved distractors.

    Returns the examples and how many answerable cases were skipped because no gold chunk contains the
    reference (e.g. a fact that changed since the train split was written: no span can teach it).
    """
    by_source: dict[str, list[Passage]] = {}
    for passage in retriever.chunks:
        by_source.setdefault(passage.source_id, []).append(passage)
    retrieved = retriever.search([case.question for case in cases])
    examples: list[training.ReaderExample] = []
    skipped = 0
    for case, found in zip(cases, retrieved, strict=True):
        pattern = re.compile(re.escape(case.reference), re.IGNORECASE) if case.reference else None
        if case.gold_ids:
            gold = [passage for source in case.gold_ids for passage in by_source.get(source, [])]
            located = []
            for candidate in span_candidates(case.reference):
                piece = re.compile(re.escape(candidate), re.IGNORECASE)
                located = [(passage, match) for passage in gold if (match := piece.search(passage.text))]
                if located:
                    break
            if not located:
                skipped += 1
                continue
            passage, match = located[0]
            examples.append(training.ReaderExample(case.question, passage.text, match.start(), match.end()))
        # Distractors are the retriever's own near misses: what the reader will meet at answer time.
        negatives = [
            passage
            for passage in found
            if passage.source_id not in case.gold_ids and not (pattern and pattern.search(passage.text))
        ]
        wanted = distractors if case.gold_ids else max(distractors, 1)
        examples.extend(training.ReaderExample(case.question, p.text, -1, -1) for p in negatives[:wanted])
    return examples, skipped
