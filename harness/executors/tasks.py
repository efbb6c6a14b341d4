"""What a Ray worker runs: prepare a cell once, then answer and score shards of its test cases.

Plain functions (the driver wraps them with `ray.remote`), so this module imports no Ray itself. A worker
never touches the driver's cache: it works in its own scratch cache (HARNESS_CACHE_DIR as the driver sets
it for its tasks: a `ray-worker` folder inside the driver's cache folder path, created on each node) and
returns JSON-able answers and scores, which the driver stores under the local runner's keys.

The prepare task records what prepare() read or wrote: the cache entries (corpus embeddings) and the
artifact folders (trained weights, the general reader). It returns them as one bundle; a shard task on
any node unpacks what its node lacks, so its own prepare() finds everything made and trains nothing. No
shared filesystem is needed.
"""

import contextlib
import fcntl
import io
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness.cache import Cache

Bundle = dict[str, Any]  # {"folders": [tar bytes per manifest entry], "entries": {cache key: value}}


class RecordingCache(Cache):
    """The worker's scratch cache, noting every entry prepare() read or wrote, to ship them onwards."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.touched: dict[str, Any] = {}

    def get(self, key: str) -> Any | None:
        value = super().get(key)
        if value is not None:
            self.touched[key] = value
        return value

    def put(self, key: str, value: Any) -> None:
        super().put(key, value)
        self.touched[key] = value


@contextlib.contextmanager
def _recording_artifacts() -> Iterator[list[Path]]:
    """Every folder `Cache.artifact_dir` hands out while the block runs (any Cache: the general reader
    keeps its own in the models folder). Tasks run one at a time in a worker process, so patching the
    class for the block is safe."""
    folders: list[Path] = []
    original = Cache.artifact_dir

    def recorded(self: Cache, namespace: str, *parts: Any) -> Path:
        folder = original(self, namespace, *parts)
        folders.append(folder)
        return folder

    Cache.artifact_dir = recorded  # type: ignore[method-assign]
    try:
        yield folders
    finally:
        Cache.artifact_dir = original  # type: ignore[method-assign]


def scratch_dir() -> Path:
    """This worker's scratch cache folder (the driver sets HARNESS_CACHE_DIR for its tasks)."""
    from harness.cache import cache_dir

    folder = cache_dir().absolute()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _models_dir() -> Path:
    from harness.systems.training import models_dir

    return models_dir().absolute()


def _roots() -> dict[str, Path]:
    """Where shipped folders live, by name: the same names resolve to this node's own folders."""
    return {"models": _models_dir(), "cache": scratch_dir()}


def _manifest_entry(folder: Path, roots: dict[str, Path]) -> dict[str, Any] | None:
    for name, root in roots.items():
        if folder.is_relative_to(root):
            files = sorted(
                (str(path.relative_to(folder)), path.stat().st_size)
                for path in folder.rglob("*")
                if path.is_file()
            )
            return {"root": name, "path": str(folder.relative_to(root)), "files": files}
    return None  # a temporary folder (no cache): nothing another node could reuse


