"""Offline stand-ins for the parts of a real RAG pipeline, so the examples run with no server and no key:
a LangChain retriever over BM25 (bm25s), and a reader that quotes the retrieved sentence closest to the
question (where a real chain has its chat model)."""

import re
from typing import Any

import bm25s
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "the a an of to in on at is are was be for and or do does did how what who when where which".split()
)


class BM25Retriever(BaseRetriever):
    """BM25 over a list of Documents (built once); returns the top `k`, best first."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    documents: list[Document]
    k: int = 3
    index: Any = None

    @classmethod
    def from_documents(cls, documents: list[Document], k: int = 3) -> "BM25Retriever":
        index = bm25s.BM25()
        tokens = bm25s.tokenize([doc.page_content for doc in documents], stopwords="en", show_progress=False)
        index.index(tokens, show_progress=False)
        return cls(documents=documents, k=k, index=index)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        k = min(self.k, len(self.documents))
        ids, _ = self.index.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return [self.documents[i] for i in ids[0].tolist()]


def _words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _STOP}


def closest_sentence(question: str, documents: list[Document]) -> str:
    """The retrieved sentence sharing the most words with the question ("" when nothing was retrieved)."""
    wanted = _words(question)
    sentences = [s for doc in documents for s in re.split(r"(?<=[.!?])\s+", doc.page_content) if s.strip()]
    return max(sentences, key=lambda s: len(wanted & _words(s)), default="")
