"""Fine-tuning recipes of the offline profile (classifier head, QA reader, retriever), cached by hash.

Over 300 lines for one reason: the three recipes share one training loop (`fit`), its hold-out split and
the general reader's cache, and splitting them would put that shared loop a module away from each user.
"""

import fcntl
import json
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import torch

from harness.cache import DEFAULT_DIR, Cache
from harness.hashing import digest
from harness.models import minilm
from harness.models.artifacts import LOG_FILE as LOG_FILE  # re-exported: the training log's name
from harness.models.artifacts import Curves, Trained, train_or_reuse
from harness.systems import general_qa
from harness.values import COMPONENT_VERSIONS, FinetuneSpec

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

THREADS = 2  # the profile targets 2-core CI runners; a fixed count also keeps float sums reproducible
CURVE_POINTS = 8  # points per loss curve: enough to see the trend, few enough to keep validation cheap
HEAD_LR_FACTOR = 10  # a freshly initialised head learns this much faster than the pretrained layers below it
VAL_ROWS = 32  # validation rows per curve point: enough for the trend, a small share of the training time
BUCKET = 8  # batches whose examples are sorted by length together: less padding, order still random
# The general reader (rag-minilm's, and the hybrid's starting point): generated passages, never a suite.
GENERAL_PASSAGES = 600  # one document each, 2,400 rows: 300 steps of 8
GENERAL_VAL_PASSAGES = 60
GENERAL = FinetuneSpec(
    method="reader", epochs=1, lr=1e-4, batch_size=8, freeze_layers=3, max_length=192, val_share=0, seed=0
)
# The finetune settings that key each recipe's weights; changing any other setting reuses them.
SETTINGS = {
    "classifier": {"epochs", "lr", "batch_size", "max_steps", "val_share", "freeze_layers", "seed"},
    "retriever": {"retriever_epochs", "retriever_lr", "batch_size", "val_share", "freeze_layers", "seed"},
    "reader": {"epochs", "lr", "batch_size", "max_steps", "val_share", "freeze_layers", "max_length", "seed"},
}


class ReaderExample(NamedTuple):
    """A question and one passage; `start`/`end`: the answer's character span, -1 where it must not answer."""

    question: str
    context: str
    start: int
    end: int


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence the expected "newly initialised head" warning and the weight-loading progress bar."""
    from transformers.utils import logging

    verbosity, bar = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bar:
            logging.enable_progress_bar()


def _cached(
    cache: Cache | None, recipe: str, data: Any, spec: FinetuneSpec, train: Callable[[Path], Trained]
) -> Trained:
    """Reuse the artifact trained from the same (base model, data, hyper-parameters), or train it now."""
    settings = spec.model_dump(include=SETTINGS[recipe])
    parts = (recipe, minilm.MODEL_ID, digest(data, length=32), settings, COMPONENT_VERSIONS["minilm_tuned"])

    def pinned(folder: Path) -> Trained:
        threads = torch.get_num_threads()
        torch.set_num_threads(THREADS)
        torch.manual_seed(spec.seed)
        try:
            trained = train(folder)
        finally:
            torch.set_num_threads(threads)
        return trained._replace(info={"recipe": recipe, **trained.info})

    return train_or_reuse(cache, "model", parts, pinned)


def models_dir() -> Path:
    """Where weights that depend on no suite are kept: HARNESS_MODELS_DIR, else `models/` in the harness's
    cache folder (HARNESS_CACHE_DIR or .cache/harness), never outside it. The tests point every test's
    own cache at one shared models folder, so the general reader trains once per test session."""
    configured = os.environ.get("HARNESS_MODELS_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("HARNESS_CACHE_DIR") or DEFAULT_DIR) / "models"


def general_reader() -> Trained:
    """The span reader trained on the generated general-purpose set (harness.systems.general_qa).

    It depends on no suite, so it is cached in models_dir() and trains once per machine; a file lock
    makes concurrent processes wait for the first one instead of training it twice.
    """
    folder = models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    recipe = digest(
        [general_qa.VERSION, GENERAL_PASSAGES, GENERAL_VAL_PASSAGES, GENERAL.model_dump()], length=16
    )
    with (folder / f"general-reader-{recipe}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # One document per passage: about the length of a retrieved chunk, and cheap to train on.
        rows = general_qa.reader_examples(seed=0, count=GENERAL_PASSAGES, most=1)
        val_rows = general_qa.reader_examples(seed=1, count=GENERAL_VAL_PASSAGES, most=1)
        cache = Cache(folder)
        try:
            return train_reader(
                [ReaderExample(*row) for row in rows],
                [ReaderExample(*row) for row in val_rows],
                GENERAL,
                cache,
                note=f"general_qa v{general_qa.VERSION}",
            )
        finally:
            cache.close()


def holdout(labels: Sequence[str], share: float, seed: int, stratify: bool) -> tuple[list[int], list[int]]:
    """Indices (train, validation). Stratified: a label's last example always stays in train."""
    order = list(range(len(labels)))
    random.Random(seed).shuffle(order)
    wanted = round(len(labels) * share)
    left = Counter(labels)
    chosen: set[int] = set()
    for index in order:
        if len(chosen) >= wanted:
            break
        if not stratify or left[labels[index]] > 1:
            left[labels[index]] -= 1
            chosen.add(index)
    return [i for i in range(len(labels)) if i not in chosen], sorted(chosen)


