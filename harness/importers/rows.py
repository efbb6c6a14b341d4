"""Question tables (a Hugging Face dataset, a ragas-style table) turned into a corpus and cases.

A row has a question, its answers (SQuAD-style `answers`, a list, or one text) and the passages it is
about: `context` (one passage; SQuAD `answer_start` offsets point into it) and `reference_contexts` are
gold; `retrieved_contexts` / `contexts` (what some retriever returned) join the corpus but are not gold.
Passages are deduplicated by their text.
"""

import ast
import json
import math
import statistics
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.importers.common import Imported, ImportedCase, Options, locate, slug, unique_id
from harness.metrics.answer import DEFAULT_ABSTENTION
from harness.text import tokens

# Our name -> the column names understood for it, in order of preference.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "_id", "question_id", "query_id"),
    "question": ("question", "user_input", "query"),
    "answers": ("answers", "references", "reference", "ground_truths", "ground_truth", "answer"),
    "context": ("context",),
    "gold_contexts": ("reference_contexts",),
    "contexts": ("retrieved_contexts", "contexts"),
    "title": ("title",),
}


def columns_for(present: set[str], options: Options) -> dict[str, str]:
    """Which column of the table each of our names reads: --column first, else the first alias present."""
    for ours, theirs in options.columns.items():
        if ours not in ALIASES:
            raise InputError("--column", f"unknown name '{ours}' (names: {', '.join(ALIASES)})")
        if theirs not in present:
            have = ", ".join(sorted(present)) or "none"
            raise InputError("--column", f"{ours}={theirs}: no column '{theirs}' (columns: {have})")
    chosen = dict(options.columns)
    for ours, names in ALIASES.items():
        if ours not in chosen:
            found = next((name for name in names if name in present), None)
            if found is not None:
                chosen[ours] = found
    return chosen


