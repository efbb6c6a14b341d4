"""The report after a real bench, in headless Chromium; its runs seen through a real MLflow server."""

import html
import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from harness.cli import main
from tests.conftest import RAG, SMOKE
from tests.integration.test_tracking import mlflow_server  # noqa: F401  (the fixture, reused)

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach Google on a closed network;
# the resolver rule makes any other host fail at once instead of waiting on a timeout.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]  # fmt: skip
MEASURE = (
    '<script>addEventListener("load", () => { const out = document.createElement("pre"); out.id = "widths";'
    ' out.textContent = [...document.images].map(i => i.naturalWidth).join(" ");'
    " document.body.append(out); });"
    "</script>"
)


@pytest.fixture(scope="module")
def benched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One real bench of the smoke suite (no MLflow); its answer cache is reused by the server test."""
    root = tmp_path_factory.mktemp("bench")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARNESS_CACHE_DIR", str(root / "cache"))
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        args = ["bench", "--suite", str(SMOKE), "--system", str(RAG), "--no-mlflow"]
        assert main([*args, "--reports-dir", str(root / "reports")]) == 0
    yield root


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium (`make test` installs it where missing); without it the test is skipped."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is missing: `make test` installs it (apt-get install chromium)")
    return str(CHROMIUM)


def browse(chromium: str, profile: Path, *args: str) -> str:
    """Run headless Chromium with a fresh profile folder; returns stdout (the DOM with --dump-dom)."""
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs)["src"] or "")


def check_png(path: Path) -> None:
    with Image.open(path) as image:
        image.load()
        assert image.width > 0 and image.height > 0
        extrema = image.convert("L").getextrema()
        assert extrema[0] != extrema[1], f"{path.name} is a single colour"


def test_bench_writes_tables_charts_and_worst_cases(benched: Path) -> None:
    latest = benched / "reports" / "latest"
    page = (latest / "index.html").read_text(encoding="utf-8")
    run = json.loads(next((benched / "reports" / "runs").glob("*/run.json")).read_text())
    f1 = run["summary"]["token_f1"]
    assert f"{f1['mean']:.3f} [{f1['ci_low']:.3f}, {f1['ci_high']:.3f}]" in page
    assert "<td>rag-minilm</td>" in page and "smoke v2" in page
    assert page.count("<h3>Worst cases") == 1 and "no baseline" in page
    # the five lowest token F1 cases are listed, their text escaped; nothing comes from outside the folder
    records = [
        json.loads(line) for line in next((benched / "reports" / "runs").glob("*/records.jsonl")).open()
    ]
    records.sort(key=lambda record: record["scores"]["token_f1"]["value"])
    for record in records[:5]:
        assert html.escape(record["question"]) in page and html.escape(record["answer"]) in page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    parser = Images()
    parser.feed(page)
    assert len(parser.sources) == len(run["summary"]) == 13  # one chart per metric; one system: no trade-off
    for source in parser.sources:
        assert "/" not in source
        check_png(latest / source)
    markdown = (latest / "index.md").read_text(encoding="utf-8")
    assert f"| token_f1 | {f1['mean']:.3f} [" in markdown
    assert "![token_f1](chart__smoke__token_f1.png)" in markdown
    # each case tag gets the rank metric's mean over its cases, with how many were scored
    for tag, by_metric in run["by_tag"].items():
        sliced = by_metric["token_f1"]
        assert f"| {tag} | {sliced['mean']:.3f} ({sliced['n_scored']}) |" in markdown
        assert f"<th>{tag}</th><td>{sliced['mean']:.3f} ({sliced['n_scored']})</td>" in page


def test_report_command_escapes_text_and_shows_baseline_deltas(benched: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    shutil.copytree(benched / "reports", reports)
    assert main(["baseline", "--reports-dir", str(reports)]) == 0
    baseline_path = reports / "baselines" / "smoke__rag-minilm.json"
    baseline = json.loads(baseline_path.read_text())
    baseline["report"]["summary"]["token_f1"]["mean"] -= 0.1  # the new run looks 0.1 better
    baseline["report"]["summary"]["hit_at_k"]["mean"] += 0.05  # and 0.05 worse
    baseline_path.write_text(json.dumps(baseline))
    records = next((reports / "runs").glob("*/records.jsonl"))
    rows = [json.loads(line) for line in records.read_text().splitlines()]
    for row in rows:
        row["question"] = f'<script>alert("{row["case_id"]}")</script> & {row["question"]}'
    records.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert main(["report", "--reports-dir", str(reports), "--out", str(tmp_path / "site")]) == 0
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;t-" in page and "&amp; " in page
    assert "Δ +0.100 ▲" in page and "Δ -0.050 ▼" in page and "vs baseline smoke__rag-minilm.json" in page
    markdown = (tmp_path / "site" / "index.md").read_text(encoding="utf-8")
    assert "\\<script\\>alert" in markdown and "Δ +0.100 ▲" in markdown


def test_every_chart_decodes_in_headless_chromium(benched: Path, chromium: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(benched / "reports" / "latest", site)
    page = (site / "index.html").read_text(encoding="utf-8")
    (site / "measured.html").write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = browse(
        chromium,
        tmp_path / "profile",
        "--virtual-time-budget=5000",
        "--dump-dom",
        (site / "measured.html").as_uri(),
    )
    widths = dom.split('<pre id="widths">', 1)[1].split("</pre>", 1)[0].split()
    assert len(widths) == 13 and all(int(width) > 0 for width in widths), widths


def get(url: str, body: dict[str, object] | None = None) -> bytes:
    """GET, or POST of a JSON body (runs/search is a POST in MLflow's REST API)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


def test_runs_found_through_the_mlflow_rest_api_and_shown_in_the_ui(
    benched: Path,
    mlflow_server: str,  # noqa: F811  (the imported fixture, requested by name)
    chromium: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(benched / "cache"))  # answers and scores come from the cache
    assert (
        main(["bench", "--suite", str(SMOKE), "--system", str(RAG), "--reports-dir", str(tmp_path / "r")])
        == 0
    )
    api = f"{mlflow_server}/api/2.0/mlflow"
    experiment = json.loads(get(f"{api}/experiments/get-by-name?experiment_name=smoke"))["experiment"]
    search = {
        "experiment_ids": [experiment["experiment_id"]],
        "filter": "tags.system = 'rag-minilm' and tags.kind = 'rag'",
    }
    runs = json.loads(get(f"{api}/runs/search", search))["runs"]
    assert len(runs) == 1
    tags = {tag["key"]: tag["value"] for tag in runs[0]["data"]["tags"]}
    assert tags["mlflow.runName"].startswith("rag-minilm@") and tags["suite_version"] == "2"
    run_id = runs[0]["info"]["run_id"]
    table = json.loads(get(f"{mlflow_server}/get-artifact?path=cases.json&run_uuid={run_id}"))
    assert len(table["data"]) == 20
    assert {"question", "reference", "answer", "contexts", "token_f1", "token_f1_reason"} <= set(
        table["columns"]
    )
    # the experiment's runs page, drawn by the UI's own scripts from the same server
    url = f"{mlflow_server}/#/experiments/{experiment['experiment_id']}/runs"
    shot = tmp_path / "experiment.png"
    browse(
        chromium,
        tmp_path / "profile",
        "--window-size=1400,900",
        "--virtual-time-budget=20000",
        f"--screenshot={shot}",
        url,
    )
    check_png(shot)
    dom = browse(chromium, tmp_path / "profile2", "--virtual-time-budget=20000", "--dump-dom", url)
    assert f"bench {tags['bench_id']}" in dom  # the bench's parent run, its child nested under it
