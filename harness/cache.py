"""The on-disk cache of answers, scores and embeddings (diskcache; the only module that touches it)."""

import os
from pathlib import Path
from typing import Any

import diskcache

from harness.hashing import digest

DEFAULT_DIR = Path(".cache") / "harness"


class Cache:
    """Values keyed by a namespace and the content they were computed from.

    Every `put` is committed at once (SQLite underneath), so a run killed even with SIGKILL keeps
    everything finished before the kill.
    """

    def __init__(self, directory: Path | str | None = None, enabled: bool = True) -> None:
        self.directory = Path(directory or os.environ.get("HARNESS_CACHE_DIR") or DEFAULT_DIR)
        self.enabled = enabled
        self._store = diskcache.Cache(
            str(self.directory), size_limit=2**34, eviction_policy="least-recently-stored"
        )

    @staticmethod
    def key(namespace: str, *parts: Any) -> str:
        return f"{namespace}:{digest(list(parts), length=32)}"

    def get(self, key: str) -> Any | None:
        if not self.enabled:
            return None
        return self._store.get(key)

    def put(self, key: str, value: Any) -> None:
        if self.enabled:
            self._store.set(key, value)

    def artifact_dir(self, namespace: str, *parts: Any) -> Path:
        """A folder for large artifacts (trained weights) keyed like `key`; created on demand.

        With the cache disabled (--no-cache) it is a fresh folder per call, so nothing is reused.
        """
        name = digest(list(parts), length=32)
        if not self.enabled:
            name = f"{name}-{os.getpid()}-{id(object())}"
        folder = self.directory / "artifacts" / namespace / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def close(self) -> None:
        self._store.close()
