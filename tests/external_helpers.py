"""What the python:, http: and openai: system tests share: a quick copy of the smoke suite, and running
the CLI in-process."""

import shutil
from pathlib import Path

from harness.cli import main

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "suites" / "smoke"
QUICK_METRICS = "metrics:\n  token_f1: {}\n  answer_recall: {}\n  hit_at_k: {}\n  mrr: {}\n  latency_s: {}\n"


def quick_smoke(folder: Path, extra: str = "") -> Path:
    """The smoke suite's data with only lexical and retrieval metrics (no MiniLM to load): seconds a run."""
    target = folder / "smoke"
    shutil.copytree(SMOKE, target)
    text = (target / "suite.yaml").read_text(encoding="utf-8")
    head = text[: text.index("metrics:")]
    tail = text[text.index("metrics:") :].split("\n")
    rest = [line for line in tail[1:] if line and not line.startswith(" ")]  # keys after the metrics block
    (target / "suite.yaml").write_text(
        head + QUICK_METRICS + "\n".join(rest) + "\n" + extra, encoding="utf-8"
    )
    return target


def system_file(folder: Path, name: str, text: str) -> Path:
    path = folder / "systems" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(suite: Path, system: Path, reports: Path, *extra: str) -> int:
    argv = ["run", "--suite", str(suite), "--system", str(system), "--reports-dir", str(reports)]
    return main([*argv, "--no-mlflow", "-q", *extra])
