"""A test row's accepted answers and where they occur: the `reference`, `references`, `answers` and
`answer_spans` columns, read strictly (a list is never stringified into an answer nobody wrote)."""

import json
import math
from typing import Any

from harness.errors import InputError

# At least one of these columns must be present in a train or test table (a typo such as 'answer' is caught).
REFERENCE_COLUMNS = ("reference", "references", "answers")


def describe(value: Any) -> str:
    """A value's shape for an error message, short and without dumping a whole object or list."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"{type(value).__name__} {value!r}"[:60]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))  # NaN: a CSV/Parquet blank


def _structured(where: str, number: int, row: dict[str, Any], column: str) -> Any:
    """A list or object column's value. CSV has no lists: there the cell holds JSON (`["a", "b"]`)."""
    value = row.get(column)
    if _blank(value):
        return None
    if isinstance(value, str) and where.lower().endswith(".csv") and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise InputError(
                where, f"row {number}: column '{column}' is not valid JSON ({err.msg})"
            ) from None
    return value


def _texts(where: str, number: int, column: str, value: Any, what: str) -> list[str]:
    if not isinstance(value, list | tuple):
        raise InputError(where, f"row {number}: column '{column}' must be {what}, got {describe(value)}")
    texts = []
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str):
            raise InputError(
                where, f"row {number}: column '{column}' item {position} must be text, got {describe(item)}"
            )
        texts.append(item.strip())
    return texts


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(text for text in texts if text))


def row_references(
    where: str, number: int, row: dict[str, Any], reference: str, abstention: str | None
) -> tuple[str, ...]:
    """Every accepted answer of a row, first the `reference` (already read as text) when it is given.

    `references` is a list of texts with at least one non-empty; `answers` is SQuAD-style
    `{"text": [...], "answer_start": [...]}` (its offsets are not read here: `answer_spans` says where an
    answer is, against the corpus). An `answers` with no text is a SQuAD v2.0 unanswerable question: it
    takes the suite's abstention. Given together, the columns must agree.
    """
    listed: list[str] | None = None
    value = _structured(where, number, row, "references")
    if value is not None:
        listed = _unique(_texts(where, number, "references", value, "a list of texts"))
        if not listed:
            raise InputError(where, f"row {number}: column 'references' has no non-empty answer")
    answers = _structured(where, number, row, "answers")
    if answers is not None:
        if not isinstance(answers, dict) or "text" not in answers:
            raise InputError(
                where,
                f"row {number}: column 'answers' must be an object with a 'text' list "
                f'(SQuAD style: {{"text": [...], "answer_start": [...]}}), got {describe(answers)}',
            )
        given = _unique(_texts(where, number, "answers.text", answers["text"], "a list of texts"))
        if not given:
            if abstention is None:
                raise InputError(
                    where,
                    f"row {number}: column 'answers' has no text (a SQuAD v2.0 unanswerable question): "
                    "declare 'abstention:' in suite.yaml to give such questions that answer",
                )
            given = [abstention]
        if listed is not None and set(listed) != set(given):
            raise InputError(
                where, f"row {number}: columns 'references' and 'answers' list different answers"
            )
        listed = listed if listed is not None else given
    if listed is None:
        return (reference,) if reference else ()
    if reference and reference not in listed:
        raise InputError(
            where, f"row {number}: column 'reference' ({reference[:40]!r}) is not among its 'references'"
        )
    if reference:
        listed = [reference, *(text for text in listed if text != reference)]
    return tuple(listed)


def row_spans(
    where: str, number: int, row: dict[str, Any], corpus: dict[str, tuple[str, int]], corpus_where: str
) -> tuple[tuple[str, int, str], ...]:
    """The `answer_spans` of a row as (doc_id, start, text), each checked against the corpus.

    `corpus` maps an id to (its text as the file holds it, how many leading characters the harness strips
    from it): offsets are read against the file's text, and returned against the stripped passage text.
    """
    value = _structured(where, number, row, "answer_spans")
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise InputError(
            where,
            f"row {number}: column 'answer_spans' must be a list of {{doc_id, start, text}}, got "
            f"{describe(value)}",
        )
    spans = []
    for position, item in enumerate(value, start=1):
        at = f"row {number}: answer_spans item {position}"
        if not isinstance(item, dict):
            raise InputError(where, f"{at} must be an object {{doc_id, start, text}}, got {describe(item)}")
        unknown = sorted(set(item) - {"doc_id", "start", "text"})
        if unknown:
            raise InputError(where, f"{at}: unknown key '{unknown[0]}' (keys: doc_id, start, text)")
        doc_id, start, text = item.get("doc_id"), item.get("start"), item.get("text")
        if not isinstance(doc_id, str | int) or isinstance(doc_id, bool) or not str(doc_id).strip():
            raise InputError(where, f"{at}: 'doc_id' must be a corpus id, got {describe(doc_id)}")
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            raise InputError(
                where, f"{at}: 'start' must be a character offset (an integer >= 0), got {describe(start)}"
            )
        if not isinstance(text, str) or not text:
            raise InputError(where, f"{at}: 'text' must be non-empty text, got {describe(text)}")
        doc_id = str(doc_id).strip()
        if doc_id not in corpus:
            raise InputError(where, f"{at}: doc_id '{doc_id}' is not in the corpus ({corpus_where})")
        raw, lead = corpus[doc_id]
        found = raw[start : start + len(text)]
        if found != text:
            raise InputError(
                where,
                f"{at}: the text of '{doc_id}' at {start} is {found[:40]!r}, not {text[:40]!r}",
            )
        if start < lead or start + len(text) > len(raw.rstrip()):
            raise InputError(where, f"{at}: the span lies in the whitespace around the text of '{doc_id}'")
        spans.append((doc_id, start - lead, text))
    return tuple(spans)
