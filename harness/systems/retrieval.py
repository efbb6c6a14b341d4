"""Retrieval over a chunked corpus: BM25 (bm25s), dense (MiniLM or a hosted encoder), and RRF fusion."""

from collections.abc import Callable, Sequence

import numpy as np

from harness.cache import Cache
from harness.hashing import digest
from harness.models import minilm
from harness.suite import Passage
from harness.system import DEFAULT_ENCODER, RetrieverSpec


def chunk(corpus: Sequence[Passage], size: int, overlap: int) -> list[Passage]:
    """Split long passages with LangChain's recursive splitter; short ones stay whole with their id."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=min(overlap, size // 2))
    chunks: list[Passage] = []
    for passage in corpus:
        pieces = splitter.split_text(passage.text) if len(passage.text) > size else [passage.text]
        for number, piece in enumerate(pieces):
            chunk_id = passage.id if len(pieces) == 1 else f"{passage.id}#{number}"
            chunks.append(Passage(id=chunk_id, text=piece, title=passage.title, doc_id=passage.id))
    return chunks


def indexed_text(passage: Passage) -> str:
    """What retrieval indexes and embeds for a passage (title line first); tuning must see the same."""
    return f"{passage.title}\n{passage.text}" if passage.title else passage.text


def fuse(rankings: Sequence[Sequence[int]], rrf_k: int) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: each list adds 1 / (rrf_k + rank) to the items it ranks (rank from 1)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (rrf_k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def _hosted_encoder(
    ref: str, cache: Cache | None
) -> tuple[Callable[[list[str]], np.ndarray], Callable[[list[str]], np.ndarray]]:
    """Document and query encoders for a hosted embedding model, unit-normalised like MiniLM's."""
    from harness.llm.backends import embedder

    encoder = embedder(ref, "retrieval", cache, where=f"retriever.embeddings '{ref}'")

    def unit(rows: list[list[float]]) -> np.ndarray:
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    return (
        lambda texts: unit(encoder.embed_documents(texts)),
        lambda questions: unit([encoder.embed_query(question) for question in questions]),
    )


class Retriever:
    """Finds the top_k chunks for each question."""

    def __init__(
        self,
        spec: RetrieverSpec,
        corpus: Sequence[Passage],
        cache: Cache | None = None,
        embed: Callable[[list[str]], np.ndarray] = minilm.embed,
        embed_id: str = minilm.MODEL_ID,
    ) -> None:
        """`embed` and `embed_id` swap in another dense encoder (a tuned MiniLM) and name it in cache keys;
        otherwise the spec's `embeddings` chooses it (a hosted one goes through the guarded client)."""
        self.spec = spec
        self._embed_query = embed
        if embed is minilm.embed and spec.embeddings != DEFAULT_ENCODER and spec.method != "bm25":
            embed, self._embed_query = _hosted_encoder(spec.embeddings, cache)
            embed_id = spec.embeddings
        self._embed = embed
        self.chunks = chunk(corpus, spec.chunk_size, spec.chunk_overlap)
        self._bm25 = None
        self._vectors: np.ndarray | None = None
        texts = [indexed_text(passage) for passage in self.chunks]
        if spec.method in ("bm25", "hybrid"):
            import bm25s

            self._bm25 = bm25s.BM25()
            self._bm25.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        if spec.method in ("dense", "hybrid"):
            key = Cache.key("embeddings", embed_id, digest(texts, length=32))
            vectors = cache.get(key) if cache else None
            if vectors is None:
                vectors = embed(texts)
                if cache:
                    cache.put(key, vectors)
            self._vectors = vectors

    def search(self, questions: Sequence[str]) -> list[list[Passage]]:
        """The top_k chunks per question, best first, with their fused (or single-method) scores."""
        if self.spec.top_k == 0 or not questions:
            return [[] for _ in questions]
        depth = min(len(self.chunks), max(self.spec.top_k * 4, 20))
        rankings: list[list[list[int]]] = [[] for _ in questions]
        if self._bm25 is not None:
            import bm25s

            tokens = bm25s.tokenize(list(questions), stopwords="en", show_progress=False)
            ids, _ = self._bm25.retrieve(tokens, k=depth, show_progress=False, n_threads=1)
            for row, ranking in enumerate(ids.tolist()):
                rankings[row].append(ranking)
        if self._vectors is not None:
            similarities = self._embed_query(list(questions)) @ self._vectors.T
            order = np.argsort(-similarities, axis=1, kind="stable")[:, :depth]
            for row, ranking in enumerate(order.tolist()):
                rankings[row].append(ranking)
        results = []
        for lists in rankings:
            fused = fuse(lists, self.spec.rrf_k)[: self.spec.top_k]
            results.append([self.chunks[i].model_copy(update={"score": round(s, 6)}) for i, s in fused])
        return results