def _parse(value: Any) -> Any:
    """A list or object stored as text (a CSV cell): JSON, or the Python form pandas writes."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        for parser in (json.loads, ast.literal_eval):
            try:
                return parser(value)
            except (ValueError, SyntaxError):
                continue
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _texts(where: str, at: str, column: str, value: Any) -> list[str]:
    value = _parse(value)
    if _blank(value):
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if not isinstance(value, list | tuple):
        raise InputError(where, f"{at}: column '{column}' must be text or a list of texts")
    texts = []
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str):
            raise InputError(where, f"{at}: column '{column}' item {position} must be text")
        if item.strip():
            texts.append(item.strip())
    return texts


class _Corpus:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []
        self.by_text: dict[str, str] = {}
        self.ids: set[str] = set()

    def add(self, text: str, title: str) -> str:
        if text not in self.by_text:
            doc_id = unique_id(
                f"{slug(title)}-{len(self.items) + 1}" if title else f"ctx-{len(self.items) + 1}", self.ids
            )
            self.by_text[text] = doc_id
            self.items.append({"id": doc_id, "title": title, "text": text})
        return self.by_text[text]

    def add_all(self, texts: list[str], title: str) -> list[str]:
        return [self.add(text, title) for text in texts]


def _listed(where: str, at: str, columns: dict[str, str], row: dict[str, Any], name: str) -> list[str]:
    return _texts(where, at, columns[name], row.get(columns[name])) if name in columns else []


def from_rows(
    fmt: str, source: str, where: str, rows: list[tuple[str, dict[str, Any]]], options: Options
) -> Imported:
    """`rows`: (a tag such as the dataset split, or "", row) in order."""
    if not rows:
        raise InputError(where, "no rows")
    present = set().union(*(row.keys() for _, row in rows))
    columns = columns_for(present, options)
    if "question" not in columns:
        raise InputError(
            where, f"no question column ({', '.join(ALIASES['question'])}; or --column question=NAME)"
        )
    if not {"answers", "context", "gold_contexts"} & set(columns):
        raise InputError(
            where,
            "nothing to score: no answer column (" + ", ".join(ALIASES["answers"]) + ") and no gold "
            "passages (context, reference_contexts); map yours with --column",
        )
    abstention = options.abstention or DEFAULT_ABSTENTION
    corpus = _Corpus()
    cases: list[ImportedCase] = []
    seen: dict[str, int] = {}
    moved = dropped = 0
    for number, (tag, row) in enumerate(rows, start=1):
        at = f"row {number}"
        question = row.get(columns["question"])
        if not isinstance(question, str) or not question.strip():
            raise InputError(where, f"{at}: no question (column '{columns['question']}')")
        case_id = (
            str(row.get(columns["id"])).strip()
            if "id" in columns and not _blank(row.get(columns["id"]))
            else ""
        )
        case_id = case_id or f"q-{number:05d}"
        if case_id in seen:
            raise InputError(where, f"{at}: duplicate id '{case_id}' (first at row {seen[case_id]})")
        seen[case_id] = number
        title = row.get(columns["title"]) if "title" in columns else ""
        title = title.strip() if isinstance(title, str) else ""
        case = ImportedCase(id=case_id, question=question.strip(), tags=[tag] if tag else [])
        context_id, context, lead = None, "", 0
        raw_context = row.get(columns["context"]) if "context" in columns else None
        if not _blank(raw_context) and not isinstance(raw_context, str):
            got = type(raw_context).__name__
            raise InputError(where, f"{at}: column '{columns['context']}' must be text (got {got})")
        if isinstance(raw_context, str) and raw_context.strip():
            context = raw_context.strip()
            lead = len(raw_context) - len(raw_context.lstrip())  # offsets count from the raw context
            context_id = corpus.add(context, title)
        gold = corpus.add_all(_listed(where, at, columns, row, "gold_contexts"), title)
        others = corpus.add_all(_listed(where, at, columns, row, "contexts"), title)
        answers, starts = _answers(where, at, columns, row)
        if answers == []:  # an answers column with no text: SQuAD v2.0's unanswerable question
            case.references, case.unanswerable = [abstention], True
            case.tags.append("unanswerable")
            case.split_docs = [context_id] if context_id else gold or others
        else:
            case.references = list(dict.fromkeys(answers or []))
            case.gold_ids = list(dict.fromkeys([*([context_id] if context_id else []), *gold]))
            case.split_docs = case.gold_ids or others
            if context_id is not None:
                for text, raw_start in zip(answers or [], starts, strict=True):
                    start = None if raw_start is None else raw_start - lead
                    found = locate(context, text, start)
                    if found is None:
                        dropped += 1
                        continue
                    moved += start is not None and found != start
                    span = {"doc_id": context_id, "start": found, "text": text}
                    if span not in case.answer_spans:
                        case.answer_spans.append(span)
        cases.append(case)
    notes = ["columns read: " + ", ".join(f"{ours}={theirs}" for ours, theirs in columns.items())]
    if moved:
        notes.append(
            f"{moved} answer offsets did not point at their text and were moved to its nearest occurrence"
        )
    if dropped:
        notes.append(f"{dropped} answers are not in their context: kept as references, no answer span")
    lengths = [len(tokens(ref)) for case in cases if not case.unanswerable for ref in case.references[:1]]
    return Imported(
        format=fmt,
        source=source,
        corpus=corpus.items,
        cases=cases,
        abstention=abstention if any(c.unanswerable for c in cases) or options.abstention else None,
        long_answers=bool(lengths) and statistics.median(lengths) > 5,
        notes=notes,
    )


def _answers(
    where: str, at: str, columns: dict[str, str], row: dict[str, Any]
) -> tuple[list[str] | None, list[int | None]]:
    """The row's answer texts (None: the row gives none; []: SQuAD-style answers with no text) and, for
    SQuAD-style answers, each one's offset into the context."""
    if "answers" not in columns:
        return None, []
    column = columns["answers"]
    value = _parse(row.get(column))
    if isinstance(value, dict):
        if "text" not in value:
            raise InputError(where, f"{at}: column '{column}' is an object without 'text' (SQuAD style)")
        raw = value["text"]
        _texts(where, at, f"{column}.text", raw)  # refuses what is not text or a list of texts
        items = raw if isinstance(raw, list) else [] if _blank(raw) else [raw]
        offsets = value.get("answer_start")
        offsets = offsets if isinstance(offsets, list) else []
        pairs: list[tuple[str, int | None]] = []
        for position, item in enumerate(items):
            if not item.strip():
                continue
            start = offsets[position] if position < len(offsets) else None
            if not isinstance(start, int) or isinstance(start, bool):
                start = None
            else:  # the offset of the stripped answer text, in the raw context
                start += len(item) - len(item.lstrip())
            pairs.append((item.strip(), start))
        return [text for text, _ in pairs], [start for _, start in pairs]
    texts = _texts(where, at, column, value)
    return (texts or None), [None] * len(texts)


def read_table_rows(source: str) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """A local CSV, JSONL, JSON or Parquet table, read as load_suite reads its tables."""
    from harness.sources import Source, read_rows

    path = Path(source)
    where, rows = read_rows(Source(path=path.name), path.parent)
    return where, [("", row) for row in rows]
