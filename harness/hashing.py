"""Content hashes: the identity of suites, cases, systems and cache entries."""

import hashlib
import json
from typing import Any


def digest(value: Any, length: int = 16) -> str:
    """A short, stable hash of any JSON-serialisable value (key order does not matter)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def file_digest(path: str, length: int = 16) -> str:
    """A short hash of a file's bytes."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:length]
