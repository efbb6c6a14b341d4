"""Retrieval over a chunked corpus: BM25 (bm25s), dense (MiniLM or a hosted encoder), and RRF fusion.

Two lists come out of one search: the `top_k` best chunks, which the generator reads, and the ranking of
distinct documents (`rank_depth` of them), which the retrieval metrics score. The first is always the
start of the chunk ranking the second is read from.
"""

import functools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from harness.cache import Cache
from harness.hashing import digest
from harness.models import minilm
from harness.values import DEFAULT_ENCODER, Passage, RetrieverSpec

# The chunk id format is read where the values are; re-exported for the chunker's callers.
from harness.values import chunk_range as chunk_range
from harness.values import chunks_holding as chunks_holding


@functools.cache
def _minilm_tokenizer():  # noqa: ANN202 (tokenizers.Tokenizer, imported lazily)
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(f"{minilm.model_path()}/tokenizer.json")
    # The shipped file pads and truncates to 128: a count must be the text's own length.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def count_tokens(text: str) -> int:
    """Word pieces of MiniLM's tokenizer, without [CLS]/[SEP]: what `chunk_unit: tokens` counts."""
    return len(_minilm_tokenizer().encode(text, add_special_tokens=False).ids)


def length_function(unit: str) -> Callable[[str], int]:
    """How chunk_size is measured. Tokens are always MiniLM's word pieces: the offline encoder's own, and
    for a hosted encoder or BM25 a stand-in, so that one chunk_size cuts a corpus the same way whichever
    retriever reads it (rag-bm25, rag-dense and rag-minilm see the same chunks)."""
    return count_tokens if unit == "tokens" else len


SEPARATORS = ("\n\n", "\n", ". ", " ", "")  # paragraph, line, sentence, word, character


class _Span(NamedTuple):
    start: int
    end: int
    length: int  # in the chunk unit


def _spans(text: str, lo: int, hi: int, size: int, measure: Callable[[str], int], level: int) -> list[_Span]:
    """text[lo:hi] cut into pieces no longer than `size`: at paragraphs where that is enough, else at
    lines, sentences, words, and as a last resort characters. A separator stays with the piece before it."""
    length = measure(text[lo:hi])
    if length <= size or level == len(SEPARATORS):
        return [_Span(lo, hi, length)]
    separator = SEPARATORS[level]
    if not separator:
        return [_Span(i, i + 1, measure(text[i])) for i in range(lo, hi)]
    bounds = [lo]
    found = text.find(separator, lo, hi)
    while found >= 0:
        bounds.append(found + len(separator))
        found = text.find(separator, found + len(separator), hi)
    bounds.append(hi)
    spans: list[_Span] = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        if a < b:
            spans.extend(_spans(text, a, b, size, measure, level + 1))
    return spans


def split_ranges(text: str, size: int, overlap: int, measure: Callable[[str], int]) -> list[tuple[int, int]]:
    """Character ranges of the chunks of `text`: pieces (see `_spans`) packed greedily up to `size`, each
    chunk starting with as many of the previous chunk's last pieces as fit in `overlap`; ranges exclude
    leading and trailing whitespace. Lengths add up piece by piece, which for word pieces is exact where
    pieces meet at whitespace (MiniLM's tokenizer splits there first)."""
    ranges: list[tuple[int, int]] = []
    window: list[_Span] = []
    total = 0
    for span in _spans(text, 0, len(text), size, measure, 0):
        if window and total + span.length > size:
            ranges.append((window[0].start, window[-1].end))
            while window and (total > overlap or total + span.length > size):
                total -= window.pop(0).length
        window.append(span)
        total += span.length
    if window:
        ranges.append((window[0].start, window[-1].end))
    stripped = []
    for a, b in ranges:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            stripped.append((a, b))
    return stripped


