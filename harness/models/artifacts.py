"""Train or reuse: the one place a trained artifact (weights, adapter) is found in the cache or trained.

Every family that trains (the minilm recipes in harness/systems/training.py, hf: adapters in
harness/models/hf.py) keys its artifact by what it was trained from, and calls `train_or_reuse`: a folder
holding a finished training log is reused as it is; otherwise the family's `train` writes its files into
the folder and the log is written last, so a run killed mid-training leaves no log and its partial
weights are never reused.
"""

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from harness.cache import Cache
from harness.files import write_atomic

LOG_FILE = "training.json"  # written last: its presence marks a finished artifact
runs = 0  # artifacts actually trained by this process; tests read it to prove reuse from the cache

Curves = dict[str, list[float]]


class Trained(NamedTuple):
    """A trained artifact: its folder, loss curves, and facts about the run (counts, seconds)."""

    folder: Path
    curves: Curves
    info: dict[str, Any]


def train_or_reuse(
    cache: Cache | None,
    namespace: str,
    parts: Sequence[Any],
    train: Callable[[Path], Trained],
    prefix: str = "harness-model-",
) -> Trained:
    """The artifact keyed by `parts` in the cache's `namespace`, trained by `train(folder)` if not there.

    Without a cache the folder is a fresh temporary one (`prefix`). The stored log holds the curves and
    the run's facts, to which the wall and CPU seconds of training are added.
    """
    global runs
    folder = cache.artifact_dir(namespace, *parts) if cache else Path(tempfile.mkdtemp(prefix=prefix))
    log_path = folder / LOG_FILE
    if log_path.exists():
        stored = json.loads(log_path.read_text(encoding="utf-8"))
        return Trained(folder, stored["curves"], stored["info"])
    runs += 1
    start, cpu = time.perf_counter(), time.process_time()
    trained = train(folder)
    info = {
        **trained.info,
        "seconds": round(time.perf_counter() - start, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
    }
    write_atomic(log_path, json.dumps({"curves": trained.curves, "info": info}, indent=1))
    return Trained(folder, trained.curves, info)
