"""The on-disk cache of answers, scores and embeddings (diskcache; the only module that touches it)."""

import os
import sqlite3
from pathlib import Path
from typing import Any

import diskcache

from harness.errors import InputError
from harness.hashing import digest

DEFAULT_DIR = Path(".cache") / "harness"


def cache_dir() -> Path:
    """The harness's cache folder: HARNESS_CACHE_DIR, else .cache/harness in the working folder."""
    return Path(os.environ.get("HARNESS_CACHE_DIR") or DEFAULT_DIR)


def _unusable(directory: Path, err: Exception) -> InputError:
    """One line for a cache folder that cannot be used: not writable, or its database damaged."""
    if isinstance(err, sqlite3.DatabaseError) and not isinstance(err, sqlite3.OperationalError):
        return InputError(
            str(directory / "cache.db"),
            f"the cache database is damaged ({err}): delete the folder {directory} to start afresh",
        )
    detail = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
    return InputError(str(directory), f"cache folder cannot be used ({detail}); set HARNESS_CACHE_DIR")


class Cache:
    """Values keyed by a namespace and the content they were computed from.

    Every `put` is committed at once (SQLite underneath), so a run killed even with SIGKILL keeps
    everything finished before the kill.
    """

    def __init__(self, directory: Path | str | None = None, enabled: bool = True) -> None:
        self.directory = Path(directory) if directory else cache_dir()
        self.enabled = enabled
        try:
            self._store = diskcache.Cache(
                str(self.directory), size_limit=2**34, eviction_policy="least-recently-stored"
            )
        except (OSError, sqlite3.Error) as err:
            raise _unusable(self.directory, err) from None

    @staticmethod
    def key(namespace: str, *parts: Any) -> str:
        return f"{namespace}:{digest(list(parts), length=32)}"

    def get(self, key: str) -> Any | None:
        if not self.enabled:
            return None
        try:
            return self._store.get(key)
        except (OSError, sqlite3.DatabaseError) as err:  # damaged after opening, or the disk went away
            raise _unusable(self.directory, err) from None

    def put(self, key: str, value: Any) -> None:
        if self.enabled:
            try:
                self._store.set(key, value)
            except (OSError, sqlite3.DatabaseError) as err:
                raise _unusable(self.directory, err) from None

    def artifact_dir(self, namespace: str, *parts: Any) -> Path:
        """A folder for large artifacts (trained weights) keyed like `key`; created on demand.

        With the cache disabled (--no-cache) it is a fresh folder per call, so nothing is reused.
        """
        name = digest(list(parts), length=32)
        if not self.enabled:
            name = f"{name}-{os.getpid()}-{id(object())}"
        folder = self.directory / "artifacts" / namespace / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise _unusable(self.directory, err) from None
        return folder

    def close(self) -> None:
        self._store.close()
