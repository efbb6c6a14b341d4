"""What python: and http: systems share: reading what they return into a Reply, and naming its contexts.

The user's system retrieves by itself, so its contexts arrive as strings, {id, text} objects or LangChain
Documents. A context whose id is a corpus id keeps it; one without (a string, or an id of the user's own
index) is matched against the suite's corpus by its text: a whole passage, or a part of one (a chunk),
takes that passage's id, so hit@k, recall@k and MRR score it. One that matches nothing counts as a miss.
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any

from harness.systems.pipeline import Reply
from harness.values import Passage, SystemSpec

CLOSED_BOOK_KINDS = ("base", "finetuned")


class ReplyError(ValueError):
    """A reply the harness cannot read as an answer: the case fails with this reason."""


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


class CorpusMatcher:
    """Finds the corpus passage a context came from: by id, else by its text (whole or a part)."""

    def __init__(self, corpus: Sequence[Passage]) -> None:
        self.ids = {passage.id for passage in corpus}
        self._texts = [(passage.id, _normal(passage.text)) for passage in corpus]
        self._exact = {text: passage_id for passage_id, text in self._texts}

    def source(self, text: str, given_id: str | None) -> str:
        """The corpus id of a context, or "" when it is from no passage of the suite."""
        if given_id is not None and given_id in self.ids:
            return given_id
        wanted = _normal(text)
        if not wanted:
            return ""
        if wanted in self._exact:
            return self._exact[wanted]
        return next((passage_id for passage_id, body in self._texts if wanted in body), "")


def split_reply(value: Any) -> tuple[str, Any]:
    """(answer text, raw contexts or None) from what a system returned (the contract in docs/systems.md)."""
    if isinstance(value, str):
        return value, None
    if isinstance(value, Mapping):
        if "answer" not in value:
            keys = ", ".join(sorted(map(str, value))) or "none"
            raise ReplyError(f"the reply has no 'answer' key (keys: {keys})")
        answer, contexts = value["answer"], value.get("contexts", value.get("context"))
    elif hasattr(value, "answer"):
        answer, contexts = value.answer, getattr(value, "contexts", None)
    elif isinstance(getattr(value, "content", None), str):  # a chat model's message (a chain's last step)
        answer, contexts = value.content, None
    else:
        raise ReplyError(
            f"returned a {type(value).__name__}: expected a str, a dict with 'answer' (and 'contexts'), "
            "or an object with .answer"
        )
    if not isinstance(answer, str):
        raise ReplyError(f"the answer is a {type(answer).__name__}, not a str")
    return answer, contexts


# The token counts a reply may report, under OpenAI's names or LangChain's.
_USAGE_NAMES = {
    "prompt_tokens": ("prompt_tokens", "input_tokens"),
    "completion_tokens": ("completion_tokens", "output_tokens"),
}


def reply_usage(value: Any) -> dict[str, int]:
    """Tokens the system says it spent on this answer (`usage` in the reply), priced like a model's; {}
    when it says nothing (or something that is not a count)."""
    found = value.get("usage") if isinstance(value, Mapping) else getattr(value, "usage", None)
    if found is None and not isinstance(value, str | Mapping):  # a chat message
        found = getattr(value, "usage_metadata", None)
    if not isinstance(found, Mapping):
        return {}
    usage = {}
    for name, aliases in _USAGE_NAMES.items():
        count = next((found[alias] for alias in aliases if alias in found), None)
        if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
            usage[name] = count
    return usage


def tokens_of(value: Any) -> tuple[int, int]:
    """(input, output) tokens of a reply, for the usage ledger."""
    usage = reply_usage(value)
    return usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)


def _context(item: Any) -> tuple[str, str | None, str]:
    """(text, id or None, title) of one context: a str, a mapping, a LangChain Document or an object."""
    if isinstance(item, str):
        return item, None, ""
    if isinstance(item, Mapping):
        text, meta = item.get("text", item.get("page_content")), item.get("metadata") or {}
        found_id, title = item.get("id", meta.get("id")), item.get("title", meta.get("title", ""))
    elif hasattr(item, "page_content"):  # a LangChain Document: its id, else one kept in its metadata
        meta = getattr(item, "metadata", None) or {}
        text, found_id = item.page_content, getattr(item, "id", None) or meta.get("id")
        title = meta.get("title", "")
    elif hasattr(item, "text"):
        text, found_id, title = item.text, getattr(item, "id", None), getattr(item, "title", "")
    else:
        raise ReplyError(f"a context is a {type(item).__name__}: expected a str, {{id, text}} or a Document")
    if not isinstance(text, str):
        raise ReplyError("a context has no text ('text' or 'page_content')")
    return text, None if found_id is None else str(found_id), str(title or "")


def to_passages(raw: Any, matcher: CorpusMatcher, ids: Sequence[Any] | None = None) -> tuple[Passage, ...]:
    """The contexts as Passages, in the order given (retrieval metrics read it as the ranking)."""
    if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Sequence):
        raise ReplyError(f"the contexts are a {type(raw).__name__}, not a list")
    if ids is not None and len(ids) != len(raw):
        raise ReplyError(f"{len(ids)} context ids for {len(raw)} contexts")
    passages = []
    for number, item in enumerate(raw, start=1):
        text, found_id, title = _context(item)
        if ids is not None:
            found_id = str(ids[number - 1])
        source = matcher.source(text, found_id)
        passage_id = found_id or source or f"context-{number}"
        passages.append(
            Passage(id=passage_id, text=text, title=title, doc_id="" if source == passage_id else source)
        )
    return tuple(passages)


def to_reply(spec: SystemSpec, value: Any, matcher: CorpusMatcher, ids: Sequence[Any] | None = None) -> Reply:
    """A Reply from what the system returned, held to its declared kind; an unreadable reply is a failed
    case (its contexts then are not reported)."""
    try:
        text, raw = split_reply(value)
        if spec.kind in CLOSED_BOOK_KINDS:
            if raw:  # an empty list from a chain that did not retrieve is still closed-book
                raise ReplyError(
                    f"kind '{spec.kind}' is closed-book, but the system returned {len(raw)} contexts: "
                    "declare kind rag (or hybrid)"
                )
            contexts = None
        elif raw is None:
            raise ReplyError(
                f"kind '{spec.kind}' retrieves, but the reply names no contexts "
                "(return {'answer': ..., 'contexts': [...]})"
            )
        else:
            contexts = to_passages(raw, matcher, ids)
    except ReplyError as err:
        return Reply(error=f"{spec.generator.model}: {err}")
    return Reply(text=text.strip(), contexts=contexts, usage=reply_usage(value))
