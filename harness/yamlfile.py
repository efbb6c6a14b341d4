"""Reading a YAML mapping from disk, with errors that name the file and the line."""

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from harness.errors import InputError


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML file that must hold a mapping."""
    if not path.is_file():
        raise InputError(str(path), "file not found")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(str(path), f"not valid UTF-8 (byte {err.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "cannot be parsed"
        raise InputError(f"{path}{line}", f"YAML syntax error: {problem}") from None
    if not isinstance(data, dict):
        raise InputError(str(path), "expected a mapping of keys at the top level")
    return data


def did_you_mean(name: str, choices: list[str]) -> str:
    """A ' (did you mean 'x'?)' suffix, or an empty string."""
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def explain(path: Path, err: ValidationError, known: dict[str, list[str]] | None = None) -> InputError:
    """Turn pydantic's first complaint into one line naming the file and the key.

    Args:
        known: the allowed keys per dotted parent location ("" for the top level), for "did you mean".
    """
    first = err.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        parent, _, key = loc.rpartition(".")
        hint = did_you_mean(key, (known or {}).get(parent, []))
        return InputError(str(path), f"unknown key '{loc}'{hint}")
    if first["type"] == "missing":
        return InputError(str(path), f"missing key '{loc}'")
    return InputError(str(path), f"key '{loc}': {first['msg']}")
