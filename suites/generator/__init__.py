"""The data builders of the shipped suites, one module per suite; suites/generate.py is their command line.

Each builder returns the rows of a suite (``corpus``, ``train``, ``test`` and ``extra`` files such as
knowledge-refresh's ``corpus_old.jsonl``); ``build`` then holds answers out of train and validates the
rows. The builders write no policy: ``suites/<name>/suite.yaml`` is written by hand.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .common import UNSEEN_PERCENT, hold_out, norm_reference, validate
from .house_style import build_house_style
from .knowledge_refresh import build_knowledge_refresh
from .smoke import build_smoke
from .support_docs import build_support_docs

DEFAULT_SEED = 13

# In the order the command line writes them.
BUILDERS: dict[str, Callable[[random.Random, int, int], dict]] = {
    "smoke": build_smoke,
    "knowledge-refresh": build_knowledge_refresh,
    "house-style": build_house_style,
    "support-docs": build_support_docs,
}


def build(name: str, seed: int, scale: int) -> dict:
    """The validated rows of suite ``name``: ``corpus``, ``train``, ``test`` and ``extra`` (file -> rows)."""
    # One independent stream per suite, so selecting suites does not change output.
    rng = random.Random(f"{name}:{seed}")
    data = hold_out(name, seed, BUILDERS[name](rng, scale, seed))
    validate(name, data["corpus"], data["train"], data["test"])
    return data


def build_sized(name: str, seed: int, passages: int, questions: int) -> dict:
    """The rows of suite ``name`` at exactly ``passages`` passages and ``questions`` test cases, for
    performance work (benchmarks/scale.py): the shipped ratio of passages to questions (379 to 170 for
    knowledge-refresh) is not the one a scale test wants (100k to 10k).

    Built at the smallest ``--scale`` that has enough of both, then cut: the corpus keeps its first
    ``passages`` passages (whole entities, then part of the last one), train and test keep the rows whose
    gold passages survived, the ``seen``/``unseen`` tags are recomputed against the kept train split, and
    ``questions`` test cases are drawn by a seeded, stratified sample (unseen and seen in the proportion of
    the full split, never under UNSEEN_PERCENT unseen), kept in file order. Deterministic for the same
    arguments; at most ``passages`` and ``questions`` when the generator cannot reach them (it always can
    for the shipped builders, whose entities are unbounded).
    """
    if passages < 1 or questions < 1:
        raise ValueError("passages and questions must be >= 1")
    one = build(name, seed, 1)
    scale = max(-(-passages // len(one["corpus"])), -(-questions // len(one["test"])))
    data = build(name, seed, scale) if scale > 1 else one
    # Cutting the corpus drops some test cases; grow until enough survive.
    while True:
        corpus = data["corpus"][:passages]
        kept_ids = {p["id"] for p in corpus}
        test = [r for r in data["test"] if all(g in kept_ids for g in r["gold_ids"])]
        if len(test) >= questions or len(data["corpus"]) > 4 * passages:
            break
        scale += 1
        data = build(name, seed, scale)
    train = [r for r in data["train"] if all(g in kept_ids for g in r["gold_ids"])]
    train_refs = {norm_reference(r["reference"]) for r in train}
    for row in test:
        mark = "seen" if norm_reference(row["reference"]) in train_refs else "unseen"
        row["tags"] = sorted({*(t for t in row["tags"] if t not in ("seen", "unseen")), mark})
    unseen = [r for r in test if "unseen" in r["tags"]]
    seen = [r for r in test if "unseen" not in r["tags"]]
    wanted = min(questions, len(test))
    n_unseen = min(
        len(unseen),
        max((UNSEEN_PERCENT * wanted + 99) // 100, round(wanted * len(unseen) / max(1, len(test)))),
    )
    n_seen = min(len(seen), wanted - n_unseen)
    rng = random.Random(f"{name}:{seed}:sized:{passages}:{questions}")
    chosen = {r["id"] for r in rng.sample(unseen, n_unseen) + rng.sample(seen, n_seen)}
    test = [r for r in test if r["id"] in chosen]
    extra = {
        filename: [r for r in rows if r.get("id") in kept_ids] if "corpus" in filename else rows
        for filename, rows in data["extra"].items()
    }
    validate(name, corpus, train, test)
    return {"corpus": corpus, "train": train, "test": test, "extra": extra}
