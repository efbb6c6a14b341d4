"""The generation prompts (one question per call) and the checks on each reply.

Each prompt carries a marker line, `[suite-generation:<kind>]`, which the local Gemini peer recognises to
answer it from the passages it quotes (tests/replies.py); a real model reads it as a label.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from harness.text import normalise

KINDS = ("single", "multi", "unanswerable")
MARKER = "[suite-generation:{kind}]"
MAX_ANSWER_WORDS = 12

_COMMON = (
    "The question must make sense to someone who cannot see the passages: name its subject, and never "
    'refer to "the passage", "the text" or "the document".'
)
_INSTRUCTIONS = {
    "single": (
        "Write one question for a question-answering test set, answerable from passage P1 alone. "
        f"{_COMMON} The answer is a short phrase (at most {MAX_ANSWER_WORDS} words) copied word for word "
        "from P1.\n"
        'Reply with one JSON object and nothing else: {"question": "...", "answer": "..."}'
    ),
    "multi": (
        "Write one question for a question-answering test set that needs a fact from P1 and a fact from "
        f"P2 to answer (for example: compare them, or combine them). {_COMMON} The answer is a short phrase "
        f"(at most {MAX_ANSWER_WORDS} words) copied word for word from P1 or P2.\n"
        'Reply with one JSON object and nothing else: {"question": "...", "answer": "...", '
        '"answer_from": "P1 or P2", "uses": ["P1", "P2"]}'
    ),
    "unanswerable": (
        "Write one question that a reader of passage P1 could plausibly ask about its subject, but that "
        "P1 does not answer (the fact is simply not in it; not a trick, not a false premise). "
        f"{_COMMON}\n"
        'Reply with one JSON object and nothing else: {"question": "..."}'
    ),
}


def build_prompt(kind: str, passages: list[dict[str, Any]], variant: int) -> str:
    """The prompt for one question of `kind` about `passages` (corpus rows). `variant` > 0 when the same
    passages were already asked for this kind: it asks for another fact (and keys another cache entry)."""
    lines = [_INSTRUCTIONS[kind]]
    if variant:
        lines.append(
            f"This is variant {variant + 1}: ask about a different fact than variants 1 to {variant}."
        )
    lines += ["", MARKER.format(kind=kind)]
    for number, row in enumerate(passages, start=1):
        title = f' (from "{row["title"]}")' if row.get("title") else ""
        lines += [f"Passage P{number}{title}:", str(row["text"]), ""]
    return "\n".join(lines).rstrip() + "\n"


@dataclass
class Checked:
    """A reply read and checked against its passages: the row if it passed, else the reason it failed."""

    question: str = ""
    answer: str = ""
    reason: str | None = None  # one of REASONS, None when the row is kept
    detail: str = ""
    check: str = ""  # what validation found, recorded on the kept row
    spans: list[dict[str, Any]] = field(default_factory=list)


def _json_object(reply: str) -> dict[str, Any] | None:
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", reply.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(text[start : end + 1])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def supported(answer: str, text: str) -> bool:
    """The answer occurs in the passage after SQuAD normalisation (case, punctuation, articles, spaces)."""
    wanted = normalise(answer)
    return bool(wanted) and f" {wanted} " in f" {normalise(text)} "


def check_reply(kind: str, reply: str, passages: list[dict[str, Any]], abstention: str) -> Checked:
    """Parse a reply and check the generator's claims: the answer of a single- or multi-passage question
    must occur in its gold passage (normalised containment); a multi-passage question must use both."""
    data = _json_object(reply)
    if data is None:
        return Checked(reason="unparsable reply", detail="no JSON object in the reply")
    question = data.get("question")
    if not isinstance(question, str) or not question.strip():
        return Checked(reason="unparsable reply", detail="no question in the reply")
    question = " ".join(question.split())
    if kind == "unanswerable":
        return Checked(question, abstention, check="unanswerable: answered with the abstention")
    answer = data.get("answer")
    if not isinstance(answer, str) or not normalise(answer):
        return Checked(question, reason="unparsable reply", detail="no answer in the reply")
    answer = " ".join(answer.split()).rstrip(".")
    if kind == "multi":
        uses = data.get("uses")
        if not isinstance(uses, list) or {str(u).strip().upper() for u in uses} < {"P1", "P2"}:
            return Checked(question, answer, "not multi-passage", f"uses {uses!r}, not both P1 and P2")
    found = [row for row in passages if supported(answer, str(row["text"]))]
    if not found:
        where = " or ".join(str(row["id"]) for row in passages)
        return Checked(question, answer, "answer not found in its gold passage", f"not in {where}")
    spans = []
    for row in found:
        at = str(row["text"]).find(answer)
        if at >= 0:  # an exact occurrence: the span a reader should extract
            spans.append({"doc_id": row["id"], "start": at, "text": answer})
    check = f"answer found in gold passage {found[0]['id']} (normalised containment)"
    return Checked(question, answer, check=check, spans=spans[:1])
