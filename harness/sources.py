"""Reading a suite's tables (corpus, train, test) with Hugging Face `datasets`, local or from the hub."""

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.values.suite import Source  # a value; defined with the suite's values

FORMATS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


def read_rows(source: Source, base: Path) -> tuple[str, list[dict[str, Any]]]:
    """Read every row of a table. Returns (where, rows) where `where` names it in error messages."""
    if source.path.startswith("hf:"):
        where = source.path
        rows = _read_hub(source)
    else:
        path = base / source.path
        where = str(path)
        rows = _read_local(path)
    if source.columns:
        renamed = {theirs: ours for ours, theirs in source.columns.items()}
        rows = [{renamed.get(key, key): value for key, value in row.items()} for row in rows]
    return where, rows


def _read_local(path: Path) -> list[dict[str, Any]]:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(str(path), f"unsupported file type '{path.suffix}' (use {', '.join(FORMATS)})")
    if not path.is_file():
        raise InputError(str(path), "file not found")
    data = path.read_bytes()
    # Parsed tables are cached by the hash of their bytes: a warm run need not even import datasets. Only
    # bytes that passed the checks below were ever stored, so a hit skips them too (at 100k passages the
    # line-by-line JSON check was a fifth of loading a warm suite: 0.8 of 4.4 CPU s).
    from harness.cache import Cache

    cache = Cache()
    # A .json document is not line-checked, so its bytes get their own key: a hit for a .jsonl file is
    # always bytes that passed the .jsonl check (the .jsonl and .csv keys are unchanged).
    kind = [fmt, "document"] if path.suffix.lower() == ".json" else [fmt]
    key = Cache.key("table", *kind, hashlib.sha256(data).hexdigest())
    rows = cache.get(key)
    if rows is not None:
        return list(rows)
    if fmt != "parquet":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            line = data[: err.start].count(b"\n") + 1
            raise InputError(f"{path}:{line}", f"not valid UTF-8 (byte 0x{data[err.start]:02x})") from None
        if not text.strip():
            return []
        if fmt == "json" and path.suffix.lower() == ".jsonl":
            _check_json_lines(path, text)
        if fmt == "csv":
            _check_csv_rows(path, text)
    rows = _load_with_datasets(path, fmt)
    cache.put(key, rows)
    return list(rows)


def _arrow_dir() -> str:
    """Where datasets keeps its Arrow copies of a table: under the harness's cache folder, never in ~/.cache
    (the user's data stays where the user put it, and `make clean` removes the copies)."""
    from harness.cache import cache_dir

    return str(cache_dir() / "datasets")


def _load_with_datasets(path: Path, fmt: str) -> list[dict[str, Any]]:
    import datasets

    datasets.disable_progress_bars()
    try:
        table = datasets.load_dataset(fmt, data_files=str(path), split="train", cache_dir=_arrow_dir())
    except Exception as err:  # datasets wraps parser errors in several types; all mean "unreadable"
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if "corresponds to no data" in reason:  # datasets' words for a table with a header and no rows
            raise InputError(str(path), "no rows (a header and nothing under it)") from None
        raise InputError(str(path), f"cannot be read: {reason}") from None
    return table.to_list()


def _json_kind(value: Any) -> str | None:
    """What Arrow makes of a JSON value: one column must hold one kind (null goes with any)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


def json_lines(path: Path | str, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL text; a line that is not a JSON object is
    one InputError naming the file and the line."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}:{number}", f"invalid JSON: {err.msg}") from None
        if not isinstance(row, dict):
            raise InputError(f"{path}:{number}", "each line must be a JSON object")
        yield number, row


def _check_json_lines(path: Path, text: str) -> None:
    # datasets reports a broken line, or a column whose kind changes between rows, without its number:
    # find it so the message can name the row and the column.
    kinds: dict[str, tuple[str, int]] = {}
    for number, row in json_lines(path, text):
        for column, value in row.items():
            kind = _json_kind(value)
            if kind is None:
                continue
            first = kinds.setdefault(column, (kind, number))
            if first[0] != kind:
                raise InputError(
                    f"{path}:{number}",
                    f"column '{column}' is {kind} here but {first[0]} at line {first[1]}",
                )


def _check_csv_rows(path: Path, text: str) -> None:
    # A row with more fields than the header is not an error to pandas: it shifts the row into an index
    # and reads the wrong columns. Count fields the way the csv module reads them, quotes and all.
    rows = csv.reader(io.StringIO(text))
    header = next(rows, [])
    for row in rows:
        if row and len(row) != len(header):
            raise InputError(
                f"{path}:{rows.line_num}", f"{len(row)} fields, but the header has {len(header)}"
            )


def _read_hub(source: Source) -> list[dict[str, Any]]:
    import datasets

    name = source.path.removeprefix("hf:")
    try:
        table = datasets.load_dataset(
            name, source.subset, split=source.split, revision=source.revision, cache_dir=_arrow_dir()
        )
    except Exception as err:
        hint = " (the hub is off: export HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0 to download)"
        raise InputError(source.path, f"cannot be loaded: {str(err).splitlines()[0]}{hint}") from None
    return table.to_list()
