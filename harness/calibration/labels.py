"""Human-labelled files for `harness calibrate`: pointwise labels or pairwise preferences, validated like a
suite (a problem is one line naming the file, the row and what is wrong; exit 2)."""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.errors import InputError
from harness.hashing import digest, file_digest
from harness.sources import Source, read_rows

Kind = Literal["pointwise", "pairwise"]
POINTWISE = ("question", "answer", "label")
PAIRWISE = ("question", "answer_a", "answer_b", "preference")
PREFERENCES = {"a": 1.0, "b": -1.0, "tie": 0.0}
# Default label scales: a pointwise label in [0, 1] (binary 0/1 or graded), a pairwise preference in
# [-1, 1] (+1: answer_a is better, -1: answer_b, 0: a tie). --label-min / --label-max declare another.
DEFAULT_RANGE: dict[str, tuple[float, float]] = {"pointwise": (0.0, 1.0), "pairwise": (-1.0, 1.0)}


@dataclass(frozen=True)
class Item:
    """One thing people judged: an answer (pointwise) or a pair of answers (pairwise), with its labels."""

    key: str
    question: str
    reference: str
    contexts: tuple[str, ...] | None
    answers: tuple[str, ...]  # one (pointwise) or two (pairwise: a, b)
    labels: tuple[float, ...]  # one per labelling row, in file order
    annotators: tuple[str, ...]
    rows: tuple[int, ...]


