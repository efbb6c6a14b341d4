"""Rules shared by every suite builder: the text checks (the same sentence and normalisation rules as
harness/text.py), row helpers, the hold-out of answers from train, and the generator-side validation.

No policy lives here or anywhere in the generator: each suite's metrics, gates, judge and format are
written by hand in ``suites/<name>/suite.yaml``.
"""

from __future__ import annotations

import json
import random
import re
import string
from collections import Counter
from pathlib import Path

# The reference of every unanswerable row (a data constant). support-docs' hand-written suite.yaml
# declares the same text as its `abstention`; tests/integration/test_shipped_suites.py checks that they agree.
UNANSWERABLE = "The documents do not say."


_PUNCT = re.compile("[" + re.escape(string.punctuation + "’‘“”–—€£°²") + "]")
_WS = re.compile(r"\s+")
# Same rule as harness/text.py: split at . ! ? followed by a capital or a digit.
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")


_ARTICLES = re.compile(r"\b(a|an|the)\b")


def norm_reference(text: str) -> str:
    """SQuAD normalisation, the same rule as harness/text.py's normalise: lower case, ASCII punctuation
    dropped, articles dropped, whitespace collapsed. A test reference is `seen` when its normalised form
    equals a train reference's (the rule of harness/overlap.py)."""
    text = text.lower().translate(str.maketrans("", "", string.punctuation))
    return " ".join(_ARTICLES.sub(" ", text).split())


def norm_question(text: str) -> str:
    """Lower-case, strip punctuation, collapse whitespace (same rule as the tests)."""
    return _WS.sub(" ", _PUNCT.sub(" ", text.lower())).strip()


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT_SPLIT.split(text.strip()) if s.strip()]


def word_count(text: str) -> int:
    return len(text.split())


def check_passage(pid: str, text: str) -> None:
    n_sent = len(sentences(text))
    n_words = word_count(text)
    if not (1 <= n_sent <= 4 and 30 <= n_words <= 90):
        raise AssertionError(f"passage {pid}: {n_sent} sentences, {n_words} words: {text!r}")


def in_one_sentence(ref: str, text: str) -> bool:
    return any(ref in s for s in sentences(text))


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True))
            fh.write("\n")


def number_rows(rows: list[dict], prefix: str) -> list[dict]:
    width = max(4, len(str(len(rows))))
    out = []
    for i, row in enumerate(rows, 1):
        out.append({"id": f"{prefix}-{i:0{width}d}", **row})
    return out


def case(question: str, reference: str, gold_ids: list[str], tags: list[str]) -> dict:
    return {
        "question": question,
        "reference": reference,
        "gold_ids": list(gold_ids),
        "tags": sorted(set(tags)),
    }


def validate(
    name: str, corpus: list[dict], train: list[dict], test: list[dict], span_required: bool = True
) -> None:
    """Generator-side sanity checks; raises AssertionError on a template bug."""
    ids = [p["id"] for p in corpus]
    if len(ids) != len(set(ids)):
        raise AssertionError(f"{name}: duplicate passage ids")
    by_id = {p["id"]: p for p in corpus}
    for p in corpus:
        check_passage(p["id"], p["text"])
    for split, rows in (("train", train), ("test", test)):
        rid = [r["id"] for r in rows]
        if len(rid) != len(set(rid)):
            raise AssertionError(f"{name}/{split}: duplicate ids")
        for r in rows:
            for g in r["gold_ids"]:
                if g not in by_id:
                    raise AssertionError(f"{name}/{split} {r['id']}: unknown gold id {g}")
            if not r["gold_ids"] and r["reference"] != UNANSWERABLE:
                raise AssertionError(f"{name}/{split} {r['id']}: answerable row without gold")
    unseen = sum("unseen" in r["tags"] for r in test)
    if 100 * unseen < UNSEEN_PERCENT * len(test):
        raise AssertionError(f"{name}: only {unseen} of {len(test)} test answers are unseen in train")
    train_q = {norm_question(r["question"]) for r in train}
    for r in test:
        if norm_question(r["question"]) in train_q:
            raise AssertionError(f"{name}: test question also in train: {r['question']!r}")


# Percentage of each suite's test cases whose reference must never occur among its train references.
UNSEEN_PERCENT = 60


def hold_out(name: str, seed: int, data: dict) -> dict:
    """Take answers out of the train split until UNSEEN_PERCENT of the test cases are `unseen`, and tag
    every test case `seen` or `unseen`.

    Whole answers are held out (every train row whose normalised reference is a held-out test reference is
    dropped), drawn in a seeded random order, so a held-out answer cannot come back through another fact
    that happens to share its value. The abstention answer is never held out: it is learnt, not recalled.
    """
    train, test = data["train"], data["test"]
    train_refs = {norm_reference(row["reference"]) for row in train}
    per_answer = Counter(norm_reference(row["reference"]) for row in test)
    unseen = sum(count for ref, count in per_answer.items() if ref not in train_refs)
    target = (UNSEEN_PERCENT * len(test) + 99) // 100  # rounded up, in integers
    candidates = sorted(
        ref for ref in per_answer if ref in train_refs and ref != norm_reference(UNANSWERABLE)
    )
    random.Random(f"{name}:{seed}:hold-out").shuffle(candidates)
    held: set[str] = set()
    for ref in candidates:
        if unseen >= target:
            break
        held.add(ref)
        unseen += per_answer[ref]
    kept = [
        {k: v for k, v in row.items() if k != "id"}
        for row in train
        if norm_reference(row["reference"]) not in held
    ]
    kept_refs = {norm_reference(row["reference"]) for row in kept}
    tagged = []
    for row in test:
        mark = "seen" if norm_reference(row["reference"]) in kept_refs else "unseen"
        tagged.append({**row, "tags": sorted({*row["tags"], mark})})
    return {**data, "train": number_rows(kept, "tr"), "test": tagged}


def shuffled(rng: random.Random, items: list) -> list:
    items = list(items)
    rng.shuffle(items)
    return items


def splits(
    rng: random.Random, corpus: list[dict], train: list[dict], test: list[dict], **extra: list
) -> dict:
    """A builder's result: train and test rows shuffled by `rng` and numbered, with any extra files."""
    train = number_rows(shuffled(rng, train), "tr")
    test = number_rows(shuffled(rng, test), "t")
    return {"corpus": corpus, "train": train, "test": test, "extra": extra}


def and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
