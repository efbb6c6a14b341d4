"""Shared fixtures: every test gets its own cache folder and MLflow store, so nothing leaks between tests."""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "suites" / "smoke"
RAG = ROOT / "systems" / "rag-minilm.yaml"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    # Suite-independent weights (the general reader) train once and are shared by every test: in the
    # project's own cache folder, as `make bench` keeps them, never in the user's home.
    monkeypatch.setenv("HARNESS_MODELS_DIR", str(ROOT / ".cache" / "harness" / "models"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


@pytest.fixture
def smoke_copy(tmp_path: Path) -> Path:
    """A writable copy of the smoke suite."""
    target = tmp_path / "smoke"
    shutil.copytree(SMOKE, target)
    return target
