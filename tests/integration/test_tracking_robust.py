"""MLflow failures are one line with exit 2; concurrent, killed and unlogged benches leave a sound store."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from harness.cli import main
from harness.errors import InputError
from harness.report import load_run
from harness.tracking import log_bench
from harness.tracking_store import OWNER_TAG, is_stale
from tests.conftest import ROOT, SMOKE
from tests.mlflow_helpers import CHEAP_RAG, cheap_rag


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished smoke run of a cheap RAG system (no MLflow), and the cache that makes later benches warm."""
    root = tmp_path_factory.mktemp("finished")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARNESS_CACHE_DIR", str(root / "cache"))
        args = ["bench", "--suite", str(SMOKE), "--system", str(cheap_rag(root)), "--no-mlflow"]
        assert main([*args, "--reports-dir", str(root / "reports")]) == 0
    return root


def run_folder(finished: Path) -> Path:
    (folder,) = (finished / "reports" / "runs").iterdir()
    return folder


def copy_run(finished: Path, reports: Path, name: str) -> Path:
    """A copy of the finished run folder under another name, as a later run of the same pair would be."""
    target = reports / "runs" / name
    shutil.copytree(run_folder(finished), target)
    data = json.loads((target / "run.json").read_text(encoding="utf-8"))
    data["run_id"] = name
    (target / "run.json").write_text(json.dumps(data), encoding="utf-8")
    return target


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a server that hangs, or a firewall."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    return err.splitlines()[-1]


def test_a_tracking_server_that_does_not_answer_fails_in_seconds(
    finished: Path, silent_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = finished / "reports"
    for uri in (f"http://127.0.0.1:{silent_port}", f"http://127.0.0.1:{closed_port()}"):
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        started = time.monotonic()
        assert main(["baseline", "--reports-dir", str(reports), "--mlflow"]) == 2
        took = time.monotonic() - started
        line = one_line(capsys)
        assert took < 10, f"{uri}: {took:.1f} s"  # MLflow's own retries took about 4 minutes
        assert line.startswith(f"error: MLFLOW_TRACKING_URI={uri}: the MLflow server does not answer"), line
    # the bench itself checks the store before any work: the same one line, in seconds, and no run made
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(finished / "cache"))
    started = time.monotonic()
    system = str(finished / f"{CHEAP_RAG}.yaml")
    bench = ["bench", "--suite", str(SMOKE), "--system", system, "--reports-dir", str(finished / "r2")]
    assert main(bench) == 2
    assert time.monotonic() - started < 10
    assert "MLFLOW_TRACKING_URI" in one_line(capsys)
    runs = finished / "r2" / "runs"
    assert not runs.exists() or not list(runs.iterdir())


def test_a_password_in_the_tracking_uri_is_not_shown(
    silent_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], finished: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://alice:s3cret-pw@127.0.0.1:{silent_port}")
    assert main(["baseline", "--reports-dir", str(finished / "reports"), "--mlflow"]) == 2
    line = one_line(capsys)
    assert "s3cret-pw" not in line and f"alice:***@127.0.0.1:{silent_port}" in line