def _pack(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buffer.getvalue()


def _present(entry: dict[str, Any], roots: dict[str, Path]) -> bool:
    folder = roots[entry["root"]] / entry["path"]
    return all(
        (folder / name).is_file() and (folder / name).stat().st_size == size for name, size in entry["files"]
    )


def _unpack(entry: dict[str, Any], data: bytes, roots: dict[str, Path]) -> None:
    """Put a shipped folder in place on this node: extracted beside it, then moved in file by file, the
    largest first, so a reader that checks for the small log file written last sees a complete folder."""
    folder = roots[entry["root"]] / entry["path"]
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f"{folder.name}.unpack.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _present(entry, roots):
            return
        staging = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", dir=folder.parent))
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
                tar.extractall(staging, filter="data")
            sizes = dict(entry["files"])
            for name in sorted(sizes, key=lambda name: -sizes[name]):
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / name, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def prepare_cell(suite: Any, spec: Any) -> tuple[dict[str, Any], Bundle]:
    """Build and prepare the system once (index, train) in this worker's scratch cache.

    Returns (info, bundle). info: the training log, the seconds prepare took, the manifest of the
    folders it used, or the error that stopped it. bundle: those folders (tar bytes) and the cache
    entries prepare read or wrote; the shard tasks receive it through the object store.
    """
    from harness.privacy import scrub
    from harness.system import build_system

    cache = RecordingCache(scratch_dir())
    try:
        system = build_system(spec, cache)
        start = time.perf_counter()
        with _recording_artifacts() as folders:
            system.prepare(suite)
        seconds = round(time.perf_counter() - start, 3)
    except Exception as err:  # the driver leaves the cell to the local loop, which records the reason
        reason = scrub(f"prepare failed: {type(err).__name__}: {err}")[:500]
        return {"error": reason}, {}
    finally:
        cache.close()
    roots = _roots()
    manifest, blobs = [], []
    for folder in dict.fromkeys(folders):
        entry = _manifest_entry(folder, roots)
        if entry is not None and entry["files"]:
            manifest.append(entry)
            blobs.append(_pack(folder))
    info = {
        "error": None,
        "training": dict(getattr(system, "training_log", None) or {}),
        "prepare_s": seconds,
        "manifest": manifest,
        "entries": sorted(cache.touched),
    }
    return info, {"folders": blobs, "entries": cache.touched}


def _crash_once(marker: str | None) -> None:
    """Test hook: end this worker process abruptly the first time a task sees an armed marker file."""
    if marker is None:
        return
    path = Path(marker)
    if path.is_file() and path.read_text(encoding="utf-8") == "armed":
        path.write_text("fired", encoding="utf-8")
        os._exit(1)


def answer_shard(
    suite: Any,
    spec: Any,
    case_ids: list[str],
    info: dict[str, Any],
    bundle_holder: list[Any],
    batch_size: int,
    workers: int,
    crash_marker: str | None = None,
) -> list[dict[str, Any]]:
    """Answer and score some of a cell's test cases, in the local runner's batches.

    `bundle_holder` is [ObjectRef of the prepare task's bundle], nested so Ray does not fetch it unless
    this node lacks a folder or cache entry. Returns, per case in order: {"answer": Answer as JSON,
    "scores": {metric name: Score as JSON}} (scores only for answers without an error, and only the
    metrics that need no judge: judged metrics run on the driver).
    """
    from harness.metrics import build_metrics
    from harness.metrics.lexical import prefetch_rouge
    from harness.privacy import scrub
    from harness.runner import _answer_batch, score_answer
    from harness.system import Answer, build_system

    _crash_once(crash_marker)
    if info["error"] is not None:  # prepare failed: nothing to answer with; the driver's loop tries again
        return []
    cache = Cache(scratch_dir())
    try:
        roots = _roots()
        missing = [entry for entry in info["manifest"] if not _present(entry, roots)]
        absent = [key for key in info["entries"] if cache.get(key) is None]
        if missing or absent:
            bundle = bundle_holder[0]
            if not isinstance(bundle, dict):  # an ObjectRef (a dict: handed over in-process, by a test)
                import ray

                bundle = ray.get(bundle)
            for entry, data in zip(info["manifest"], bundle["folders"], strict=True):
                if entry in missing:
                    _unpack(entry, data, roots)
            for key in absent:
                cache.put(key, bundle["entries"][key])
        by_id = {case.id: case for case in suite.test}
        cases = [by_id[case_id] for case_id in case_ids]
        try:
            system = build_system(spec, cache)
            system.prepare(suite)
        except Exception as err:  # prepared once already: the cases fail here, the driver retries them
            reason = scrub(f"prepare failed: {type(err).__name__}: {err}")[:500]
            return [
                {"answer": Answer(case_id=case.id, error=reason).model_dump(mode="json")} for case in cases
            ]
        batches = [cases[i : i + batch_size] for i in range(0, len(cases), batch_size)]
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            answers = [
                answer for done in pool.map(lambda b: _answer_batch(system, b), batches) for answer in done
            ]
        metrics = build_metrics(suite, cache, use_judge=False)
        prefetch_rouge(
            [
                (a.text, c.references)
                for c, a in zip(cases, answers, strict=True)
                if a.error is None and c.references
            ]
        )
        results = []
        for case, answer in zip(cases, answers, strict=True):
            item: dict[str, Any] = {"answer": answer.model_dump(mode="json")}
            if answer.error is None:
                item["scores"] = {
                    m.name: score_answer(m, case, answer).model_dump(mode="json") for m in metrics
                }
            results.append(item)
        return results
    finally:
        cache.close()
