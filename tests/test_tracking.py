"""MLflow logging against a real SQLite store, and a real `mlflow server` on 127.0.0.1 over HTTP."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from harness.cli import main
from harness.tracking import metric_name
from tests.conftest import RAG, SMOKE


def bench(tmp_path: Path) -> int:
    return main(["bench", "--suite", str(SMOKE), "--system", str(RAG), "--reports-dir", str(tmp_path / "r")])


def check_logged(client: MlflowClient) -> None:
    experiment = client.get_experiment_by_name("smoke")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], filter_string="tags.system = 'rag-minilm'")
    assert len(runs) == 1
    child = runs[0]
    tags = child.data.tags
    assert tags["kind"] == "rag" and tags["suite_version"] == "1"
    assert tags["judge"] == "offline:sentence-transformers/all-MiniLM-L6-v2"
    assert tags["mlflow.runName"].startswith("rag-minilm@")
    assert child.data.params["retriever.top_k"] == "5"
    assert child.data.params["generator.model"] == "extractive"
    metrics = child.data.metrics
    assert 0.0 < metrics["hit_at_k"] <= 1.0
    assert metrics["hit_at_k_ci_low"] <= metrics["hit_at_k"] <= metrics["hit_at_k_ci_high"]
    assert metrics["hit_at_k_n_scored"] + metrics["hit_at_k_n_unscored"] == 20
    # the parent run of this bench holds the child
    parent_id = tags["mlflow.parentRunId"]
    parent = client.get_run(parent_id)
    assert parent.data.tags["bench_id"] == tags["bench_id"]
    # the per-case table and the run folder are artifacts
    artifacts = {item.path for item in client.list_artifacts(child.info.run_id)}
    assert {"cases.json", "run"} <= artifacts
    table_path = client.download_artifacts(child.info.run_id, "cases.json")
    table = json.loads(Path(table_path).read_text())
    assert len(table["data"]) == 20
    assert {"question", "answer", "reference", "token_f1", "token_f1_reason"} <= set(table["columns"])
    folder = {item.path for item in client.list_artifacts(child.info.run_id, "run")}
    assert {"run/run.json", "run/records.jsonl", "run/summary.md"} <= folder


def test_bench_logs_to_a_sqlite_store(tmp_path: Path) -> None:
    assert bench(tmp_path) == 0
    check_logged(MlflowClient(os.environ["MLFLOW_TRACKING_URI"]))


def test_metric_names_are_sanitised_for_mlflow() -> None:
    assert metric_name("rouge_score(mode=fmeasure)") == "rouge_score_mode_fmeasure_"
    assert metric_name("hit_at_k") == "hit_at_k"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[str]:
    """A real MLflow tracking server on loopback, stopped when the test ends."""
    port = free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_URI", None)
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1",
            "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination", str(tmp_path / "server-artifacts"),
        ],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("mlflow server did not start in 90 s")
        yield url
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        log.close()


def test_bench_logs_to_a_real_mlflow_server_over_http(
    tmp_path: Path, mlflow_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    assert bench(tmp_path) == 0
    check_logged(MlflowClient(mlflow_server))
    assert not (tmp_path / "mlflow.db").exists(), "nothing was written to the local store"
