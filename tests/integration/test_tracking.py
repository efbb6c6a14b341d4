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
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from harness.cli import main
from harness.report import load_run
from harness.suite import load_suite
from harness.tracking import BY_TAG, log_bench, metric_name
from tests.conftest import SMOKE
from tests.mlflow_helpers import CHEAP_RAG, cheap_rag, free_port


def bench(tmp_path: Path) -> int:
    system = cheap_rag(tmp_path)
    return main(
        ["bench", "--suite", str(SMOKE), "--system", str(system), "--reports-dir", str(tmp_path / "r")]
    )


def check_logged(client: MlflowClient) -> None:
    experiment = client.get_experiment_by_name("smoke")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], filter_string=f"tags.system = '{CHEAP_RAG}'")
    assert len(runs) == 1
    child = runs[0]
    tags = child.data.tags
    assert tags["kind"] == "rag" and tags["suite_version"] == str(load_suite(SMOKE).version)
    assert tags["judge"] == "offline:sentence-transformers/all-MiniLM-L6-v2"
    assert tags["mlflow.runName"].startswith(f"{CHEAP_RAG}@")
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
    # the bench's verdict for the suite is on the parent, its text kept line by line as Markdown
    verdict = json.loads(Path(client.download_artifacts(parent_id, "verdict.json")).read_text())
    assert verdict["suite"] == "smoke" and verdict["systems"] == [CHEAP_RAG]
    first = Path(client.download_artifacts(parent_id, "verdict.md")).read_text().splitlines()[0]
    assert first.startswith("== Verdict: smoke") and first.endswith("  ")
    # the per-case table and the run folder are artifacts
    artifacts = {item.path for item in client.list_artifacts(child.info.run_id)}
    assert {"cases.json", "run"} <= artifacts
    table_path = client.download_artifacts(child.info.run_id, "cases.json")
    table = json.loads(Path(table_path).read_text())
    assert len(table["data"]) == 20
    assert {"question", "answer", "reference", "token_f1", "token_f1_reason"} <= set(table["columns"])
    folder = {item.path for item in client.list_artifacts(child.info.run_id, "run")}
    assert {"run/run.json", "run/records.jsonl", "run/summary.md"} <= folder
    check_summary_only(client, child)
    check_traces(client, child)


def check_summary_only(client: MlflowClient, child: Run) -> None:
    """Metrics are the summary a person compares; the per-tag numbers are a table, not ~120 metrics."""
    metrics = child.data.metrics
    assert not [name for name in metrics if name.startswith("tag_")]
    run_json = json.loads(Path(client.download_artifacts(child.info.run_id, "run/run.json")).read_text())
    summary = {metric_name(name) for name in run_json["summary"]}
    suffixes = ("", "_ci_low", "_ci_high", "_n_scored", "_n_unscored")
    allowed = {"n_cases", "n_errors"} | {f"{name}{suffix}" for name in summary for suffix in suffixes}
    usage = ("usage_", "sent_")  # tokens and cost
    assert [name for name in metrics if name not in allowed and not name.startswith(usage)] == []
    table = json.loads(Path(client.download_artifacts(child.info.run_id, BY_TAG)).read_text())
    rows = [dict(zip(table["columns"], row, strict=True)) for row in table["data"]]
    # one row per (tag, metric) of run.json's by_tag, with the same mean
    assert len(rows) == sum(len(by_metric) for by_metric in run_json["by_tag"].values()) > 0
    tag = sorted(run_json["by_tag"])[0]
    row = next(r for r in rows if r["metric"] == "hit_at_k" and r["tag"] == tag)
    assert row["mean"] == pytest.approx(run_json["by_tag"][tag]["hit_at_k"]["mean"])
    assert row["n_cases"] == run_json["by_tag"][tag]["hit_at_k"]["n_cases"]


def check_traces(client: MlflowClient, child: Run) -> None:
    """One trace per case, linked to the child run, the scores attached as assessments."""
    traces = client.search_traces(
        locations=[child.info.experiment_id], run_id=child.info.run_id, max_results=100
    )
    assert len(traces) == 20
    table = json.loads(Path(client.download_artifacts(child.info.run_id, "cases.json")).read_text())
    row = dict(zip(table["columns"], table["data"][0], strict=True))
    trace = next(t for t in traces if t.info.tags.get("case_id") == row["case_id"])
    assert trace.info.trace_metadata["mlflow.sourceRun"] == child.info.run_id
    assert json.loads(trace.info.request_preview)["question"] == row["question"]
    root = next(span for span in trace.data.spans if span.parent_id is None)
    assert root.outputs["answer"] == row["answer"]
    retrieved = next(span for span in trace.data.spans if span.span_type == "RETRIEVER")
    assert len(retrieved.outputs) == 5 and retrieved.outputs[0]["page_content"]
    feedback = {a.name: a for a in trace.info.assessments if a.feedback is not None}
    assert feedback["token_f1"].value == pytest.approx(row["token_f1"])
    assert (feedback["token_f1"].rationale or "") == row["token_f1_reason"]
    assert feedback["token_f1"].source.source_type == "CODE"
    assert feedback["minilm_faithfulness"].source.source_type == "LLM_JUDGE"
    (expected,) = [a for a in trace.info.assessments if a.expectation is not None]
    assert expected.name == "expected_response" and expected.value == row["reference"]


def test_bench_logs_to_a_sqlite_store(tmp_path: Path) -> None:
    assert bench(tmp_path) == 0
    check_logged(MlflowClient(os.environ["MLFLOW_TRACKING_URI"]))


def test_metric_names_are_sanitised_for_mlflow() -> None:
    assert metric_name("rouge_score(mode=fmeasure)") == "rouge_score_mode_fmeasure_"
    assert metric_name("hit_at_k") == "hit_at_k"


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


def test_verdicts_are_artifacts_of_the_suite_parent_run(tmp_path: Path) -> None:
    assert bench(tmp_path) == 0
    (folder,) = (tmp_path / "r" / "runs").iterdir()
    verdict = {"suite": "smoke", "comparisons": [{"metric": "token_f1", "verdict": "A better", "p": 0.01}]}
    ids = log_bench([load_run(folder)], "b-verdict", verdicts={"smoke": ("# smoke\nA wins\n", verdict)})
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    parent = ids["smoke"]
    assert client.get_run(ids[f"smoke/{CHEAP_RAG}"]).data.tags["mlflow.parentRunId"] == parent
    assert {item.path for item in client.list_artifacts(parent)} == {"verdict.md", "verdict.json"}
    assert Path(client.download_artifacts(parent, "verdict.md")).read_text() == "# smoke\nA wins\n"
    assert json.loads(Path(client.download_artifacts(parent, "verdict.json")).read_text()) == verdict
    # the child runs carry no verdict: it belongs to the suite, not to one system
    assert not {"verdict.md", "verdict.json"} & {
        i.path for i in client.list_artifacts(ids[f"smoke/{CHEAP_RAG}"])
    }
