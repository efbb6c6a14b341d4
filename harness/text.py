"""Text normalisation shared by the reader and the metrics: sentences and SQuAD-style tokens."""

import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
STOPWORDS = frozenset(
    (
        "a an the of to in on for and or is are was were be been by with at from as it its this "
        "that what which who whom whose when where why how do does did can could should would will "
        "i you we they he she me my our your their not no yes there"
    ).split()
)


def normalise(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def tokens(text: str) -> list[str]:
    return normalise(text).split()


def content_tokens(text: str) -> set[str]:
    """Normalised tokens without stop words: what lexical overlap is measured on."""
    return {token for token in tokens(text) if token not in STOPWORDS}


def sentences(text: str) -> list[str]:
    """Split a passage into sentences at ., ! or ? followed by a capital or digit."""
    return [part.strip() for part in _SENTENCE_END.split(text.strip()) if part.strip()]