def chunk(corpus: Sequence[Passage], size: int, overlap: int, unit: str = "chars") -> list[Passage]:
    """Split passages longer than `size` (in `unit`) into overlapping chunks; shorter ones stay whole.

    A whole passage keeps its id. A piece of a longer one is `<id>#<start>-<end>`: its character range in
    the passage's text (see `chunk_range`). Every chunk's doc_id is the corpus item it came from, which is
    what gold ids and answer spans name.
    """
    measure = length_function(unit)
    overlap = min(overlap, size // 2)
    chunks: list[Passage] = []
    for passage in corpus:
        text = passage.text
        if measure(text) <= size:
            chunks.append(Passage(id=passage.id, text=text, title=passage.title, doc_id=passage.id))
            continue
        for start, end in split_ranges(text, size, overlap, measure):
            chunks.append(
                Passage(
                    id=f"{passage.id}#{start}-{end}",
                    text=text[start:end],
                    title=passage.title,
                    doc_id=passage.id,
                )
            )
    return chunks


def indexed_text(passage: Passage, titles: bool = True) -> str:
    """What retrieval indexes and embeds for a passage (title line first); tuning must see the same."""
    return f"{passage.title}\n{passage.text}" if titles and passage.title else passage.text


def top_indices(scores: np.ndarray, depth: int) -> np.ndarray:
    """Indices of the `depth` highest scores, best first, ties by lower index: what a stable descending
    argsort gives, from a partial sort (O(N) rather than O(N log N): at 100k passages the full sort was
    most of the time of a dense query)."""
    if depth >= len(scores):
        return np.argsort(-scores, kind="stable")
    if depth <= 0:
        return np.zeros(0, dtype=np.int64)
    kth = scores[np.argpartition(-scores, depth - 1)[depth - 1]]  # the depth-th highest value
    above = np.flatnonzero(scores > kth)
    chosen = np.concatenate([above, np.flatnonzero(scores == kth)[: depth - len(above)]])
    return chosen[np.lexsort((chosen, -scores[chosen]))]


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


class Retrieval(NamedTuple):
    """One question's results: the generator's chunks, and the documents the metrics score."""

    passages: list[Passage]  # the top_k chunks, best first, with their (fused) scores
    ranking: tuple[str, ...]  # distinct document ids, best first, up to rank_depth


class Retriever:
    """Ranks the chunks of a corpus for each question."""

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
        self.chunks = chunk(corpus, spec.chunk_size, spec.chunk_overlap, spec.chunk_unit)
        self.documents = len({passage.source_id for passage in self.chunks})
        self._bm25 = None
        self._vectors: np.ndarray | None = None
        texts = [indexed_text(passage, spec.index_titles) for passage in self.chunks]
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
        return [found.passages for found in self.retrieve(questions)]

    def retrieve(self, questions: Sequence[str]) -> list[Retrieval]:
        """Per question: the generator's top_k chunks and the ranking of rank_depth distinct documents.

        Each method's list is read `fusion_depth` deep and fused (hybrid), or used as it is (bm25, dense).
        Where that holds fewer than rank_depth documents (a long document's chunks crowd the top), the
        lists are read deeper and what they add is ranked after everything fused before, so the top of the
        ranking, the generator's chunks, never moves.
        """
        if self.spec.top_k == 0 or not questions or not self.chunks:
            return [Retrieval([], ()) for _ in questions]
        wanted = min(self.spec.rank_depth, self.documents)
        depth = min(len(self.chunks), max(self.spec.fusion_depth, self.spec.top_k, wanted))
        similarities = None
        if self._vectors is not None:
            similarities = self._embed_query(list(questions)) @ self._vectors.T
        results: list[Retrieval | None] = [None] * len(questions)
        pending = list(range(len(questions)))
        while pending:
            lists = self._lists([questions[row] for row in pending], depth, similarities, pending)
            for row, ranked in zip(pending, lists, strict=True):
                order, scores = self._order(ranked)
                documents = tuple(dict.fromkeys(self.chunks[i].source_id for i in order))
                if len(documents) >= wanted or depth == len(self.chunks):
                    passages = [
                        self.chunks[i].model_copy(update={"score": round(scores[i], 6)})
                        for i in order[: self.spec.top_k]
                    ]
                    results[row] = Retrieval(passages, documents[:wanted])
            pending = [row for row in pending if results[row] is None]
            depth = min(len(self.chunks), depth * 2)
        return [found for found in results if found is not None]

    def _lists(
        self, questions: list[str], depth: int, similarities: np.ndarray | None, rows: list[int]
    ) -> list[list[list[int]]]:
        """Per question, each method's chunk indices, best first, `depth` long."""
        lists: list[list[list[int]]] = [[] for _ in questions]
        if self._bm25 is not None:
            import bm25s

            tokens = bm25s.tokenize(questions, stopwords="en", show_progress=False)
            ids, _ = self._bm25.retrieve(tokens, k=depth, show_progress=False, n_threads=1)
            for position, ranking in enumerate(ids.tolist()):
                lists[position].append(ranking)
        if similarities is not None:
            for position, row in enumerate(rows):
                lists[position].append(top_indices(similarities[row], depth).tolist())
        return lists

    def _order(self, lists: list[list[int]]) -> tuple[list[int], dict[int, float]]:
        """The chunk ranking of one question and each chunk's score: RRF over the top fusion_depth of each
        list, then (past what that covers) RRF over the whole lists for the chunks not yet ranked."""
        rrf_k = self.spec.rrf_k
        if len(lists) == 1:
            fused = fuse(lists, rrf_k)
        else:
            fused = fuse([ranking[: self.spec.fusion_depth] for ranking in lists], rrf_k)
            ranked = {item for item, _ in fused}
            fused += [(item, score) for item, score in fuse(lists, rrf_k) if item not in ranked]
        return [item for item, _ in fused], dict(fused)