def fit(
    model: torch.nn.Module,
    items: Sequence[Any],
    val_items: Sequence[Any],
    collate: Callable[[list[Any]], Any],
    loss_of: Callable[[Any], torch.Tensor],
    spec: FinetuneSpec,
    head: torch.nn.Module | None = None,
    lengths: Sequence[int] | None = None,
) -> Curves:
    """AdamW with linear decay; mean train loss per window of steps, validation loss at each window's end.

    Uses spec's epochs, lr, batch_size, seed and max_steps; `head`, a new layer of `model`, trains at
    HEAD_LR_FACTOR times lr. With `lengths`, each run of BUCKET batches is drawn from examples of similar
    length (less padding); the validation curve reads at most VAL_ROWS rows.
    """
    batch_size, lr = spec.batch_size, spec.lr
    per_epoch = -(-len(items) // batch_size)
    total = min(spec.epochs * per_epoch, spec.max_steps or spec.epochs * per_epoch)
    window = max(1, -(-total // CURVE_POINTS))
    fast = {id(p) for p in head.parameters()} if head is not None else set()
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in trainable if id(p) not in fast], "lr": lr},
        {"params": [p for p in trainable if id(p) in fast], "lr": lr * HEAD_LR_FACTOR},
    ]
    optimiser = torch.optim.AdamW([group for group in groups if group["params"]])
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1.0 - step / max(total, 1))
    val_items = val_items[:VAL_ROWS]
    val_batches = [collate(list(val_items[i : i + batch_size])) for i in range(0, len(val_items), batch_size)]
    curves: Curves = {"train_loss": [], "val_loss": []}
    shuffler = random.Random(spec.seed)
    running: list[float] = []
    step = 0
    model.train()
    while step < total:
        order = list(range(len(items)))
        shuffler.shuffle(order)
        batches = [order[first : first + batch_size] for first in range(0, len(order), batch_size)]
        if lengths is not None:
            span = batch_size * BUCKET
            grouped = [
                sorted(order[i : i + span], key=lambda n: lengths[n]) for i in range(0, len(order), span)
            ]
            batches = [g[i : i + batch_size] for g in grouped for i in range(0, len(g), batch_size)]
            shuffler.shuffle(batches)
        for batch in batches:
            loss = loss_of(collate([items[i] for i in batch]))
            loss.backward()
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            running.append(float(loss.item()))
            step += 1
            if step % window == 0 or step == total:
                curves["train_loss"].append(round(sum(running) / len(running), 5))
                running = []
                if val_batches:
                    model.eval()
                    with torch.no_grad():
                        losses = [float(loss_of(batch).item()) for batch in val_batches]
                    curves["val_loss"].append(round(sum(losses) / len(losses), 5))
                    model.train()
            if step >= total:
                break
    model.eval()
    return curves


def trainable_encoder(frozen_layers: int) -> "SentenceTransformer":
    """A fresh MiniLM sentence encoder whose word embeddings and lowest `frozen_layers` layers stay fixed.

    The word embeddings hold 12M of MiniLM's 22M parameters: updating them dominates step time on CPU
    and a few hundred pairs cannot teach them much.
    """
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(minilm.model_path(), device="cpu")
    bert: Any = encoder[0].auto_model
    bert.embeddings.requires_grad_(False)
    for layer in bert.encoder.layer[:frozen_layers]:
        layer.requires_grad_(False)
    return encoder


def train_classifier(
    questions: Sequence[str], answers: Sequence[str], spec: FinetuneSpec, cache: Cache | None
) -> Trained:
    """Closed-book recipe: a new linear head over the distinct train answers on mean-pooled MiniLM.

    With every layer frozen the questions are encoded once and only the head trains on those vectors.
    Saves head.pt, labels.json and, when layers were tuned, the encoder.
    """
    labels = sorted(set(answers))

    def train(folder: Path) -> Trained:
        index = {label: number for number, label in enumerate(labels)}
        targets = [index[answer] for answer in answers]
        kept, held = holdout(answers, spec.val_share, spec.seed, stratify=True)
        head = torch.nn.Linear(384, len(labels))
        encoder = trainable_encoder(spec.freeze_layers) if spec.freeze_layers < 6 else None
        if encoder is None:
            vectors = torch.from_numpy(minilm.embed(list(questions)))
            model: torch.nn.Module = head
            rows: list[Any] = [(vectors[i], targets[i]) for i in range(len(questions))]

            def features(batch: list[Any]) -> torch.Tensor:
                return torch.stack([row[0] for row in batch])
        else:
            model = torch.nn.ModuleList([encoder, head])
            rows = [(questions[i], targets[i]) for i in range(len(questions))]

            def features(batch: list[Any]) -> torch.Tensor:
                return encoder(encoder.preprocess([row[0] for row in batch]))["sentence_embedding"]

        def loss_of(batch: list[Any]) -> torch.Tensor:
            wanted = torch.tensor([row[1] for row in batch])
            return torch.nn.functional.cross_entropy(head(features(batch)), wanted)

        curves = fit(model, [rows[i] for i in kept], [rows[i] for i in held], list, loss_of, spec, head)
        torch.save(head.state_dict(), folder / "head.pt")
        (folder / "labels.json").write_text(json.dumps(labels, ensure_ascii=False), encoding="utf-8")
        if encoder is not None:
            encoder.save(str(folder / "encoder"))
        counts = {"examples": len(kept), "val_examples": len(held), "labels": len(labels)}
        return Trained(folder, curves, counts)

    return _cached(cache, "classifier", [list(questions), list(answers)], spec, train)


