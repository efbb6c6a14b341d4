"""What a user expects of a command-line tool: --version, --json, -q / -v, --limit, --metric, stage lines,
tables that fit 120 columns, and default paths that resolve from the project root (harness.toml)."""

import json
import shutil
from pathlib import Path

import pytest

from harness import __version__
from harness.cli import main
from harness.errors import InputError
from harness.project import find_project
from harness.report import load_run
from tests.conftest import SMOKE

BM25 = """name: rag-bm25
kind: rag
profile: offline
retriever: {method: bm25, top_k: 3}
generator: {model: extractive, max_sentences: 1}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A project made by `harness init` (its example suite), plus the smoke suite and a BM25 system only,
    entered as the working directory."""
    root = tmp_path / "proj"
    assert main(["init", str(root)]) == 0
    for yaml in (root / "systems").glob("*.yaml"):
        yaml.unlink()
    (root / "systems" / "rag-bm25.yaml").write_text(BM25, encoding="utf-8")
    shutil.copytree(SMOKE, root / "suites" / "smoke")
    monkeypatch.chdir(root)
    capsys.readouterr()
    return root


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"harness {__version__}"


def test_project_root_from_harness_toml_and_pyproject(tmp_path: Path) -> None:
    (tmp_path / "a" / "deep" / "er").mkdir(parents=True)
    (tmp_path / "a" / "harness.toml").write_text('suites = "my-suites"\nreports = "/tmp/elsewhere"\n')
    project = find_project(tmp_path / "a" / "deep" / "er")
    assert project.root == (tmp_path / "a").resolve()
    assert project.suites_dir == project.root / "my-suites"
    assert project.systems_dir == project.root / "systems"
    assert project.reports_dir == Path("/tmp/elsewhere")
    assert project.mlflow_uri == f"sqlite:///{project.root / 'mlflow.db'}"
    # a pyproject.toml counts only with a [tool.harness] table
    (tmp_path / "b" / "sub").mkdir(parents=True)
    (tmp_path / "b" / "sub" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "b" / "pyproject.toml").write_text('[project]\nname = "y"\n[tool.harness]\ncache = "c"\n')
    project = find_project(tmp_path / "b" / "sub")
    assert project.root == (tmp_path / "b").resolve() and project.cache_dir == project.root / "c"


def test_bad_settings_are_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "harness.toml").write_text('suite = "s"\n')
    with pytest.raises(InputError, match="unknown key 'suite'.*did you mean 'suites'"):
        find_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["suites", "validate", "--json"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["exit_code"] == 2
    assert err.count("\n") == 1 and "harness.toml" in err and "unknown key 'suite'" in err


def test_init_refuses_to_overwrite_and_writes_a_pyproject_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path)]) == 0
    assert main(["init", str(tmp_path)]) == 2
    assert "harness.toml: already exists" in capsys.readouterr().err
    other = tmp_path / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "mine"\n')
    assert main(["init", str(other), "--pyproject"]) == 0
    assert not (other / "harness.toml").exists()
    assert find_project(other).root == other.resolve()
    assert (other / "suites" / "example" / "suite.yaml").is_file()
    assert 'name = "mine"' in (other / "pyproject.toml").read_text()


def test_defaults_resolve_from_the_root_not_the_working_directory(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project / "suites" / "smoke")
    assert main(["run", "--suite", "example", "--system", "rag-bm25", "--no-mlflow", "--limit", "2"]) == 0
    capsys.readouterr()
    assert len(list((project / "reports" / "runs").iterdir())) == 1
    assert not (project / "suites" / "smoke" / "reports").exists()


def test_stage_lines_limit_and_timings(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--suite", "smoke", "--system", "rag-bm25", "--no-mlflow", "--limit", "3"])
    assert code == 0
    out, err = capsys.readouterr()
    assert "[1/1] smoke × rag-bm25: --limit 3: the first 3 of 20 test cases" in err
    assert "[1/1] smoke × rag-bm25: indexing 30 passages (bm25)" in err
    assert "[1/1] smoke × rag-bm25: answering 3 cases: done in" in err
    assert "Time per stage over 1 run(s): prepare" in err
    assert "== smoke v2 (first 3 of 20 cases, --limit)" in out
    (folder,) = (project / "reports" / "runs").iterdir()
    run = load_run(folder)
    report = run.report
    assert report.suite.limit == 3 and report.suite.full_test_cases == 20
    assert report.n_cases == len(run.records) == 3
    assert json.loads((folder / "run.json").read_text())["suite"]["limit"] == 3
    assert set(report.timings) == {"prepare", "answer", "score"}


def test_quiet_leaves_out_stage_lines(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "-q", "--suite", "example", "--system", "rag-bm25", "--no-mlflow"]) == 0
    out, err = capsys.readouterr()
    assert "[1/1]" not in err and "Time per stage" not in err
    assert "== example v1 (20 cases)" in out


