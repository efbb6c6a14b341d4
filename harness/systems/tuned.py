"""The tuned MiniLM systems of the offline profile: closed-book classifier; retrieval + tuned QA reader."""

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from harness.cache import Cache
from harness.errors import InputError
from harness.models import minilm
from harness.suite import Case, Passage, Suite
from harness.system import DEFAULT_ENCODER, Answer, FinetuneSpec, SystemSpec
from harness.systems import training
from harness.systems.pipeline import retrieve_and_read
from harness.systems.retrieval import Retriever, indexed_text

NO_ANSWER = "The documents do not say."  # the suites' reference for questions the corpus cannot answer
MAX_ANSWER_TOKENS = 16  # word pieces: a name, a date, a phrase; never a whole sentence


class TunedEncoder:
    """A sentence encoder fine-tuned by `training.train_retriever`, with `minilm.embed`'s contract."""

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


class ClosedBookClassifier:
    """finetuned: answers with the train answer its tuned head ranks first; never retrieves."""

    def __init__(self, spec: SystemSpec, cache: Cache | None = None) -> None:
        assert spec.finetune is not None
        self.spec = spec
        self.tune: FinetuneSpec = spec.finetune
        self.cache = cache
        self.training_log: dict[str, list[float]] = {}
        self.labels: list[str] = []
        self.head: torch.nn.Linear | None = None
        self._embed: Callable[[list[str]], np.ndarray] = minilm.embed

    def prepare(self, suite: Suite) -> None:
        if not suite.train:
            raise InputError(
                suite.path, f"system '{self.spec.name}' fine-tunes, but the suite has no train split"
            )
        cases = suite.train
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

    def answer(self, cases: Sequence[Case]) -> list[Answer]:
        if self.head is None:
            raise RuntimeError("prepare() must run before answer()")
        start = time.perf_counter()
        vectors = torch.from_numpy(self._embed([case.question for case in cases]))
        with torch.no_grad():
            picks = self.head(vectors).argmax(dim=1).tolist()
        latency = (time.perf_counter() - start) / max(len(cases), 1)
        # contexts=None marks the answer closed-book, so context metrics report "not applicable", not 0.
        return [
            Answer(case_id=case.id, text=self.labels[pick], contexts=None, latency_s=latency)
            for case, pick in zip(cases, picks, strict=True)
        ]