def train_retriever(pairs: Sequence[tuple[str, str]], spec: FinetuneSpec, cache: Cache | None) -> Trained:
    """Retriever recipe: MiniLM tuned on (question, gold passage) with in-batch negatives; saves encoder/."""
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    def train(folder: Path) -> Trained:
        encoder = trainable_encoder(spec.freeze_layers)
        loss = MultipleNegativesRankingLoss(encoder)
        kept, held = holdout([question for question, _ in pairs], spec.val_share, spec.seed, stratify=False)

        def collate(batch: list[tuple[str, str]]) -> list[dict[str, torch.Tensor]]:
            return [encoder.preprocess([q for q, _ in batch]), encoder.preprocess([p for _, p in batch])]

        schedule = spec.model_copy(
            update={"epochs": spec.retriever_epochs, "lr": spec.retriever_lr, "max_steps": None}
        )
        train_pairs, val_pairs = [pairs[i] for i in kept], [pairs[i] for i in held]
        curves = fit(encoder, train_pairs, val_pairs, collate, lambda batch: loss(batch, None), schedule)
        encoder.save(str(folder / "encoder"))
        return Trained(folder, curves, {"examples": len(kept), "val_examples": len(held)})

    return _cached(cache, "retriever", [list(pair) for pair in pairs], spec, train)


def train_reader(
    examples: Sequence[ReaderExample],
    val_examples: Sequence[ReaderExample],
    spec: FinetuneSpec,
    cache: Cache | None,
    init: Path | None = None,
    note: str = "",
) -> Trained:
    """Reader recipe: MiniLM with a span-extraction head, taught to point at the answer or at [CLS].

    [CLS] (position 0) is the no-answer target of distractor passages. `init`: a reader folder to start
    from (the general reader) instead of MiniLM with a new head; its folder name, a hash, keys the
    result. `note` also keys it (the version of generated data). Saves reader/ (model + tokenizer).
    """
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    start_from = str(init) if init is not None else minilm.model_path()

    def train(folder: Path) -> Trained:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(start_from)
            model = AutoModelForQuestionAnswering.from_pretrained(start_from)
        model.bert.embeddings.requires_grad_(False)  # as in trainable_encoder: most parameters, little gain
        for layer in model.bert.encoder.layer[: spec.freeze_layers]:
            layer.requires_grad_(False)
        rows, skipped = _encode_spans(tokenizer, examples, spec.max_length)
        val_rows, _ = _encode_spans(tokenizer, val_examples, spec.max_length)

        def collate(batch: list[dict[str, Any]]) -> Any:
            return tokenizer.pad(batch, return_tensors="pt")  # the *_positions columns become tensors too

        # A new head learns faster than the layers under it; a head that already reads spans does not.
        head = model.qa_outputs if init is None else None
        lengths = [len(row["input_ids"]) for row in rows]
        curves = fit(model, rows, val_rows, collate, lambda t: model(**t).loss, spec, head, lengths)
        model.save_pretrained(folder / "reader")
        tokenizer.save_pretrained(folder / "reader")
        info = {"examples": len(rows), "val_examples": len(val_rows), "truncated": skipped}
        return Trained(folder, curves, info | {"negatives": sum(example.start < 0 for example in examples)})

    data: list[Any] = [[list(example) for example in examples], [list(example) for example in val_examples]]
    if init is not None or note:
        data.append([init.parent.name if init is not None else "", note])
    return _cached(cache, "reader", data, spec, train)


def _encode_spans(
    tokenizer: Any, examples: Sequence[ReaderExample], max_length: int
) -> tuple[list[dict[str, Any]], int]:
    """Token features with start/end token positions; drops examples whose answer was truncated away."""
    if not examples:
        raise ValueError("no reader training example: no train reference was found in its gold passage")
    questions, contexts = [e.question for e in examples], [e.context for e in examples]
    encoded = tokenizer(questions, contexts, truncation="only_second", max_length=max_length)
    rows, dropped = [], 0
    for number, example in enumerate(examples):
        start = end = 0  # [CLS]: the no-answer target
        if example.start >= 0:
            start = encoded.char_to_token(number, example.start, sequence_index=1)
            end = encoded.char_to_token(number, example.end - 1, sequence_index=1)
            if start is None or end is None:
                dropped += 1
                continue
        row = {key: encoded[key][number] for key in encoded}
        rows.append(row | {"start_positions": start, "end_positions": end})
    return rows, dropped
