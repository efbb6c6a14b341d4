"""Which questions to ask about which passages: the split by document, the mix of kinds, and the prompts."""

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.suitegen.prompts import KINDS, build_prompt

DEFAULT_MIX = {"single": 0.6, "multi": 0.2, "unanswerable": 0.2}


@dataclass
class Request:
    """One planned question: its id, split, kind, the passages it is asked about, and its prompt."""

    id: str
    split: str
    kind: str
    passages: list[dict[str, Any]]
    prompt: str


def parse_mix(text: str | None) -> dict[str, float]:
    """`single=0.6,multi=0.2,unanswerable=0.2` -> shares that sum to 1 (kinds not named get 0)."""
    if text is None:
        return dict(DEFAULT_MIX)
    if not text.strip():
        raise InputError("--mix", "empty: give KIND=SHARE pairs, e.g. single=0.6,multi=0.2,unanswerable=0.2")
    mix = dict.fromkeys(KINDS, 0.0)
    for part in text.split(","):
        kind, sep, value = part.partition("=")
        kind = kind.strip()
        if not sep or kind not in KINDS:
            raise InputError(
                "--mix", f"'{part.strip()}' is not KIND=SHARE with KIND one of {', '.join(KINDS)}"
            )
        try:
            mix[kind] = float(value)
        except ValueError:
            raise InputError("--mix", f"'{value.strip()}' is not a number (in '{part.strip()}')") from None
        if not math.isfinite(mix[kind]):
            raise InputError("--mix", f"share of {kind} must be a finite number, got '{value.strip()}'")
        if mix[kind] < 0:
            raise InputError("--mix", f"share of {kind} must not be negative")
    total = sum(mix.values())
    if total <= 0:
        raise InputError("--mix", "the shares add up to 0")
    return {kind: share / total for kind, share in mix.items()}


def read_corpus(folder: Path) -> list[dict[str, Any]]:
    """corpus.jsonl rows; a row without doc_id (a corpus not built by `suites new`) is its own document."""
    path = folder / "corpus.jsonl"
    if not path.is_file():
        raise InputError(str(path), "file not found: build the suite with `harness suites new` first")
    rows = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as err:
        raise InputError(str(path), f"not valid UTF-8 (byte {err.start})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as err:
            raise InputError(str(path), f"row {number}: not JSON ({err})") from None
        if not isinstance(row, dict) or not str(row.get("id", "")).strip() or not str(row.get("text", "")):
            raise InputError(str(path), f"row {number}: needs an id and a text")
        row.setdefault("doc_id", row["id"])
        rows.append(row)
    if not rows:
        raise InputError(str(path), "empty corpus: no passages")
    return rows


def counts(total: int, mix: dict[str, float]) -> dict[str, int]:
    """`total` split over the kinds in proportion to `mix` (largest remainder, ties in KINDS order)."""
    exact = {kind: total * mix.get(kind, 0.0) for kind in KINDS}
    result = {kind: int(value) for kind, value in exact.items()}
    order = sorted(KINDS, key=lambda kind: (-(exact[kind] - result[kind]), KINDS.index(kind)))
    for kind in order[: total - sum(result.values())]:
        result[kind] += 1
    return result


def split_documents(
    rows: list[dict[str, Any]], n_test: int, n_train: int, seed: int
) -> tuple[list[str], list[str]]:
    """(test documents, train documents): whole documents, in a seeded order, go to test until test holds
    its share of the passages (n_test / (n_test + n_train)); the rest are train. No document is in both."""
    sizes: dict[str, int] = {}
    for row in rows:
        sizes[row["doc_id"]] = sizes.get(row["doc_id"], 0) + 1
    docs = sorted(sizes)
    random.Random(seed).shuffle(docs)
    if n_test and n_train and len(docs) < 2:
        raise InputError(
            "--test/--train", "one document cannot give both splits: test and train never share a document"
        )
    if not n_train:
        return docs, []
    if not n_test:
        return [], docs
    want = len(rows) * n_test / (n_test + n_train)
    test: list[str] = []
    held = 0
    for doc in docs[:-1]:  # the last document always stays in train
        if test and held >= want:
            break
        test.append(doc)
        held += sizes[doc]
    return test, [doc for doc in docs if doc not in test]


def _pairs(passages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Neighbouring passages of one document first (a question across them is natural), then neighbours
    across documents of the split when no document has two."""
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for row in passages:
        by_doc.setdefault(row["doc_id"], []).append(row)
    pairs = [[a, b] for group in by_doc.values() for a, b in zip(group, group[1:], strict=False)]
    if not pairs:
        pairs = [[a, b] for a, b in zip(passages, passages[1:], strict=False)]
    return pairs


def plan(
    rows: list[dict[str, Any]], n_test: int, n_train: int, mix: dict[str, float], seed: int
) -> tuple[list[Request], list[dict[str, Any]], dict[str, list[str]]]:
    """The requests to send, the rows that cannot be asked (counted, with their reason), and the documents
    of each split."""
    if n_test < 1:
        raise InputError("--test", f"must be at least 1, got {n_test}")
    if n_train < 0:
        raise InputError("--train", f"must not be negative, got {n_train}")
    test_docs, train_docs = split_documents(rows, n_test, n_train, seed)
    requests: list[Request] = []
    impossible: list[dict[str, Any]] = []
    for split, docs, total in (("test", test_docs, n_test), ("train", train_docs, n_train)):
        mine = [row for row in rows if row["doc_id"] in set(docs)]
        rng = random.Random(f"{seed}:{split}")
        number = 0
        for kind, wanted in counts(total, mix).items():
            pool = _pairs(mine) if kind == "multi" else [[row] for row in mine]
            rng.shuffle(pool)
            for index in range(wanted):
                number += 1
                request_id = f"{split}-{number:04d}"
                if not pool:
                    impossible.append(
                        {
                            "id": request_id,
                            "split": split,
                            "type": kind,
                            "passages": [],
                            "reason": "not enough passages",
                            "detail": f"the {split} documents have no two passages",
                        }
                    )
                    continue
                chosen = pool[index % len(pool)]
                variant = index // len(pool)
                prompt = build_prompt(kind, chosen, variant)
                requests.append(Request(request_id, split, kind, chosen, prompt))
    return requests, impossible, {"test": test_docs, "train": train_docs}
