"""The ray executor: a two-node local Ray cluster (loopback only) gives the local executor's records.

records.jsonl is compared line by line, byte for byte, after blanking only the measured answer time: the
record's `latency_s` and the `latency_s` metric's value, a stopwatch reading that differs between any two
runs. One exception, not Ray's: the MiniLM-graded metrics (minilm_faithfulness, minilm_answer_relevancy)
are compared to 1e-6, not bit for bit. harness.models.minilm keeps one vector per distinct text per
process, computed in whatever batch first asked for it, and a text's float32 vector differs in its 7th
digit with the texts padded beside it; so these values already differ at that digit between two local
runs in processes with different histories (smoke × finetuned-minilm alone, or after rag-bm25). Every
other field, the answers and contexts included, must be identical.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cache import Cache
from harness.executors import on_cluster, prefill, resources, shards
from harness.runner import run, system_key
from harness.suite import load_suite
from harness.system import load_system_spec
from tests.conftest import ROOT, SMOKE

# Ray names a node by the address it would reach the internet from unless told otherwise (read at import).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
ray = pytest.importorskip("ray")

# One that retrieves and reads (the general reader), one that trains (a classifier head on the smoke train
# split: seconds). hybrid-minilm would train a reader and an encoder: about a minute more on 2 cores.
SYSTEMS = ("rag-bm25", "finetuned-minilm")


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    """Two nodes of one CPU each, on 127.0.0.1, started once for the module (start-up takes ~15 s)."""
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 1, "object_store_memory": 80 * 2**20, "node_ip_address": "127.0.0.1"}
    started = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    started.add_node(**node)
    ray.init(
        address=started.address, _node_ip_address="127.0.0.1", log_to_driver=False, logging_level="ERROR"
    )
    try:
        yield started
    finally:
        ray.shutdown()
        started.shutdown()


MINILM_GRADED = ("minilm_faithfulness", "minilm_answer_relevancy")


def _close(ours: object, theirs: object) -> bool:
    """Equal, except that two floats may differ by 1e-6."""
    if isinstance(ours, float) and isinstance(theirs, float):
        return abs(ours - theirs) <= 1e-6
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(_close(ours[key], theirs[key]) for key in ours)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(_close(a, b) for a, b in zip(ours, theirs, strict=True))
    return ours == theirs


def _comparable(records: Path) -> list[tuple[str, object]]:
    """Per line: the line's JSON with the measured time blanked and the MiniLM-graded scores taken out
    (as bytes), and those scores (compared to 1e-6: see the module docstring)."""
    lines = []
    for line in records.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        record["latency_s"] = None
        if "latency_s" in record["scores"]:
            record["scores"]["latency_s"]["value"] = None
        graded = {name: record["scores"].pop(name) for name in MINILM_GRADED if name in record["scores"]}
        lines.append((json.dumps(record, ensure_ascii=False), graded))
    return lines


def _assert_same(remote: dict[str, Path], local: dict[str, Path]) -> None:
    for system in SYSTEMS:
        ours, theirs = _comparable(remote[system]), _comparable(local[system])
        assert len(ours) == len(theirs) == len(load_suite(SMOKE).test), system
        for (line, graded), (expected_line, expected_graded) in zip(ours, theirs, strict=True):
            assert line == expected_line, system
            assert _close(graded, expected_graded), (system, graded, expected_graded)


def _bench(tmp_path: Path, name: str, executor: str, crash_marker: Path | None = None) -> dict[str, Path]:
    """Every SYSTEMS run on smoke with a fresh cache; returns each system's records.jsonl."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HARNESS_CACHE_DIR", str(tmp_path / name / "cache"))
        env.setenv("HARNESS_MODELS_DIR", str(ROOT / ".cache" / "harness" / "models"))
        return _bench_here(tmp_path, name, executor, crash_marker)


def _bench_here(tmp_path: Path, name: str, executor: str, crash_marker: Path | None) -> dict[str, Path]:
    suite = load_suite(SMOKE)
    specs = [load_system_spec(ROOT / "systems" / f"{system}.yaml") for system in SYSTEMS]
    cache = Cache(tmp_path / name / "cache")
    if executor == "ray":
        prefill(
            [suite],
            specs,
            cache,
            use_judge={suite.name: False},
            limit=None,
            workers=2,
            crash_marker=crash_marker,
        )
        assert all(
            cache.get(Cache.key("answer", system_key(spec, suite), case.hash))
            for spec in specs
            for case in suite.test
        ), "every answer must come from the cluster"
    folders = {}
    for spec in specs:
        done = run(suite, spec, cache, tmp_path / name / "reports", use_judge=False)
        report, folder = done.report, done.folder
        if executor == "ray":
            assert report.cache["answers_computed"] == 0 and report.cache["scores_computed"] == 0
        folders[spec.name] = folder / "records.jsonl"
    cache.close()
    return folders


@pytest.fixture(scope="module")
def local_records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _bench(tmp_path_factory.mktemp("local"), "local", "local")


def test_ray_records_match_the_local_executor(
    cluster: object, local_records: dict[str, Path], tmp_path: Path
) -> None:
    _assert_same(_bench(tmp_path, "ray", "ray"), local_records)


