"""An MLflow store, safely: fail fast if it does not answer, serialise its creation, mend killed benches."""

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from harness.errors import InputError
from harness.report import Record, Report, load_report

SETTING = "MLFLOW_TRACKING_URI"
PREFLIGHT_TIMEOUT_S = 3.0
# MLflow's defaults (7 retries, backoff factor 2, 120 s timeout) turn a dead server into a 4-minute hang.
# A server that answered the pre-flight and then stops should still fail within about a minute.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}
SQLITE_MAGIC = b"SQLite format 3\x00"
# A RUNNING run whose process cannot be checked (another machine) is stale after this long.
STALE_AFTER_S = 6 * 3600
OWNER_TAG = "harness.process"
# how far back a bench looks for unlogged run folders of a (suite, system) that MLflow has never seen
RECOVER_WINDOW_S = 24 * 3600
_checked: set[str] = set()


def shown(uri: str) -> str:
    """The URI without a password, for messages."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def configure_http() -> None:
    """Short HTTP retries and timeouts unless the user set their own (read by MLflow at each request)."""
    for key, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)


def sqlite_path(uri: str) -> Path | None:
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


def preflight(uri: str) -> None:
    """Fail in seconds, with one line naming the setting, when the store cannot work; checked once per URI."""
    if uri in _checked:
        return
    path = sqlite_path(uri)
    if path is not None:
        _check_sqlite(path)
    elif uri.startswith(("http://", "https://")):
        _check_http(uri)
    elif "://" in uri and not uri.startswith(("file:", "databricks")):
        _check_tcp(uri)
    _checked.add(uri)


def _check_sqlite(path: Path) -> None:
    if path.is_dir():
        raise InputError(str(path), "is a folder, not an SQLite database (the MLflow store)")
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
        if head != SQLITE_MAGIC:
            raise InputError(
                str(path),
                f"is not an SQLite database (the MLflow store); move it away or set {SETTING}",
            )
    if not path.parent.is_dir():
        raise InputError(f"{SETTING}={shown('sqlite:///' + str(path))}", "its folder does not exist")


def _check_http(uri: str) -> None:
    import httpx

    where = f"{SETTING}={shown(uri)}"
    try:
        reply = httpx.get(uri.rstrip("/") + "/health", timeout=PREFLIGHT_TIMEOUT_S)
    except httpx.HTTPError as err:
        reason = type(err).__name__
        raise InputError(
            where,
            f"the MLflow server does not answer ({reason} within {PREFLIGHT_TIMEOUT_S:.0f} s); "
            "start it, unset the variable to log to ./mlflow.db, or pass --no-mlflow",
        ) from None
    if reply.status_code >= 500 or reply.status_code == 404:
        raise InputError(where, f"GET /health answered HTTP {reply.status_code}: not a working MLflow server")


def _check_tcp(uri: str) -> None:
    """A database URI (postgresql://, mysql://): its host must accept a connection."""
    parts = urlsplit(uri)
    default_ports = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}
    scheme = parts.scheme.split("+")[0]
    if not parts.hostname or scheme not in default_ports:
        return
    port = parts.port or default_ports[scheme]
    try:
        with socket.create_connection((parts.hostname, port), timeout=PREFLIGHT_TIMEOUT_S):
            pass
    except OSError as err:
        raise InputError(
            f"{SETTING}={shown(uri)}", f"the database at {parts.hostname}:{port} does not answer ({err})"
        ) from None


@contextlib.contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Hold a file lock next to an SQLite store: two processes creating or migrating it at once collide."""
    path = sqlite_path(uri)
    if path is None:
        yield
        return
    with open(path.parent / f"{path.name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def owner() -> str:
    """Tag value naming this process, so a later bench can tell a live run from one left by a killed bench."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(tags: dict[str, str], start_time_ms: int, now_s: float | None = None) -> bool:
    """A RUNNING run is stale when its process on this host is gone, or it is older than STALE_AFTER_S."""
    host, _, pid = tags.get(OWNER_TAG, "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return int(pid) != os.getpid() and not _alive(int(pid))
    return (now_s or time.time()) - start_time_ms / 1000 > STALE_AFTER_S


def close_stale_runs(client: Any, experiment_ids: list[str]) -> list[str]:
    """Mark runs left RUNNING by a killed bench KILLED; returns their ids."""
    if not experiment_ids:
        return []
    closed = []
    running = client.search_runs(
        experiment_ids, filter_string="attributes.status = 'RUNNING'", max_results=1000
    )
    for run in running:
        if is_stale(run.data.tags, run.info.start_time):
            client.set_terminated(run.info.run_id, status="KILLED")
            closed.append(run.info.run_id)
    return closed


def unlogged_runs(
    client,  # type: ignore[no-untyped-def]
    experiments: Mapping[str, str],
    runs: Sequence[tuple[Report, Sequence[Record], Path]],
    reports_dir: Path,
) -> list[tuple[Report, list[Record], Path]]:
    """Finished run folders of this bench's (suite, system) pairs that MLflow has no run for.

    A bench killed between two runs leaves finished folders it never logged; the next bench logs them.
    Only folders newer than the pair's newest logged run count (or, for a pair never logged, folders
    from the last RECOVER_WINDOW_S), so turning MLflow on after months of --no-mlflow does not upload
    that history. An unreadable folder is skipped (it is not finished, or another command reports it).
    """
    pairs = {(report.suite["name"], report.system["name"]) for report, _, _ in runs}
    current = {folder.resolve() for _, _, folder in runs}
    logged: set[str] = set()
    newest: dict[tuple[str, str], str] = {}
    for experiment in experiments.values():
        token = None
        while True:
            page = client.search_runs(
                [experiment], filter_string="tags.run_folder != ''", max_results=1000, page_token=token
            )
            for run in page:
                name, tags = run.data.tags["run_folder"], run.data.tags
                logged.add(name)
                pair = (tags.get("suite", ""), tags.get("system", ""))
                newest[pair] = max(newest.get(pair, ""), name)
            token = page.token
            if not token:
                break
    found = []
    since = time.time() - RECOVER_WINDOW_S
    for run_file in sorted((reports_dir / "runs").glob("*/run.json")):
        folder = run_file.parent
        if folder.name in logged or folder.resolve() in current:
            continue
        try:
            # run.json alone says whether the folder is a candidate; records are read only for those
            report = Report.model_validate_json(run_file.read_text(encoding="utf-8"))
            pair = (report.suite["name"], report.system["name"])
            # folder names start with their UTC start time, so name order is time order
            recent = folder.name > newest[pair] if pair in newest else run_file.stat().st_mtime > since
            if pair not in pairs or not recent:
                continue
            report, records = load_report(folder)
        except (InputError, ValueError, OSError):
            continue
        found.append((report, records, folder))
    return found


__all__ = [
    "close_stale_runs",
    "configure_http",
    "is_stale",
    "owner",
    "preflight",
    "shown",
    "store_lock",
    "unlogged_runs",
]
