"""benchmarks/scale.py's pieces: the sized generator (suites/generator's build_sized) and the model-call
probe that splits a run's CPU between model calls and the harness."""

import importlib.util
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generator():
    sys.path.insert(0, str(ROOT / "suites"))
    try:
        import generator

        yield generator
    finally:
        sys.path.remove(str(ROOT / "suites"))


@pytest.fixture(scope="module")
def scale():
    spec = importlib.util.spec_from_file_location("scale_benchmark", ROOT / "benchmarks" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sized_suite_has_exactly_the_asked_sizes_and_stays_valid(generator):
    data = generator.build_sized("knowledge-refresh", 13, 500, 60)
    assert len(data["corpus"]) == 500
    assert len(data["test"]) == 60
    ids = {p["id"] for p in data["corpus"]}
    assert all(set(r["gold_ids"]) <= ids for r in data["train"] + data["test"])
    assert [p["id"] for p in data["extra"]["corpus_old.jsonl"]] == [p["id"] for p in data["corpus"]]
    # The tags say seen/unseen against the train split that was kept, and the hold-out share holds.
    train_refs = {generator.common.norm_reference(r["reference"]) for r in data["train"]}
    for row in data["test"]:
        seen = generator.common.norm_reference(row["reference"]) in train_refs
        assert ("seen" in row["tags"]) == seen and ("unseen" in row["tags"]) == (not seen)
    assert sum("unseen" in r["tags"] for r in data["test"]) * 100 >= generator.common.UNSEEN_PERCENT * 60
    # Deterministic, and the same as the shipped suite where the shipped size is asked for.
    assert generator.build_sized("knowledge-refresh", 13, 500, 60) == data
    shipped = generator.build("knowledge-refresh", 13, 1)
    assert data["corpus"][:379] == shipped["corpus"]


def test_sized_refuses_empty_sizes(generator):
    with pytest.raises(ValueError):
        generator.build_sized("knowledge-refresh", 13, 0, 10)


def test_probe_counts_nested_calls_once_and_overlapping_calls_as_one_interval(scale):
    probe = scale.Probe()

    def busy(seconds: float) -> None:  # CPU seconds of this thread, however loaded the machine is
        end = time.thread_time() + seconds
        while time.thread_time() < end:
            pass

    inner = probe.wrap("compute", "inner", busy)
    outer = probe.wrap("compute", "outer", lambda: (inner(0.05), inner(0.05)))
    outer()
    assert probe.calls == {"outer": 1}
    assert probe.cpu["compute"] >= 0.1
    assert probe.wall["compute"] >= 0.1
    # Two threads inside at once: one interval, not two.
    probe = scale.Probe()
    sleeper = probe.wrap("compute", "sleep", time.sleep)
    threads = [threading.Thread(target=sleeper, args=(0.2,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert probe.calls == {"sleep": 2}
    assert 0.19 <= probe.wall["compute"] < 0.39  # the sum would be 0.4
    assert probe.active == {"compute": 0, "load": 0}
