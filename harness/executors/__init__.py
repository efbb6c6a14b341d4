"""Executors: where a bench's answers and scores are computed. `local` (the default) is the runner's own
loop; `ray` (--executor ray, HARNESS_EXECUTOR=ray) first computes the missing ones as Ray tasks
(`prefill`), then the same loop finds them all in the cache and writes the run folders, MLflow and the
verdict as usual (docs/scaling.md).

Nothing here imports Ray until a cell actually has work for the cluster: the offline default never does.
"""

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.cache import Cache
from harness.errors import InputError
from harness.progress import PROGRESS
from harness.suite import Case, Suite
from harness.system import DEFAULT_ENCODER, SystemSpec

SHARD_CASES = 256  # test cases per Ray task (rounded down to whole answer batches)
MAX_RETRIES = 3  # a task whose worker died (killed, out of memory, node lost) runs again up to this often
LOCAL_OBJECT_STORE = 512 * 2**20  # the local cluster's object store; a larger object spills to disk
# Families whose systems run entirely on the worker's CPU or GPU. Hosted chat models (gemini:, openai:),
# the user's python: code and http: services stay on the driver: one process, one rate limiter, and the
# user's code and network on the machine that was set up for them.
CLUSTER_FAMILIES = ("extractive", "minilm", "hf")
# What the worker processes see: their scratch cache, the suite-independent models folder, and the
# driver's telemetry and hub switches (never a key: secrets stay on the driver).
FORWARDED = (
    "RAGAS_DO_NOT_TRACK",
    "MLFLOW_DISABLE_TELEMETRY",
    "HF_HUB_DISABLE_TELEMETRY",
    "DO_NOT_TRACK",
    "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "TOKENIZERS_PARALLELISM",
)


def on_cluster(spec: SystemSpec) -> bool:
    """Whether the ray executor runs this system's cells as tasks (else the driver's loop runs them)."""
    family = spec.generator.model.split(":", 1)[0]
    offline_encoder = spec.retriever is None or spec.retriever.embeddings == DEFAULT_ENCODER
    return family in CLUSTER_FAMILIES and offline_encoder


def resources(spec: SystemSpec, cluster: dict[str, float]) -> dict[str, float]:
    """What one task of this system asks the scheduler for: a GPU for an hf: model when the cluster has
    one, else a CPU."""
    if spec.generator.model.startswith("hf:") and cluster.get("GPU", 0) >= 1:
        return {"num_cpus": 1, "num_gpus": 1}
    return {"num_cpus": 1}


