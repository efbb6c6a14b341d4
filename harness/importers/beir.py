"""A BEIR folder: corpus.jsonl (_id, title, text), queries.jsonl (_id, text), qrels/<split>.tsv
(query-id, corpus-id, score). Retrieval only: BEIR has no answers."""

import csv
import math
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.importers.common import Imported, ImportedCase, Options
from harness.sources import json_lines

QRELS = ("test", "dev", "train")


def _jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise InputError(str(path), "file not found (a BEIR folder has corpus.jsonl, queries.jsonl, qrels/)")
    return list(json_lines(path, "\n".join(_lines(path))))


def _lines(path: Path) -> list[str]:
    """The file's lines, a byte-order mark dropped; not UTF-8 is one line naming the file and the line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}", f"not valid UTF-8 (byte 0x{data[err.start]:02x})") from None


def _text(path: Path, number: int, row: dict[str, Any], key: str, required: bool = True) -> str:
    value = row.get(key)
    if value is None and not required:
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and key == "_id":
        return str(value)
    if not isinstance(value, str):
        got = "missing" if value is None else type(value).__name__
        raise InputError(f"{path}:{number}", f"'{key}' must be text ({got})")
    return value.strip()


def read_beir(source: str, options: Options) -> Imported:
    """Every query with a positive qrel (score > 0) in qrels/test.tsv, dev.tsv or train.tsv becomes a case
    tagged with that file's split; its gold ids are those corpus ids. A document with no text but a title
    is indexed by its title."""
    folder = Path(source)
    if not folder.is_dir():
        raise InputError(source, "not a folder (a BEIR folder has corpus.jsonl, queries.jsonl, qrels/)")
    corpus_path, queries_path = folder / "corpus.jsonl", folder / "queries.jsonl"
    corpus: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for number, row in _jsonl(corpus_path):
        doc_id = _text(corpus_path, number, row, "_id")
        if not doc_id or doc_id in seen:
            what = "empty '_id'" if not doc_id else f"duplicate _id '{doc_id}' (first at line {seen[doc_id]})"
            raise InputError(f"{corpus_path}:{number}", what)
        seen[doc_id] = number
        title = _text(corpus_path, number, row, "title", required=False)
        text = _text(corpus_path, number, row, "text", required=False) or title
        if not text:
            raise InputError(f"{corpus_path}:{number}", f"document '{doc_id}' has neither text nor title")
        corpus.append({"id": doc_id, "title": title, "text": text})
    if not corpus:
        raise InputError(str(corpus_path), "no documents")
    queries: dict[str, str] = {}
    for number, row in _jsonl(queries_path):
        query_id = _text(queries_path, number, row, "_id")
        text = _text(queries_path, number, row, "text")
        if not text:
            raise InputError(f"{queries_path}:{number}", f"query '{query_id}' has no text")
        if query_id in queries:
            raise InputError(f"{queries_path}:{number}", f"duplicate _id '{query_id}'")
        queries[query_id] = text
    files = [
        folder / "qrels" / f"{name}.tsv" for name in QRELS if (folder / "qrels" / f"{name}.tsv").is_file()
    ]
    if not files:
        raise InputError(str(folder / "qrels"), f"no qrels file ({', '.join(f'{n}.tsv' for n in QRELS)})")
    cases: dict[str, ImportedCase] = {}
    for path in files:
        _read_qrels(path, queries, seen, cases)
    if not cases:
        raise InputError(str(folder / "qrels"), "no query has a relevant document (score > 0)")
    return Imported(
        format="beir",
        source=source,
        corpus=corpus,
        cases=list(cases.values()),
        notes=[
            f"qrels read: {', '.join(p.name for p in files)}; cases have no reference answer (BEIR has none)"
        ],
    )


def _read_qrels(
    path: Path, queries: dict[str, str], corpus_ids: dict[str, int], cases: dict[str, ImportedCase]
) -> None:
    rows = csv.reader(_lines(path), delimiter="\t")
    header = next(rows, None)
    if header is None:
        return
    columns = [name.strip() for name in header]
    if columns[:2] != ["query-id", "corpus-id"] or len(columns) < 3:
        raise InputError(f"{path}:1", "header must be query-id, corpus-id, score (tab-separated)")
    for row in rows:
        number = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 3:
            raise InputError(f"{path}:{number}", f"{len(row)} fields, expected query-id, corpus-id, score")
        query_id, doc_id, raw_score = row[0].strip(), row[1].strip(), row[2].strip()
        try:
            score = float(raw_score)
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise InputError(f"{path}:{number}", f"score {raw_score!r} is not a number") from None
        if query_id not in queries:
            raise InputError(f"{path}:{number}", f"query-id '{query_id}' is not in queries.jsonl")
        if doc_id not in corpus_ids:
            raise InputError(f"{path}:{number}", f"corpus-id '{doc_id}' is not in corpus.jsonl")
        if score <= 0:
            continue
        case = cases.get(query_id)
        if case is None:
            case = cases[query_id] = ImportedCase(
                id=query_id, question=queries[query_id], tags=[f"beir-{path.stem}"]
            )
        if doc_id not in case.gold_ids:
            case.gold_ids.append(doc_id)
            case.split_docs.append(doc_id)
