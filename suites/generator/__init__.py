"""The data builders of the shipped suites, one module per suite; suites/generate.py is their command line.

Each builder returns the rows of a suite (``corpus``, ``train``, ``test`` and ``extra`` files such as
knowledge-refresh's ``corpus_old.jsonl``); ``build`` then holds answers out of train and validates the
rows. The builders write no policy: ``suites/<name>/suite.yaml`` is written by hand.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .common import hold_out, validate
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
