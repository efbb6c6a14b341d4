"""Reading a YAML mapping from disk, with errors that name the file and the line."""

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from harness.errors import InputError


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a key given twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # merge keys and complex keys are left to the base constructor
            key = (key_node.tag, key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKey(key_node.value, line, seen[key])
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int, first: int) -> None:
        super().__init__(f"duplicate key '{key}' (first at line {first})")
        self.line = line


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML file that must hold a mapping."""
    if not path.is_file():
        raise InputError(str(path), "file not found")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(str(path), f"not valid UTF-8 (byte {err.start})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506  (a SafeLoader subclass)
    except _DuplicateKey as err:
        raise InputError(f"{path}:{err.line}", str(err)) from None
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


# pydantic names the member of a union a value failed (`rpm.constrained-float`): not a key a user wrote.
_UNION_TAGS = {"constrained-float", "constrained-int", "constrained-str", "float", "int", "str", "bool"}


def _union_member(part: object) -> bool:
    return isinstance(part, str) and (part in _UNION_TAGS or ("[" in part and part.endswith("]")))


def explain(path: Path, err: ValidationError, known: dict[str, list[str]] | None = None) -> InputError:
    """Turn pydantic's first complaint into one line naming the file and the key.

    Args:
        known: the allowed keys per dotted parent location ("" for the top level), for "did you mean".
    """
    errors = err.errors()
    first = errors[0]
    loc = ".".join(str(part) for part in first["loc"] if not _union_member(part))
    if first["type"] == "extra_forbidden":
        parent, _, key = loc.rpartition(".")
        hint = did_you_mean(key, (known or {}).get(parent, []))
        return InputError(str(path), f"unknown key '{loc}'{hint}")
    if first["type"] == "missing":
        # A required key spelt wrong is both missing and unknown: name the spelling that was meant.
        parent, _, key = loc.rpartition(".")
        unknown = [
            str(error["loc"][-1])
            for error in errors
            if error["type"] == "extra_forbidden" and ".".join(map(str, error["loc"][:-1])) == parent
        ]
        close = difflib.get_close_matches(key, unknown, n=1, cutoff=0.5)
        if close:
            typo = f"{parent}.{close[0]}" if parent else close[0]
            return InputError(str(path), f"missing key '{loc}': unknown key '{typo}' (did you mean '{key}'?)")
        return InputError(str(path), f"missing key '{loc}'")
    return InputError(str(path), f"key '{loc}': {first['msg']}")
