"""Reading a suite's tables into values: corpus rows into Passages, train and test rows into Cases.

Every value is checked as it is read; a problem is one InputError naming the file, the row and the column.
"""

import math
from typing import Any

from harness.errors import InputError
from harness.references import REFERENCE_COLUMNS, row_references, row_spans
from harness.references import describe as _describe
from harness.values.suite import AnswerSpan, Case, Passage


def _require(where: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    present = set(rows[0]) if rows else set()
    for column in columns:
        if column not in present:
            have = ", ".join(sorted(present)) or "none"
            raise InputError(where, f"missing column '{column}' (columns present: {have})")


def _text(where: str, number: int, row: dict[str, Any], column: str) -> str:
    """A text column's value: a scalar (a number in CSV is its text); an object or a list is refused,
    not stringified into a question nobody wrote."""
    value = row.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):  # NaN: a CSV/Parquet blank
        return ""
    # CSV has no types: a number or True there is the text the user typed. In JSON or Parquet, true is not.
    boolean = isinstance(value, bool) and not where.lower().endswith(".csv")
    if boolean or not isinstance(value, str | int | float):
        raise InputError(where, f"row {number}: column '{column}' must be text, got {_describe(value)}")
    return str(value).strip()


def _ids(where: str, number: int, row: dict[str, Any], column: str) -> tuple[str, ...]:
    """gold_ids and tags: a list of ids, or in CSV a string separated by '|' (or one number)."""
    value = row.get(column)
    csv = where.lower().endswith(".csv")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split("|") if part.strip())
    if csv and isinstance(value, int) and not isinstance(value, bool):
        return (str(value),)  # a lone numeric id in CSV is read as a number
    if not isinstance(value, list | tuple):
        shape = "ids separated by '|'" if csv else "a list of ids"
        raise InputError(where, f"row {number}: column '{column}' must be {shape}, got {_describe(value)}")
    for position, item in enumerate(value, start=1):
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise InputError(
                where, f"row {number}: column '{column}' item {position} must be an id, got {_describe(item)}"
            )
    return tuple(str(item).strip() for item in value if str(item).strip())


def _check_id(where: str, number: int, row_id: str, seen: dict[str, int]) -> None:
    if not row_id:
        raise InputError(where, f"row {number}: empty id")
    if row_id in seen:
        raise InputError(where, f"row {number}: duplicate id '{row_id}' (first at row {seen[row_id]})")
    seen[row_id] = number


def corpus_texts(corpus: tuple[Passage, ...], rows: list[dict[str, Any]]) -> dict[str, tuple[str, int]]:
    """Each id's text as the file holds it, and how many leading characters `passages` stripped from it:
    answer_spans offsets are read against the file's text."""
    raw = {passage.id: str(row["text"]) for passage, row in zip(corpus, rows, strict=True)}
    return {key: (value, len(value) - len(value.lstrip())) for key, value in raw.items()}


def passages(where: str, rows: list[dict[str, Any]]) -> tuple[Passage, ...]:
    if not rows:
        raise InputError(where, "empty corpus: no passages")
    _require(where, rows, ("id", "text"))
    seen: dict[str, int] = {}
    passages = []
    for number, row in enumerate(rows, start=1):
        row_id = _text(where, number, row, "id")
        _check_id(where, number, row_id, seen)
        text = _text(where, number, row, "text")
        if not text:
            raise InputError(where, f"row {number} (id '{row_id}'): empty text")
        passages.append(Passage(id=row_id, text=text, title=_text(where, number, row, "title")))
    return tuple(passages)


def cases(
    where: str,
    rows: list[dict[str, Any]],
    corpus: dict[str, tuple[str, int]],
    corpus_where: str,
    abstention: str | None,
) -> tuple[Case, ...]:
    if not rows:
        return ()
    _require(where, rows, ("id", "question"))
    if not any(column in rows[0] for column in REFERENCE_COLUMNS):
        have = ", ".join(sorted(rows[0])) or "none"
        raise InputError(
            where, f"missing column 'reference' (or 'references', 'answers'; columns present: {have})"
        )
    seen: dict[str, int] = {}
    cases = []
    for number, row in enumerate(rows, start=1):
        row_id = _text(where, number, row, "id")
        _check_id(where, number, row_id, seen)
        question = _text(where, number, row, "question")
        if not question:
            raise InputError(where, f"row {number} (id '{row_id}'): empty question")
        gold_ids = _ids(where, number, row, "gold_ids")
        for gold in gold_ids:
            if gold not in corpus:
                raise InputError(
                    where,
                    f"row {number} (id '{row_id}'): gold id '{gold}' is not in the corpus ({corpus_where})",
                )
        references = row_references(where, number, row, _text(where, number, row, "reference"), abstention)
        spans = row_spans(where, number, row, corpus, corpus_where)
        cases.append(
            Case(
                id=row_id,
                question=question,
                reference=references[0] if references else "",
                references=references,
                answer_spans=tuple(AnswerSpan(doc_id=d, start=s, text=t) for d, s, t in spans),
                gold_ids=gold_ids,
                tags=_ids(where, number, row, "tags"),
            )
        )
    return tuple(cases)
