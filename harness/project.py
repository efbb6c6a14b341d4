"""The project a command runs in: its root folder and the default paths in harness.toml.

The root is the nearest folder, from the working directory up, holding a `harness.toml` or a
`pyproject.toml` with a `[tool.harness]` table. Every default path (suites, systems, reports, the MLflow
store, the cache) is resolved from it, so `harness bench` means the same thing in any subfolder. Without
such a file the working directory is the root, as before. Paths given on the command line are the
user's own and stay relative to the working directory.
"""

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.yamlfile import did_you_mean

CONFIG = "harness.toml"
PYPROJECT = "pyproject.toml"
# key -> (default, what it is); every value is a path relative to the root unless it is absolute (or, for
# mlflow, a URI such as http://host:5000 or postgresql://...)
KEYS: dict[str, tuple[str, str]] = {
    "suites": ("suites", "folder of suites (<name>/suite.yaml)"),
    "systems": ("systems", "folder of system files (<name>.yaml)"),
    "reports": ("reports", "where run folders, baselines and the report go"),
    "cache": (".cache/harness", "the answer, score and model cache (HARNESS_CACHE_DIR overrides it)"),
    "mlflow": ("mlflow.db", "MLflow store: SQLite file or tracking URI (MLFLOW_TRACKING_URI overrides it)"),
    "profile": ("offline", "which systems `harness bench` runs by default"),
}


@dataclass(frozen=True)
class Project:
    root: Path
    config: Path | None  # the file the settings came from; None: no file, the working directory is the root
    settings: dict[str, str]

    def path(self, key: str) -> Path:
        value = Path(self.settings[key]).expanduser()
        return value if value.is_absolute() else self.root / value

    @property
    def suites_dir(self) -> Path:
        return self.path("suites")

    @property
    def systems_dir(self) -> Path:
        return self.path("systems")

    @property
    def reports_dir(self) -> Path:
        return self.path("reports")

    @property
    def cache_dir(self) -> Path:
        return self.path("cache")

    @property
    def profile(self) -> str:
        return self.settings["profile"]

    @property
    def mlflow_uri(self) -> str:
        value = self.settings["mlflow"]
        if "://" in value:
            return value
        return f"sqlite:///{self.path('mlflow').resolve()}"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM (Notepad) is no error
    except tomllib.TOMLDecodeError as err:
        raise InputError(str(path), f"not valid TOML: {err}") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "not UTF-8 text") from None


def _settings(table: Any, where: str) -> dict[str, str]:
    if not isinstance(table, dict):
        raise InputError(where, "expected a table of settings")
    settings = {key: default for key, (default, _) in KEYS.items()}
    for key, value in table.items():
        if key not in KEYS:
            raise InputError(
                where,
                f"unknown key '{key}'{did_you_mean(key, list(KEYS))} (known: {', '.join(KEYS)})",
            )
        if not isinstance(value, str) or not value.strip():
            raise InputError(where, f"key '{key}': expected a non-empty string, got {value!r}")
        settings[key] = value
    return settings


def find_project(start: Path | None = None) -> Project:
    """The project around `start` (default: the working directory); see the module docstring."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        config = folder / CONFIG
        if config.is_file():
            return Project(folder, config, _settings(_read_toml(config), str(config)))
        pyproject = folder / PYPROJECT
        if pyproject.is_file():
            table = _read_toml(pyproject).get("tool", {}).get("harness")
            if table is not None:
                return Project(folder, pyproject, _settings(table, f"{pyproject} [tool.harness]"))
    return Project(here, None, {key: default for key, (default, _) in KEYS.items()})


def activate(project: Project) -> None:
    """Point the cache and the MLflow store at the project's, unless the environment names its own.

    harness/__init__ already pointed the libraries' cache folders (datasets, evaluate, matplotlib) at
    .cache/harness under the working directory; those it set are moved under the project's cache too.
    """
    from harness.privacy import CACHE_FOLDERS

    if "HARNESS_CACHE_DIR" not in os.environ:
        imported_root = (Path(".cache") / "harness").absolute()
        os.environ["HARNESS_CACHE_DIR"] = str(project.cache_dir)
        for name, folder in CACHE_FOLDERS.items():
            if os.environ.get(name) == str(imported_root / folder):
                os.environ[name] = str(project.cache_dir.absolute() / folder)
    os.environ.setdefault("MLFLOW_TRACKING_URI", project.mlflow_uri)


def config_text(table_header: str) -> str:
    """The starter settings `harness init` writes, every key with its default and what it is."""
    lines = [table_header] if table_header else []
    for key, (default, what) in KEYS.items():
        lines.append(f'{key} = "{default}"  # {what}')
    return "\n".join(lines) + "\n"


TEMPLATES = Path(__file__).parent / "templates"


def init_project(folder: Path, pyproject: bool = False) -> list[str]:
    """Start a project in `folder`: its settings, suites/ with a tiny example, systems/. Returns what it did.

    Existing suite and system files are kept; existing settings are an error (nothing is overwritten).
    """
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    header = "# harness settings: every path is relative to this file's folder (the project root).\n"
    if pyproject:
        target = folder / PYPROJECT
        text = target.read_text(encoding="utf-8") if target.is_file() else ""
        if text and _read_toml(target).get("tool", {}).get("harness") is not None:
            raise InputError(str(target), "already has a [tool.harness] table; nothing was changed")
        separator = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        target.write_text(text + separator + header + config_text("[tool.harness]"), encoding="utf-8")
        done.append(f"{'added [tool.harness] to' if text else 'wrote'} {target}")
    else:
        target = folder / CONFIG
        if target.exists():
            raise InputError(str(target), "already exists; nothing was changed")
        target.write_text(header + config_text(""), encoding="utf-8")
        done.append(f"wrote {target}")
    for source in sorted(TEMPLATES.rglob("*")):
        if not source.is_file() or "__pycache__" in source.parts:
            continue
        relative = source.relative_to(TEMPLATES)
        destination = folder / relative
        if destination.exists():
            done.append(f"kept {destination} (already there)")
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(source.read_bytes())
        done.append(f"wrote {destination}")
    done += [
        "",
        "next: harness bench   (the example suite × the offline systems, then the verdict)",
        "add to .gitignore: .cache/  reports/runs/  reports/latest/  mlflow.db",
    ]
    return done