@dataclass(frozen=True)
class LabelSet:
    path: str
    name: str
    kind: Kind
    label_column: str
    low: float
    high: float
    items: tuple[Item, ...]
    file_hash: str
    graded: bool = field(default=False)

    @property
    def binary(self) -> bool:
        return self.kind == "pointwise" and not self.graded

    @property
    def n_labels(self) -> int:
        return sum(len(item.labels) for item in self.items)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(where: str, number: int, row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    if _blank(value):
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(where, f"row {number}: column '{column}' must be text, got {type(value).__name__}")
    return str(value).strip()


def _contexts(where: str, number: int, row: dict[str, Any]) -> tuple[str, ...] | None:
    """Retrieved passages: a list of texts (JSON), or one text (CSV); absent means none were retrieved."""
    if "contexts" not in row or _blank(row["contexts"]):
        return None
    value = row["contexts"]
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return tuple(item.strip() for item in value if item.strip())
    raise InputError(where, f"row {number}: column 'contexts' must be a list of texts")


def _number(where: str, number: int, column: str, value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and not _blank(value):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            pass
        else:
            if math.isfinite(parsed):
                return parsed
    shown = "NaN" if isinstance(value, float) and math.isnan(value) else None
    shown = shown or ("empty" if _blank(value) or value == "" else repr(value)[:40])
    raise InputError(where, f"row {number}: column '{column}' must be a number, got {shown}")


def _label(where: str, number: int, column: str, value: Any, kind: Kind, low: float, high: float) -> float:
    if kind == "pairwise" and isinstance(value, str) and value.strip().lower() in PREFERENCES:
        return PREFERENCES[value.strip().lower()] * high
    try:
        label = _number(where, number, column, value)
    except InputError:
        if kind == "pairwise":
            raise InputError(
                where, f"row {number}: column '{column}' must be a, b, tie or a number, got {value!r}"[:200]
            ) from None
        raise
    if not low <= label <= high:
        raise InputError(
            where,
            f"row {number}: {column} {label:g} is out of range [{low:g}, {high:g}] "
            "(--label-min / --label-max declare another scale)",
        )
    return label


def load_labels(
    path: Path | str,
    label_column: str | None = None,
    low: float | None = None,
    high: float | None = None,
) -> LabelSet:
    """Read and validate a label file (JSONL, JSON, CSV or Parquet); its columns say which format it is."""
    path = Path(path)
    if path.is_dir():
        raise InputError(str(path), "is a folder: give a label file (.jsonl, .json, .csv or .parquet)")
    where, rows = read_rows(Source(path=str(path)), Path("."))
    if not rows:
        raise InputError(where, "empty file: no labelled rows")
    present = set(rows[0])
    kind: Kind = "pairwise" if {"answer_a", "answer_b"} & present else "pointwise"
    column = label_column or ("preference" if kind == "pairwise" else "label")
    wanted = tuple(
        column if name in ("label", "preference") else name
        for name in (PAIRWISE if kind == "pairwise" else POINTWISE)
    )
    for name in wanted:
        if name not in present:
            have = ", ".join(sorted(present)) or "none"
            raise InputError(where, f"missing column '{name}' (columns present: {have})")
    default_low, default_high = DEFAULT_RANGE[kind]
    low = default_low if low is None else low
    high = default_high if high is None else high
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InputError("--label-min/--label-max", f"a scale needs finite ends, got [{low:g}, {high:g}]")
    if not low < high:
        raise InputError("--label-min/--label-max", f"the minimum {low:g} must be below the maximum {high:g}")
    if kind == "pairwise" and low != -high:
        raise InputError("--label-min/--label-max", "a preference scale is symmetric around 0 (a tie)")
    grouped: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(rows, start=1):
        question = _text(where, number, row, "question")
        if not question:
            raise InputError(where, f"row {number}: empty question")
        reference = _text(where, number, row, "reference")
        contexts = _contexts(where, number, row)
        answers: tuple[str, ...]
        pair = [name for name in ("answer_a", "answer_b") if not _blank(row.get(name))]
        if kind == "pointwise" and pair:
            raise InputError(
                where,
                f"row {number}: has {pair[0]} (pairwise) but row 1 is pointwise: one kind of row per file",
            )
        if kind == "pairwise" and len(pair) < 2:
            lacking = "answer_b" if pair == ["answer_a"] else "answer_a"
            pointwise = not _blank(row.get("answer")) or not _blank(row.get("label"))
            raise InputError(
                where,
                f"row {number}: a pointwise row (answer, label) in a pairwise file: one kind of row per file"
                if pointwise
                else f"row {number}: no {lacking} (a pairwise row needs answer_a and answer_b)",
            )
        if kind == "pairwise":
            answers = (_text(where, number, row, "answer_a"), _text(where, number, row, "answer_b"))
            if answers[0] == answers[1]:
                raise InputError(
                    where, f"row {number}: answer_a and answer_b are identical: nothing to prefer"
                )
        else:
            answers = (_text(where, number, row, "answer"),)
        label = _label(where, number, column, row.get(column), kind, low, high)
        annotator = _text(where, number, row, "annotator")
        content = [question, reference, contexts, answers]
        row_id = _text(where, number, row, "id")
        key = row_id or digest(content)
        entry = grouped.setdefault(
            key, {"content": content, "labels": [], "annotators": [], "rows": [], "first": number}
        )
        if entry["content"] != content:
            raise InputError(
                where, f"row {number}: id '{row_id}' has other texts than at row {entry['first']}"
            )
        if annotator and annotator in entry["annotators"]:
            first = entry["rows"][entry["annotators"].index(annotator)]
            raise InputError(
                where, f"row {number}: annotator '{annotator}' labels this item again (first at row {first})"
            )
        entry["labels"].append(label)
        entry["annotators"].append(annotator)
        entry["rows"].append(number)
    items = tuple(
        Item(
            key=key,
            question=entry["content"][0],
            reference=entry["content"][1],
            contexts=entry["content"][2],
            answers=entry["content"][3],
            labels=tuple(entry["labels"]),
            annotators=tuple(entry["annotators"]),
            rows=tuple(entry["rows"]),
        )
        for key, entry in grouped.items()
    )
    values = {label for item in items for label in item.labels}
    graded = (
        kind == "pairwise"
        and not values <= {low, 0.0, high}
        or kind == "pointwise"
        and not values
        <= {
            low,
            high,
        }
    )
    name = path.parent.name if path.stem in ("labels", "pairs", "data") else path.stem
    return LabelSet(
        path=str(path),
        name=name,
        kind=kind,
        label_column=column,
        low=low,
        high=high,
        items=items,
        file_hash=file_digest(str(path)),
        graded=graded,
    )