def test_table_fits_120_columns_and_metric_chooses_columns(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--suite", "smoke", "--system", "rag-bm25", "--no-mlflow"]) == 0
    out = capsys.readouterr().out
    table = out.split("\n\n± is")[0]
    assert max(len(line) for line in table.splitlines()) <= 120
    assert table.count("system ") >= 2, "13 metrics do not fit one 120-column table: several tables"
    for metric in ("token_f1", "rouge_l", "minilm_answer_relevancy", "latency_s"):
        assert metric in table
    # --metric: only the chosen columns, in the order asked (answers and scores come from the cache)
    assert main(["run", "--suite", "smoke", "--system", "rag-bm25", "--no-mlflow", "--metric", "mrr"]) == 0
    header = capsys.readouterr().out.splitlines()[1].split()
    assert header == ["system", "kind", "mrr"]
    assert main(["run", "--suite", "smoke", "--system", "rag-bm25", "--no-mlflow", "--metric", "mrx"]) == 2
    assert "no metric 'mrx' in these suites (did you mean 'mrr'?)" in capsys.readouterr().err


def test_json_is_one_document_on_stdout(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--json", "--no-mlflow", "--limit", "4"]) == 0
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert {run["suite"] for run in document["runs"]} == {"example", "smoke"}
    assert all(run["limit"] == 4 and run["n_cases"] == 4 for run in document["runs"])
    assert set(document["verdicts"]) == {"example", "smoke"}
    assert document["mlflow"] is None and "score" in document["time_per_stage_s"]
    assert "== Verdict: example" in err, "the human text goes to stderr"

    assert main(["suites", "validate", "--json"]) == 0
    suites = json.loads(capsys.readouterr().out)["suites"]
    assert [s["name"] for s in suites] == ["example", "smoke"] and suites[0]["test"] == 20

    assert main(["compare", "--json", "--suite", "example", "--no-overlap"]) == 0
    assert json.loads(capsys.readouterr().out)["example"]["suite"] == "example"

    assert main(["gate", "--json", "--no-mlflow"]) == 0
    gated = json.loads(capsys.readouterr().out)
    assert gated["passed"] is True and {r["gated"] for r in gated["results"]} == {False}

    assert main(["run", "--json", "--suite", "nope", "--system", "rag-bm25"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["exit_code"] == 2 and "no such suite" in err


def test_gate_refuses_a_limited_run_against_a_full_baseline(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--suite", "example", "--system", "rag-bm25", "--no-mlflow"]) == 0
    assert main(["baseline"]) == 0
    assert main(["gate", "--no-mlflow"]) == 0
    assert main(["run", "--suite", "example", "--system", "rag-bm25", "--no-mlflow", "--limit", "5"]) == 0
    capsys.readouterr()
    assert main(["gate", "--no-mlflow"]) == 2
    err = capsys.readouterr().err
    assert "the run saw 5 cases (--limit) of example's test split, the baseline all" in err


def test_a_library_that_turns_its_own_logger_to_debug_stays_quiet() -> None:
    """bm25s sets its logger to DEBUG when imported (after the harness quietened it): still nothing shows."""
    import io
    import logging

    from harness.progress import NORMAL, VERBOSE, quiet_libraries

    quiet_libraries(NORMAL)
    logger = logging.getLogger("bm25s")
    logger.setLevel(logging.DEBUG)  # what `import bm25s` does
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        logger.debug("Building index from IDs objects")
        logger.warning("a real warning")
        assert stream.getvalue() == "a real warning\n"
        quiet_libraries(VERBOSE)  # -v shows them again
        logger.setLevel(logging.DEBUG)
        logger.debug("shown with -v")
        assert "shown with -v" in stream.getvalue()
    finally:
        logger.removeHandler(handler)
        quiet_libraries(NORMAL)
