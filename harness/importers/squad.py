"""SQuAD v1.1 / v2.0 JSON: paragraphs become the corpus, questions the cases, every answer a reference."""

import json
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.importers.common import Imported, ImportedCase, Options, locate, slug, unique_id
from harness.metrics.answer import DEFAULT_ABSTENTION


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise InputError(str(path), "file not found" if not path.exists() else "not a file")
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))  # a byte-order mark is not an error
    except UnicodeDecodeError:
        raise InputError(str(path), "not valid UTF-8") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{path}:{err.lineno}", f"invalid JSON: {err.msg} (column {err.colno})") from None


def _field(where: str, at: str, node: dict[str, Any], key: str, kind: type, what: str) -> Any:
    value = node.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        got = "missing" if value is None else f"got {type(value).__name__}"
        raise InputError(where, f"{at}: '{key}' must be {what} ({got})")
    return value


def read_squad(source: str, options: Options) -> Imported:
    """Paragraph j of article i becomes corpus item `<title>-p<j>` (stable across imports of one file).

    A question's references are its answers' texts (duplicates once); its answer_spans their offsets, moved
    to the nearest occurrence when an offset is off and left out (counted in the notes) when the text is not
    in the paragraph. A v2.0 `is_impossible` question gets the abstention and no gold ids.
    """
    path = Path(source)
    where = str(path)
    raw = read_json(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
        raise InputError(where, "not SQuAD JSON: expected an object with a 'data' list of articles")
    abstention = options.abstention or DEFAULT_ABSTENTION
    corpus: list[dict[str, str]] = []
    cases: list[ImportedCase] = []
    doc_ids: set[str] = set()
    case_ids: dict[str, str] = {}
    moved = dropped = 0
    for i, article in enumerate(raw["data"]):
        at = f"data[{i}]"
        if not isinstance(article, dict):
            raise InputError(where, f"{at}: an article must be an object")
        title: str = article["title"] if isinstance(article.get("title"), str) else ""
        paragraphs = _field(where, at, article, "paragraphs", list, "a list")
        for j, paragraph in enumerate(paragraphs):
            at = f"data[{i}].paragraphs[{j}]"
            if not isinstance(paragraph, dict):
                raise InputError(where, f"{at}: a paragraph must be an object")
            context = _field(where, at, paragraph, "context", str, "text")
            lead = len(context) - len(context.lstrip())
            text = context.strip()
            if not text:
                raise InputError(where, f"{at}: empty 'context'")
            doc_id = unique_id(f"{slug(title or f'article-{i}')}-p{j}", doc_ids)
            corpus.append({"id": doc_id, "title": title, "text": text})
            for q, qa in enumerate(_field(where, at, paragraph, "qas", list, "a list")):
                at = f"data[{i}].paragraphs[{j}].qas[{q}]"
                if not isinstance(qa, dict):
                    raise InputError(where, f"{at}: a question must be an object")
                question = qa.get("question")
                if not isinstance(question, str) or not question.strip():
                    raise InputError(where, f"{at}: no question text")
                qid = str(qa.get("id") or f"{doc_id}-q{q}")
                if qid in case_ids:
                    raise InputError(where, f"{at}: duplicate question id '{qid}' (first at {case_ids[qid]})")
                case_ids[qid] = at
                answers = qa.get("answers", [])
                if not isinstance(answers, list):
                    raise InputError(where, f"{at}: 'answers' must be a list")
                impossible = qa.get("is_impossible") is True
                case = ImportedCase(id=qid, question=question.strip(), split_docs=[doc_id])
                if impossible:
                    case.references, case.unanswerable, case.tags = [abstention], True, ["unanswerable"]
                    cases.append(case)
                    continue
                if not answers:
                    raise InputError(where, f"{at}: no answers, and not marked 'is_impossible'")
                seen_spans: set[tuple[int, str]] = set()
                for a, answer in enumerate(answers):
                    if not isinstance(answer, dict) or not isinstance(answer.get("text"), str):
                        raise InputError(where, f"{at}.answers[{a}]: must be an object with a 'text'")
                    answer_text = answer["text"].strip()
                    if not answer_text:
                        raise InputError(where, f"{at}.answers[{a}]: empty answer text")
                    if answer_text not in case.references:
                        case.references.append(answer_text)
                    start = answer.get("answer_start")
                    given = None  # the offset into the stripped paragraph of the stripped answer
                    if isinstance(start, int) and not isinstance(start, bool):
                        given = start + len(answer["text"]) - len(answer["text"].lstrip()) - lead
                    found = locate(text, answer_text, given)
                    if found is None:
                        dropped += 1
                        continue
                    moved += found != given
                    if (found, answer_text) not in seen_spans:
                        seen_spans.add((found, answer_text))
                        case.answer_spans.append({"doc_id": doc_id, "start": found, "text": answer_text})
                case.gold_ids, case.tags = [doc_id], ["answerable"]
                cases.append(case)
    notes = []
    if moved:
        notes.append(
            f"{moved} answer offsets did not point at their text and were moved to its nearest occurrence"
        )
    if dropped:
        notes.append(f"{dropped} answers are not in their paragraph: kept as references, no answer span")
    version = raw.get("version") if isinstance(raw.get("version"), str) else "unknown"
    notes.insert(0, f"SQuAD version field: {version}")
    has_impossible = any(case.unanswerable for case in cases)
    return Imported(
        format="squad",
        source=source,
        corpus=corpus,
        cases=cases,
        abstention=abstention if has_impossible or options.abstention else None,
        notes=notes,
    )
