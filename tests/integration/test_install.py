"""The harness as a tool: a built wheel, installed on its own, run in an empty folder outside the repository.

The wheel is built once per test session from a copy of the sources (pip wheel, no build isolation and no
index: nothing is downloaded) and installed with `pip install --target`, so `import harness` comes from the
wheel, not from this checkout's editable install.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

NOISE = ("Loading weights", "it/s]", "DEBUG:", "INFO", "Batches:", "Creating initial MLflow")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    shutil.copytree(ROOT / "harness", source / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    built = work / "dist"
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(built), str(source)],
        check=True,
        capture_output=True,
    )
    (path,) = built.glob("harness-*.whl")
    return path


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
        ]
        + [str(wheel)],
        check=True,
        capture_output=True,
    )
    return target


def tool_env(site: Path) -> dict[str, str]:
    """The environment of a user's shell: the wheel on the path, none of the tests' own settings (cache,
    MLflow store, shared models folder), so every default must come from the project root."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "MLFLOW_", "PYTEST"))}
    env["PYTHONPATH"] = str(site)
    return env


def harness(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=cwd, env=tool_env(site), capture_output=True, text=True
    )


@pytest.fixture(scope="session")
def benched(
    installed: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`harness init`, then `harness bench` (MLflow on, as a user runs it) in a new empty folder."""
    project = tmp_path_factory.mktemp("new-project")
    assert ROOT not in project.parents
    assert harness(installed, "init", cwd=project).returncode == 0
    return project, harness(installed, "bench", cwd=project)


def test_wheel_carries_every_file_the_package_reads(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "harness/metrics/rouge/rouge.py",
        "harness/prompts/with_context.txt",
        "harness/prompts/closed_book.txt",
        "harness/llm/models.yaml",
        "harness/templates/suites/example/suite.yaml",
        "harness/templates/suites/example/corpus.jsonl",
        "harness/templates/suites/example/test.jsonl",
        "harness/templates/systems/rag-bm25.yaml",
    ):
        assert needed in names, needed
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "harness = harness.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_import_comes_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import harness; print(harness.__file__)"],
        cwd=tmp_path,
        env=tool_env(installed),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(done.stdout.strip()).is_relative_to(installed)
    script = installed / "bin" / "harness"
    assert script.is_file()
    version = subprocess.run(
        [str(script), "--version"], cwd=tmp_path, env=tool_env(installed), capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.startswith("harness ")


def test_init_then_bench_prints_the_verdict(benched: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    project, done = benched
    assert done.returncode == 0, done.stderr[-2000:]
    assert "== Verdict: example v1 (3 systems, 20 cases" in done.stdout
    assert (project / "mlflow.db").is_file(), "the MLflow store is the project's"
    assert len(list((project / "reports" / "runs").iterdir())) == 3
    assert (project / ".cache" / "harness").is_dir(), "the cache is the project's"


def test_a_bench_piped_into_a_file_shows_its_stage_lines_and_no_library_noise(
    benched: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    _, done = benched  # stderr was a pipe, not a terminal
    lines = done.stderr.splitlines()
    assert "[1/3] example × finetuned-minilm: training minilm (classifier) on 20 pairs" in lines
    assert any(line.startswith("[3/3] example × rag-dense: answering 20 cases: done in") for line in lines)
    assert any(line.startswith("Time per stage over 3 run(s): prepare") for line in lines)
    noisy = [line for line in lines if any(word in line for word in NOISE)]
    assert not noisy, noisy
    assert max(len(line) for line in done.stdout.split("\n\n± is")[0].splitlines()) <= 120


def test_bench_json_pipes_into_json_tool_from_a_subfolder(
    installed: Path, benched: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    project, _ = benched
    python = f"PYTHONPATH={installed} {sys.executable}"
    done = subprocess.run(
        f"{python} -m harness bench --json --no-mlflow --system rag-bm25 | {sys.executable} -m json.tool",
        shell=True,
        cwd=project / "suites" / "example",
        env=tool_env(installed),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    document = json.loads(done.stdout)
    (run,) = document["runs"]
    assert Path(run["folder"]).parent == project.resolve() / "reports" / "runs"
    assert document["verdicts"]["example"]["suite"] == "example"
    assert "[1/1] example × rag-bm25: 20 answers from the cache" in done.stderr
