"""What the tests' protocol servers (tests/local_server.py, tests/openai_server.py) answer: deterministic text
and vectors computed from the request alone, so a test can predict every reply.

- `ragas_reply`: JSON for the ragas 0.4.3 judge prompts, in the shape of each prompt's output model;
- `suitegen_reply`: JSON for the prompts of `harness suites generate` (harness/suitegen/prompts.py);
- `generator_reply`: the first sentence of passage [1] of a RAG prompt, or "I do not know.";
- `embed_text`: a hashed bag of words and trigrams, so related texts are nearer than unrelated ones.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from typing import Any

_NONCOMMITTAL = ("do not know", "don't know", "do not say", "not sure")
_STOPWORDS = frozenset(
    "that this with from have were what which there their they about into does than then when where also "
    "been being some such only other these those would could should".split()
)


def tokens(text: str) -> int:
    """The servers' token count of a text: a quarter of its characters, rounded up, at least 1."""
    return max(1, math.ceil(len(text) / 4))


def embed_text(text: str, dim: int) -> list[float]:
    """Signed feature hashing of words and their character trigrams, L2-normalised.

    Signed buckets keep unrelated texts near cosine 0, and trigrams give related word forms some overlap.
    """
    vec = [0.0] * dim
    words = re.findall(r"[a-z0-9]+", text.lower())
    features = [(w, 1.0) for w in words] + [(w[i : i + 3], 0.5) for w in words for i in range(len(w) - 2)]
    for feature, weight in features:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        vec[int.from_bytes(digest[:4], "little") % dim] += weight if digest[4] & 1 else -weight
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0.0:  # nothing to hash; a fixed unit vector keeps cosine defined downstream
        return [1.0] + [0.0] * (dim - 1)
    return [v / norm for v in vec]


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 3 and w not in _STOPWORDS]


def _supported(claim: str, context: str) -> tuple[int, str]:
    """Verdict 1 when most of the claim's content words occur in the context, with a reason saying so."""
    words, known = _content_words(claim), set(_content_words(context))
    hits = sum(w in known for w in words)
    verdict = int(bool(words) and 2 * hits > len(words))
    return verdict, f"{hits} of {len(words)} key words of the statement appear in the context."


def _statements(data: dict[str, Any]) -> dict[str, Any]:
    return {"statements": sentences(str(data.get("answer", "")))}


def _claims(data: dict[str, Any]) -> dict[str, Any]:
    return {"claims": sentences(str(data.get("response", "")))}


def _nli(data: dict[str, Any]) -> dict[str, Any]:
    context = str(data.get("context", ""))
    judged = []
    for statement in data.get("statements", []):
        verdict, reason = _supported(str(statement), context)
        judged.append({"statement": statement, "reason": reason, "verdict": verdict})
    return {"statements": judged}


def _question(data: dict[str, Any]) -> dict[str, Any]:
    response = str(data.get("response", ""))
    clause = re.split(r"[,.;:!?]", response.strip(), maxsplit=1)[0].strip()
    noncommittal = int(any(p in response.lower() for p in _NONCOMMITTAL))
    return {"question": f"What is {clause}?", "noncommittal": noncommittal}


def _precision(data: dict[str, Any]) -> dict[str, Any]:
    context, answer = str(data.get("context", "")), str(data.get("answer", ""))
    shared = set(_content_words(context)) & set(_content_words(answer))
    reason = f"The context shares {len(shared)} key words with the answer."
    return {"reason": reason, "verdict": int(bool(shared))}


def _recall(data: dict[str, Any]) -> dict[str, Any]:
    context = str(data.get("context", ""))
    rows = []
    for sentence in sentences(str(data.get("answer", ""))):
        attributed, reason = _supported(sentence, context)
        rows.append({"statement": sentence, "reason": reason, "attributed": attributed})
    return {"classifications": rows}


# A distinctive phrase of each ragas instruction (lowercased; both the classic prompts and the
# `metrics.collections` ones contain it) -> the handler that builds its output model from the input.
_RAGAS_HANDLERS: tuple[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]], ...] = (
    ("break down each sentence into one or more fully understandable statements", _statements),
    ("decompose and break down each of the input sentences", _claims),
    ("judge the faithfulness of a series of statements", _nli),
    ("generate a question for the given answer", _question),
    ("verify if the context was useful in arriving at the given answer", _precision),
    ("classify if the sentence can be attributed to the given context", _recall),
)
_RAGAS_INPUT_MARKER = "Now perform the same with the following input"


def ragas_reply(prompt: str) -> str | None:
    """JSON for a recognised ragas prompt, built from the input JSON that follows its last separator."""
    head, marker, tail = prompt.partition(_RAGAS_INPUT_MARKER)
    if not marker:
        return None
    handler = next((h for phrase, h in _RAGAS_HANDLERS if phrase in head.lower()), None)
    if handler is None:
        return None
    try:
        data = json.loads(tail[tail.index("{") : tail.rindex("}") + 1])
    except ValueError:
        return None
    return json.dumps(handler(data)) if isinstance(data, dict) else None


def generator_reply(text: str) -> str:
    """Answer with the first sentence of passage [1] when the prompt numbers its passages."""
    found = re.search(r"\[1\]\s*(.+?)(?=\n|\[2\]|$)", text)
    first = sentences(found.group(1)) if found else []
    return first[0] if first else "I do not know."


_SUITEGEN = re.compile(r"\[suite-generation:(single|multi|unanswerable)\]")


def suitegen_reply(prompt: str) -> str | None:
    """JSON for a `harness suites generate` prompt (harness/suitegen/prompts.py), built from its passages:
    a sentence's first half becomes the question and its second half, copied from the passage, the answer;
    the variant number picks the sentence, so a passage asked again gets another one."""
    found = _SUITEGEN.search(prompt)
    if found is None:
        return None
    kind, body = found.group(1), prompt[found.end() :]
    texts = re.findall(r"Passage P\d[^\n]*:\n(.*?)(?=\n\s*\nPassage P\d|\Z)", body, flags=re.S)
    variant = re.search(r"This is variant (\d+)", prompt)
    pick = int(variant.group(1)) - 1 if variant else 0
    halves = []
    for text in texts:
        found_sentences = sentences(" ".join(text.split())) or ["Nothing"]
        words = found_sentences[pick % len(found_sentences)].rstrip(".!?").split()
        cut = max(1, len(words) // 2)
        halves.append((" ".join(words[:cut]), " ".join(words[cut:]) or words[-1]))
    if not halves:
        return json.dumps({"question": ""})
    head, tail = halves[0]
    if kind == "unanswerable":
        return json.dumps({"question": f'Who first wrote "{head}", and in which year was it revised?'})
    question = f'What completes the statement "{head} ..."?'
    if kind == "multi" and len(halves) > 1:
        question = f'Given that "{halves[1][0]} {halves[1][1]}", what completes "{head} ..."?'
    return json.dumps({"question": question, "answer": tail, "answer_from": "P1", "uses": ["P1", "P2"]})