class SpanReader:
    """A MiniLM span reader: the best span over all passages, or NO_ANSWER when its margin over the
    reader's no-answer score ([CLS]) is not above `threshold` (calibrated on held-out questions)."""

    def __init__(self, folder: Path, max_length: int, threshold: float = 0.0) -> None:
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        with training.quiet_transformers():
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
            self.model = AutoModelForQuestionAnswering.from_pretrained(str(folder)).eval()
        self.max_length = max_length
        self.threshold = threshold
        # The runner answers from two threads, and a fast tokenizer shared across threads can fail with
        # "Already borrowed"; torch already uses both cores, so reading one batch at a time costs nothing.
        self._lock = threading.Lock()

    def read(self, questions: Sequence[str], contexts: Sequence[Sequence[Passage]]) -> list[str]:
        scored = self.scored(questions, contexts)
        return [text if margin > self.threshold else NO_ANSWER for margin, text in scored]

    def scored(
        self, questions: Sequence[str], contexts: Sequence[Sequence[Passage]], batch_size: int = 32
    ) -> list[tuple[float, str]]:
        """Per question, the best span's (margin over [CLS], text); (-inf, NO_ANSWER) with no passage."""
        with self._lock, torch.no_grad():
            return self._scored(questions, contexts, batch_size)

    def _scored(
        self, questions: Sequence[str], contexts: Sequence[Sequence[Passage]], batch_size: int
    ) -> list[tuple[float, str]]:
        pairs = [(row, passage.text) for row, passages in enumerate(contexts) for passage in passages]
        best = [(float("-inf"), NO_ANSWER) for _ in questions]
        for first in range(0, len(pairs), batch_size):
            batch = pairs[first : first + batch_size]
            encoded = self.tokenizer(
                [questions[row] for row, _ in batch],
                [text for _, text in batch],
                truncation="only_second",
                max_length=self.max_length,
                padding=True,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            offsets = encoded.pop("offset_mapping").tolist()
            output = self.model(**encoded)
            starts, ends = output.start_logits.numpy(), output.end_logits.numpy()
            for number, (row, text) in enumerate(batch):
                context = np.array([sequence == 1 for sequence in encoded.sequence_ids(number)])
                stops = context & [
                    end > begin and text[begin:end] in ".!?" and bool(_SENTENCE_END.match(text, end))
                    for begin, end in offsets[number]
                ]
                margin, first_token, last_token = best_span(starts[number], ends[number], context, stops)
                if margin > best[row][0]:
                    begin, finish = offsets[number][first_token][0], offsets[number][last_token][1]
                    best[row] = (margin, text[begin:finish].strip())
        return best


def calibrate(
    scored: Sequence[tuple[float, str]], references: Sequence[str], most_abstained: float = 0.5
) -> float:
    """The no-answer threshold with the best mean token F1 on held-out questions (ties: answer more).

    A question is answered when its best margin is above the threshold; abstaining scores 1 against an
    abstention reference and 0 against any other. A weak reader's wrong spans also score about 0, so F1
    alone can prefer abstaining on most questions; the threshold may therefore abstain on at most
    `most_abstained` of the held-out answerable questions (a reader that abstains on most questions it
    should answer has collapsed). With no held-out question the threshold is 0: the reader's own
    comparison with [CLS].
    """
    from harness.metrics.lexical import token_f1

    if not scored:
        return 0.0
    answered = [token_f1(text, reference) for (_, text), reference in zip(scored, references, strict=True)]
    abstained = [float(reference == NO_ANSWER) for reference in references]
    allowed = most_abstained * sum(reference != NO_ANSWER for reference in references)
    order = sorted(range(len(scored)), key=lambda i: scored[i][0])
    # Threshold below every margin: answer all; then raise it past one question at a time.
    total, silenced = sum(answered), 0
    best_total, best_threshold = total, float("-inf")
    for index in order:
        silenced += references[index] != NO_ANSWER
        if silenced > allowed:
            break
        total += abstained[index] - answered[index]
        if total > best_total + 1e-9:
            best_total, best_threshold = total, scored[index][0]
    return max(best_threshold, -1e6)  # finite, so it can be written as JSON


_SENTENCE_END = re.compile(r"\s+[A-Z\"]")  # what follows a token that ends a sentence


def best_span(
    starts: np.ndarray, ends: np.ndarray, context: np.ndarray, stops: np.ndarray | None = None
) -> tuple[float, int, int]:
    """(best span score minus the [CLS] score, first token, last token) over spans inside the passage.

    `stops` marks tokens that end a sentence: a span may end on one but not run past it, so an answer
    is never two half sentences.
    """
    scores = starts[:, None] + ends[None, :]
    length = len(starts)
    allowed = np.triu(np.ones((length, length), dtype=bool)) & ~np.triu(
        np.ones((length, length), bool), MAX_ANSWER_TOKENS
    )
    allowed &= context[:, None] & context[None, :]
    if stops is not None:
        before = np.concatenate([[0], np.cumsum(stops)])  # before[j]: stops among tokens 0 .. j-1
        allowed &= (before[None, :-1] - before[:-1, None]) == 0  # none in first .. last-1
    if not allowed.any():
        return float("-inf"), 0, 0
    masked = np.where(allowed, scores, -np.inf)
    first, last = np.unravel_index(int(np.argmax(masked)), masked.shape)
    return float(masked[first, last] - (starts[0] + ends[0])), int(first), int(last)


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


def general_span_reader(max_length: int = training.GENERAL.max_length) -> SpanReader:
    """The general reader with no abstention: it always answers with its best span.

    A no-answer threshold calibrated on the generated set does not transfer: on other text the reader's
    margins are lower, and such a threshold abstained on 19 of smoke's 20 answerable questions. Without
    the suite's data there is nothing to calibrate on, so the off-the-shelf reader answers; abstaining
    well is what the hybrid's held-out calibration adds.
    """
    return SpanReader(training.general_reader().folder / "reader", max_length, threshold=float("-inf"))


class GeneralReaderPipeline:
    """rag: retrieval feeding the general reader, which never sees the suite's train split."""

    def __init__(self, spec: SystemSpec, cache: Cache | None = None) -> None:
        assert spec.retriever is not None
        self.spec = spec
        self.cache = cache
        self.retriever: Retriever | None = None
        self.reader: SpanReader | None = None

    def prepare(self, suite: Suite) -> None:
        assert self.spec.retriever is not None
        self.retriever = Retriever(self.spec.retriever, suite.corpus, self.cache)
        self.reader = general_span_reader()

    def answer(self, cases: Sequence[Case]) -> list[Answer]:
        if self.retriever is None or self.reader is None:
            raise RuntimeError("prepare() must run before answer()")
        return retrieve_and_read(self.retriever, self.reader, cases)


class TunedReaderPipeline:
    """hybrid: retrieval (optionally with a tuned encoder) feeding the tuned span-extraction reader."""

    def __init__(self, spec: SystemSpec, cache: Cache | None = None) -> None:
        assert spec.finetune is not None and spec.retriever is not None
        self.spec = spec
        self.tune: FinetuneSpec = spec.finetune
        self.cache = cache
        self.training_log: dict[str, list[float]] = {}
        self.retriever: Retriever | None = None
        self.reader: SpanReader | None = None

    def prepare(self, suite: Suite) -> None:
        assert self.spec.retriever is not None
        if not suite.train:
            raise InputError(
                suite.path, f"system '{self.spec.name}' fine-tunes, but the suite has no train split"
            )
        log: dict[str, list[float]] = {}
        embed: Callable[[list[str]], np.ndarray] = minilm.embed
        embed_id = minilm.MODEL_ID
        if self.tune.tune_retriever:
            if self.spec.retriever.embeddings != DEFAULT_ENCODER:
                raise InputError(
                    f"system '{self.spec.name}'",
                    "key 'retriever.embeddings': tune_retriever tunes MiniLM, not a hosted encoder",
                )
            corpus = {passage.id: passage for passage in suite.corpus}
            pairs = [
                (case.question, indexed_text(corpus[case.gold_ids[0]]))
                for case in suite.train
                if case.gold_ids
            ]
            tuned = training.train_retriever(pairs, self.tune, self.cache)
            embed, embed_id = TunedEncoder(tuned.folder / "encoder").embed, f"tuned:{tuned.folder.name}"
            log.update({f"retriever_{name}": values for name, values in tuned.curves.items()})
        self.retriever = Retriever(self.spec.retriever, suite.corpus, self.cache, embed, embed_id)
        kept, held = training.holdout(
            [c.id for c in suite.train], self.tune.val_share, self.tune.seed, stratify=False
        )
        train_cases, val_cases = [suite.train[i] for i in kept], [suite.train[i] for i in held]
        examples, skipped = reader_examples(train_cases, self.retriever, self.tune.distractors)
        val_examples, _ = reader_examples(val_cases, self.retriever, self.tune.distractors)
        # RAFT-style: the same general reader the rag arm uses, then tuned on this suite's train split.
        start = training.general_reader().folder / "reader"
        trained = training.train_reader(examples, val_examples, self.tune, self.cache, init=start)
        self.reader = SpanReader(trained.folder / "reader", self.tune.max_length)
        # No fixed cut-off: the held-out train questions, read through retrieval as at test time, choose it.
        questions = [case.question for case in val_cases]
        scored = self.reader.scored(questions, self.retriever.search(questions))
        self.reader.threshold = calibrate(scored, [case.reference for case in val_cases])
        log.update(trained.curves)
        log["reader_skipped_cases"] = [float(skipped)]
        log["no_answer_threshold"] = [self.reader.threshold]
        self.training_log = log

    def answer(self, cases: Sequence[Case]) -> list[Answer]:
        if self.retriever is None or self.reader is None:
            raise RuntimeError("prepare() must run before answer()")
        return retrieve_and_read(self.retriever, self.reader, cases)


def tuned_minilm(
    spec: SystemSpec, cache: Cache | None = None
) -> ClosedBookClassifier | TunedReaderPipeline | GeneralReaderPipeline:
    """The factory for `generator: {model: minilm}`: the general reader without a finetune block (rag),
    else finetune.method picks the system."""
    where = f"system '{spec.name}'"
    if spec.finetune is None:
        if spec.retriever is None:
            raise InputError(
                where, "generator 'minilm' without 'finetune' is the general reader: add a 'retriever' block"
            )
        return GeneralReaderPipeline(spec, cache)
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
        return ClosedBookClassifier(spec, cache)
    if spec.retriever is None:
        raise InputError(where, "finetune.method 'reader' reads retrieved passages: add a 'retriever' block")
    if spec.finetune.tune_retriever and spec.retriever.method == "bm25":
        raise InputError(
            where, "finetune.tune_retriever needs a dense encoder: retriever.method dense or hybrid"
        )
    if spec.finetune.freeze_layers >= 6:
        raise InputError(where, "finetune.freeze_layers 6 leaves the reader nothing to tune: use 0 to 5")
    return TunedReaderPipeline(spec, cache)