def test_a_worker_killed_mid_task_is_retried_and_the_result_still_matches(
    cluster: object, local_records: dict[str, Path], tmp_path: Path
) -> None:
    marker = tmp_path / "crash-once"
    marker.write_text("armed", encoding="utf-8")
    remote = _bench(tmp_path, "ray", "ray", crash_marker=marker)
    assert marker.read_text(encoding="utf-8") == "fired", "a worker must have died once"
    _assert_same(remote, local_records)


def test_what_runs_where() -> None:
    rag = load_system_spec(ROOT / "systems" / "rag-minilm.yaml")
    qwen = load_system_spec(ROOT / "systems" / "rag-qwen.yaml")
    gemini = load_system_spec(ROOT / "systems" / "rag-gemini.yaml")
    assert on_cluster(rag) and on_cluster(qwen) and not on_cluster(gemini)
    assert resources(qwen, {"CPU": 4, "GPU": 1}) == {"num_cpus": 1, "num_gpus": 1}
    assert resources(qwen, {"CPU": 4}) == {"num_cpus": 1}
    assert resources(rag, {"CPU": 4, "GPU": 1}) == {"num_cpus": 1}
    cases = load_suite(SMOKE).test
    split = shards(cases, batch_size=8, size=12)
    assert [len(shard) for shard in split] == [8, 8, 4], "a shard holds whole answer batches"


SCRIPT = """
import sys
from pathlib import Path
from harness.cache import Cache
from harness.executors import prefill
from harness.suite import load_suite
from harness.system import load_system_spec
suite = load_suite(Path({smoke!r}))
spec = load_system_spec(Path({system!r}))
prefill([suite], [spec], Cache(Path({cache!r})), use_judge={{}}, limit=2, workers=1)
print("ray imported" if "ray" in sys.modules else "ray not imported")
"""


def _prefill_in_a_new_process(system: str, tmp_path: Path, **env: str) -> "subprocess.CompletedProcess[str]":
    code = SCRIPT.format(
        smoke=str(SMOKE), system=str(ROOT / "systems" / f"{system}.yaml"), cache=str(tmp_path)
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )


def test_nothing_for_the_cluster_imports_no_ray(tmp_path: Path) -> None:
    """A bench whose cells all stay on the driver (here a hosted chat system) never imports Ray."""
    done = _prefill_in_a_new_process("rag-gemini", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ray not imported"


def test_a_ray_address_nothing_answers_at_is_one_input_error(tmp_path: Path) -> None:
    done = _prefill_in_a_new_process("rag-bm25", tmp_path, RAY_ADDRESS="127.0.0.1:1")
    assert done.returncode != 0
    assert "InputError: RAY_ADDRESS: no Ray cluster answers at '127.0.0.1:1'" in done.stderr


def test_a_node_without_the_trained_weights_unpacks_them_and_trains_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The travel path without Ray: prepare on one "node" (a scratch folder), answer on another whose
    scratch is empty; the shard unpacks the shipped head and answers as the preparing node would."""
    from harness.executors import tasks
    from harness.systems import training

    suite = load_suite(SMOKE)
    spec = load_system_spec(ROOT / "systems" / "finetuned-minilm.yaml")
    ids = [case.id for case in suite.test[:8]]
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "node-a"))
    info, bundle = tasks.prepare_cell(suite, spec)
    assert info["error"] is None and info["training"]["train_loss"]
    assert [entry["root"] for entry in info["manifest"]] == ["cache"], "the head, in node A's scratch"
    here = tasks.answer_shard(suite, spec, ids, info, [bundle], batch_size=8, workers=1)
    fits: list[object] = []
    monkeypatch.setattr(training, "fit", lambda *args, **kwargs: fits.append(args) or {})
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "node-b"))
    there = tasks.answer_shard(suite, spec, ids, info, [bundle], batch_size=8, workers=1)
    assert fits == [], "node B must not train again"
    shipped = tmp_path / "node-b" / info["manifest"][0]["path"]
    assert sorted(path.name for path in shipped.iterdir()) == ["head.pt", "labels.json", "training.json"]
    assert [item["answer"]["text"] for item in there] == [item["answer"]["text"] for item in here]
    assert [item["scores"]["token_f1"] for item in there] == [item["scores"]["token_f1"] for item in here]


def test_a_cell_that_cannot_prepare_on_a_worker_is_left_whole_to_the_local_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prepare fails on the worker: the reason comes back, the shards answer nothing (so the driver stores
    nothing) and the run loop prepares again in the driver, which records every case with the reason."""
    from harness.executors import tasks

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "node"))
    suite = load_suite(SMOKE).model_copy(update={"train": []})
    spec = load_system_spec(ROOT / "systems" / "finetuned-minilm.yaml")
    info, bundle = tasks.prepare_cell(suite, spec)
    assert info["error"].startswith("prepare failed: InputError") and "no train split" in info["error"]
    assert bundle == {}
    assert tasks.answer_shard(suite, spec, [suite.test[0].id], info, [bundle], batch_size=8, workers=1) == []
