"""The team set-up for real: PostgreSQL on 127.0.0.1, `mlflow server` on it, a bench logged through it."""

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from harness.cli import main
from tests.conftest import SMOKE
from tests.mlflow_helpers import CHEAP_RAG, cheap_rag, free_port

# Debian's postgresql package; `make test` installs it where it is missing, tests never do
BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"nothing listened on 127.0.0.1:{port} after {seconds:.0f} s: {log.read_text()[-2000:]}")


@pytest.fixture
def postgres() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on 127.0.0.1 with a database `mlflow`; its URI, stopped after."""
    if not BINARIES:
        pytest.skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin); `make test` installs it")
    bin_dir = Path(BINARIES[-1])
    # initdb refuses to run as root: as root the cluster belongs to the postgres user
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to own the cluster")
        as_user = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="harness-pg-"))
    if as_user:
        os.chown(folder, account.pw_uid, account.pw_gid)
    data, log, port = folder / "data", folder / "server.log", free_port()

    def pg(*args: str) -> None:
        done = subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{args[0]}: {done.stdout[-1500:]}{done.stderr[-1500:]}"

    try:
        pg(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start")
        try:
            pg(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "mlflow")
            yield f"postgresql://postgres@127.0.0.1:{port}/mlflow"
        finally:
            pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def team_server(postgres: str, tmp_path: Path) -> Iterator[str]:
    """`mlflow server` backed by that PostgreSQL, artifacts in a folder, on 127.0.0.1."""
    port = free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_URI", None)
    log_path = tmp_path / "mlflow-server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
                "--workers", "1", "--backend-store-uri", postgres,
                "--artifacts-destination", str(tmp_path / "artifacts"),
            ],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
        try:
            # the first start creates MLflow's tables in PostgreSQL: slower than on SQLite
            wait_for_port(port, server, log_path, 180)
            yield f"http://127.0.0.1:{port}"
        finally:
            if server.poll() is None:
                os.killpg(server.pid, 15)
            server.wait(timeout=30)


def rest(url: str, body: dict[str, object] | None = None) -> bytes:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return bytes(response.read())


def test_a_bench_logs_to_a_postgresql_backed_mlflow_server(
    team_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", team_server)
    reports = tmp_path / "reports"
    system = str(cheap_rag(tmp_path))
    assert main(["bench", "--suite", str(SMOKE), "--system", system, "--reports-dir", str(reports)]) == 0
    assert not (tmp_path / "mlflow.db").exists(), "everything went to the server"

    api = f"{team_server}/api/2.0/mlflow"
    experiment = json.loads(rest(f"{api}/experiments/get-by-name?experiment_name=smoke"))["experiment"]
    runs = json.loads(rest(f"{api}/runs/search", {"experiment_ids": [experiment["experiment_id"]]}))["runs"]
    assert {run["info"]["status"] for run in runs} == {"FINISHED"} and len(runs) == 2
    tagged = [(run, {tag["key"]: tag["value"] for tag in run["data"]["tags"]}) for run in runs]
    child_run, child = next((run, tags) for run, tags in tagged if tags.get("system") == CHEAP_RAG)
    parent_run, parent = next((run, tags) for run, tags in tagged if "system" not in tags)
    assert child["bench_id"] == parent["bench_id"] and child["suite_version"] == "2"
    assert child["mlflow.parentRunId"] == parent_run["info"]["run_id"]
    metrics = {metric["key"]: metric["value"] for metric in child_run["data"]["metrics"]}
    assert 0 < metrics["hit_at_k"] <= 1 and not any(key.startswith("tag_") for key in metrics)

    artifact = f"{team_server}/get-artifact?run_uuid="
    verdict = json.loads(rest(f"{artifact}{parent_run['info']['run_id']}&path=verdict.json"))
    assert verdict["suite"] == "smoke" and verdict["systems"] == [CHEAP_RAG]
    assert "smoke" in rest(f"{artifact}{parent_run['info']['run_id']}&path=verdict.md").decode()
    table = json.loads(rest(f"{artifact}{child_run['info']['run_id']}&path=cases.json"))
    assert len(table["data"]) == 20

    # the per-case traces and their scores went through the server into PostgreSQL too
    traces = MlflowClient(team_server).search_traces(
        locations=[experiment["experiment_id"]], run_id=child_run["info"]["run_id"], max_results=50
    )
    assert len(traces) == 20
    assert all(any(a.name == "token_f1" for a in trace.info.assessments) for trace in traces)