def test_a_store_that_is_not_sqlite_is_named(
    finished: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "mlflow.db"
    store.write_text("these are my notes, not a database\n", encoding="utf-8")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    assert main(["baseline", "--reports-dir", str(finished / "reports"), "--mlflow"]) == 2
    assert one_line(capsys) == f"error: {store}: is not an SQLite database (the MLflow store); " + (
        "move it away or set MLFLOW_TRACKING_URI"
    )
    run = load_run(run_folder(finished))
    with pytest.raises(InputError, match="not an SQLite database"):
        log_bench([run], "b1")
    assert store.read_text(encoding="utf-8").startswith("these are my notes"), "left as it was"


LOGGER = """
import sys
from harness.report import load_run
from harness.tracking import log_bench
folder = sys.argv[1]
print(log_bench([load_run(__import__("pathlib").Path(folder))], sys.argv[2]))
"""


def test_two_benches_log_to_a_fresh_sqlite_store_at_the_same_time(finished: Path, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    folder = str(run_folder(finished))
    loggers = [
        subprocess.Popen(
            [sys.executable, "-c", LOGGER, folder, f"bench-{n}"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    for logger in loggers:
        out, err = logger.communicate(timeout=300)
        assert logger.returncode == 0, err[-3000:]
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("smoke")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(run.data.tags["bench_id"] for run in runs) == ["bench-1", "bench-1", "bench-2", "bench-2"]
    assert {run.info.status for run in runs} == {"FINISHED"}
    for child in (run for run in runs if "system" in run.data.tags):
        traces = client.search_traces(locations=[experiment.experiment_id], run_id=child.info.run_id)
        assert len(traces) == 20


KILLED = """
import os, signal, sys
import mlflow
from harness.tracking_store import OWNER_TAG, owner
mlflow.set_tracking_uri(sys.argv[1])
experiment = mlflow.set_experiment("smoke")
mlflow.start_run(run_name="bench killed", tags={OWNER_TAG: owner(), "bench_id": "killed"})
print("started", flush=True)
if sys.argv[2] == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
sys.stdin.read()  # alive until the test closes stdin
"""


def test_a_run_left_running_by_a_killed_bench_is_closed_by_the_next(finished: Path, tmp_path: Path) -> None:
    uri = os.environ["MLFLOW_TRACKING_URI"]

    def start(mode: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", KILLED, uri, mode],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stdout.readline().strip() == "started"
        return process

    killed = start("kill")
    assert killed.wait(timeout=60) == -signal.SIGKILL
    alive = start("live")  # a bench still running elsewhere on this machine: its run is not ours to close
    try:
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name("smoke")
        assert experiment is not None
        before = client.search_runs([experiment.experiment_id])
        assert [run.info.status for run in before] == ["RUNNING", "RUNNING"]
        run = load_run(run_folder(finished))
        log_bench([run], "next")
        status = {
            run.data.tags[OWNER_TAG].rpartition(":")[2]: run.info.status
            for run in client.search_runs([experiment.experiment_id], "tags.bench_id = 'killed'")
        }
        assert status == {str(killed.pid): "KILLED", str(alive.pid): "RUNNING"}
    finally:
        alive.kill()
        alive.communicate(timeout=30)


def test_a_running_run_from_another_machine_is_stale_only_after_hours() -> None:
    now = time.time()
    other = {OWNER_TAG: "another-host:123"}
    assert not is_stale(other, int((now - 3600) * 1000), now)
    assert is_stale(other, int((now - 7 * 3600) * 1000), now)
    assert not is_stale({OWNER_TAG: f"{socket.gethostname()}:{os.getpid()}"}, 0, now), "this process"


def test_finished_run_folders_that_were_never_logged_are_logged_by_the_next_bench(
    finished: Path, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    current = copy_run(finished, reports, f"20990101T000002Z_smoke_{CHEAP_RAG}")
    # the run a killed bench finished but never logged, and one unreadable folder it left half-written
    missed = copy_run(finished, reports, f"20990101T000001Z_smoke_{CHEAP_RAG}")
    broken = reports / "runs" / f"20990101T000000Z_smoke_{CHEAP_RAG}"
    broken.mkdir()
    (broken / "run.json").write_text("{", encoding="utf-8")
    run = load_run(current)
    ids = log_bench([run], "b2", reports_dir=reports)
    recovered = f"smoke/{CHEAP_RAG} (recovered {missed.name})"
    assert set(ids) == {"smoke", f"smoke/{CHEAP_RAG}", recovered}
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    late = client.get_run(ids[recovered])
    assert late.data.tags["recovered"] == "true" and late.data.tags["run_folder"] == missed.name
    assert late.data.tags["mlflow.parentRunId"] == ids["smoke"]
    # logged once, and a folder older than the pair's newest logged run (a --no-mlflow bench long ago) is
    # history, not a run the last bench lost: the next bench finds nothing to recover
    copy_run(finished, reports, f"20980101T000000Z_smoke_{CHEAP_RAG}")
    again = log_bench([run], "b3", reports_dir=reports)
    assert set(again) == {"smoke", f"smoke/{CHEAP_RAG}"}


def test_per_case_traces_can_be_left_out(finished: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_MLFLOW_TRACES", "0")
    run = load_run(run_folder(finished))
    ids = log_bench([run], "no-traces")
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    child = client.get_run(ids[f"smoke/{CHEAP_RAG}"])
    assert child.data.metrics["hit_at_k"] > 0, "the summary is logged"
    assert client.search_traces(locations=[child.info.experiment_id], run_id=child.info.run_id) == []


def test_the_store_can_be_checked_before_a_bench_starts(
    silent_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.tracking import check_store

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{silent_port}")
    with pytest.raises(InputError, match="does not answer"):
        check_store()
    store = tmp_path / "fresh" / "mlflow.db"
    store.parent.mkdir()
    check_store(f"sqlite:///{store}")
    assert store.read_bytes().startswith(b"SQLite format 3\x00"), "created and migrated"