def shards(cases: Sequence[Case], batch_size: int, size: int = SHARD_CASES) -> list[list[Case]]:
    """The cases in runs of whole answer batches, so each batch holds the cases it holds locally."""
    per = max(batch_size, size // batch_size * batch_size)
    return [list(cases[i : i + per]) for i in range(0, len(cases), per)]


def _connect() -> tuple[Any, bool]:
    """Ray, connected: to RAY_ADDRESS when set, to a cluster this process already joined, or to a new
    local one (loopback only, no dashboard, usage stats off). Also says whether this call started it."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    address = os.environ.get("RAY_ADDRESS")
    if not address:
        # Ray otherwise names this node by the address it would use to reach the internet.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise InputError(
            "--executor ray", "Ray is not installed: pip install 'harness[ray]' (or use --executor local)"
        ) from None
    if ray.is_initialized():
        return ray, False
    if address:
        _check_reachable(address)
    try:
        if address:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
        else:
            ray.init(  # "local": a new instance, even if `ray start` left one running on this machine
                address="local",
                _node_ip_address="127.0.0.1",
                include_dashboard=False,
                object_store_memory=LOCAL_OBJECT_STORE,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
    except (ConnectionError, TimeoutError) as err:
        raise InputError("RAY_ADDRESS", f"cannot join the Ray cluster at '{address}': {err}") from None
    return ray, True


def _check_reachable(address: str) -> None:
    """A host:port RAY_ADDRESS that nothing answers at is one line now (Ray would retry for minutes);
    other forms (auto, ray://) are left to Ray."""
    import socket

    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=10):
            pass
    except OSError as err:
        detail = err.strerror or type(err).__name__
        raise InputError("RAY_ADDRESS", f"no Ray cluster answers at '{address}' ({detail})") from None


def _task_env(cache: Cache) -> dict[str, str]:
    from harness.systems.training import models_dir

    env = {name: os.environ[name] for name in FORWARDED if name in os.environ}
    env["HARNESS_CACHE_DIR"] = str((cache.directory / "ray-worker").absolute())
    env["HARNESS_MODELS_DIR"] = str(models_dir().absolute())
    return env


def prefill(
    suites: Sequence[Suite],
    specs: Sequence[SystemSpec],
    cache: Cache,
    *,
    use_judge: dict[str, bool],
    limit: int | None,
    workers: int,
    batch_size: int = 8,
    crash_marker: Path | None = None,
) -> None:
    """Compute every (suite, system) cell's missing answers and scores as Ray tasks and put them in the
    driver's cache; the unchanged local run loop then finds everything cached and writes the run folders,
    MLflow and the verdict as usual.

    Per cell with missing answers: one prepare task (index, train: once), then one task per shard of
    SHARD_CASES cases, which answers them and computes every metric that needs no judge. Judged metrics
    (`use_judge`, by suite name, is left to the run loop), failed answers (retried by the loop, which
    records their reason) and cells of systems that do not run on the cluster (`on_cluster`) are left to
    the driver. `crash_marker`: a test hook, a file reading "armed" ends the first shard's worker once.
    """
    from harness.runner import limited, system_key

    del use_judge  # judged metrics always run on the driver, whatever the suite's setting
    if not cache.enabled:  # --no-cache: nothing computed on the cluster could reach the run loop
        PROGRESS.say("ray: --no-cache keeps nothing the workers return: every case runs in this process")
        return
    cells = []
    for full in suites:
        suite = limited(full, limit)
        for spec in specs:
            if not on_cluster(spec):
                continue
            base = system_key(spec, suite)
            missing = [case for case in suite.test if cache.get(Cache.key("answer", base, case.hash)) is None]
            if missing:
                cells.append((suite, spec, base, missing))
    if not cells:
        return
    ray, started = _connect()
    try:
        _run_cells(ray, cells, cache, workers, batch_size, crash_marker)
    finally:
        if started:
            ray.shutdown()


def _run_cells(
    ray: Any,
    cells: list[tuple[Suite, SystemSpec, str, list[Case]]],
    cache: Cache,
    workers: int,
    batch_size: int,
    crash_marker: Path | None,
) -> None:
    from harness.executors import tasks
    from harness.metrics import build_metrics

    start = time.perf_counter()
    cluster = ray.cluster_resources()
    env = {"env_vars": _task_env(cache)}
    prepare_task = ray.remote(tasks.prepare_cell)
    shard_task = ray.remote(tasks.answer_shard)
    marker = str(crash_marker) if crash_marker is not None else None
    pending: dict[Any, tuple[int, list[Case]]] = {}
    infos = []
    for number, (suite, spec, _, missing) in enumerate(cells):
        options = {**resources(spec, cluster), "max_retries": MAX_RETRIES, "runtime_env": env}
        suite_ref, spec_ref = ray.put(suite), ray.put(spec)
        info_ref, bundle_ref = prepare_task.options(num_returns=2, **options).remote(suite_ref, spec_ref)
        infos.append(info_ref)
        for shard in shards(missing, batch_size):
            ids = [case.id for case in shard]
            ref = shard_task.options(**options).remote(
                suite_ref, spec_ref, ids, info_ref, [bundle_ref], batch_size, workers, marker
            )
            pending[ref] = (number, shard)
        tasks_n = len(shards(missing, batch_size))
        PROGRESS.say(f"ray: {suite.name} × {spec.name}: {len(missing)} cases in {tasks_n} task(s)")
    metrics = [build_metrics(suite, cache, use_judge=False) for suite, *_ in cells]
    stored = [0] * len(cells)
    waiting = list(pending)
    while waiting:
        done, waiting = ray.wait(waiting, num_returns=1)
        number, shard = pending.pop(done[0])
        suite, spec, base, _ = cells[number]
        try:
            results = ray.get(done[0])
        except ray.exceptions.RayError as err:  # retries spent, or the task itself broke: not the bench
            what = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            PROGRESS.say(
                f"ray: {suite.name} × {spec.name}: a task of {len(shard)} cases failed ({what[:300]})"
            )
            continue
        stored[number] += _store(results, shard, base, metrics[number], cache)
    for number, (suite, spec, base, missing) in enumerate(cells):
        try:
            info = ray.get(infos[number])
        except ray.exceptions.RayError as err:
            info = {"error": f"the prepare task failed: {type(err).__name__}"}
        if info["error"] is None:
            cache.put(Cache.key("training-log", base), info["training"])
            cache.put(Cache.key("stage-time", base, "prepare"), info["prepare_s"])
        else:
            PROGRESS.say(f"ray: {suite.name} × {spec.name}: {info['error']} (the local loop tries again)")
        if stored[number] < len(missing) and info["error"] is None:
            left = len(missing) - stored[number]
            PROGRESS.say(
                f"ray: {suite.name} × {spec.name}: {left} case(s) not answered there, left to the loop"
            )
    PROGRESS.say(f"ray: {sum(stored)} answers computed on the cluster in {time.perf_counter() - start:.1f} s")


def _store(
    results: list[dict[str, Any]], shard: list[Case], base: str, metrics: list[Any], cache: Cache
) -> int:
    """Put a shard's answers and scores in the driver's cache under the local runner's keys; an answer
    with an error is not stored (as locally: the loop answers it again and records the reason)."""
    from harness.metrics import Score, answer_hash, score_key
    from harness.system import Answer

    if not results:  # the cell's prepare failed: the run loop prepares it again and records why
        return 0
    count = 0
    for case, item in zip(shard, results, strict=True):
        answer = Answer.model_validate(item["answer"])
        if answer.case_id != case.id:
            raise RuntimeError(f"a shard answered case '{answer.case_id}' in place of '{case.id}'")
        if answer.error is not None:
            continue
        cache.put(Cache.key("answer", base, case.hash), answer.model_dump(mode="json"))
        count += 1
        hashed = answer_hash(answer)
        for metric in metrics:
            found = item.get("scores", {}).get(metric.name)
            if found is None:
                continue
            score = Score.model_validate(found)
            if not score.transient:
                cache.put(score_key(metric, case, answer, hashed), score.model_dump(mode="json"))
    return count
