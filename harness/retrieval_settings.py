"""The retriever's settings in words, and the constants they are checked against (no heavy imports: the
report and the static site describe a run's retriever with it)."""

from typing import Any

MINILM_WINDOW = 256  # word pieces all-MiniLM-L6-v2 embeds (its max_seq_length); the rest is cut off
MRR_DEPTH = 10  # documents `mrr` looks at: MRR@10, the depth most published retrieval figures use


def describe_retriever(retriever: dict[str, Any] | None) -> str:
    """One line saying how a system retrieves, from the `retriever` block of its spec (as in run.json).

    Older run.json files lack the newer keys; what they did then is what the defaults say now, except the
    chunk unit (characters), which is spelled out.
    """
    if not retriever:
        return "closed-book (no retrieval)"
    method = retriever.get("method", "hybrid")
    encoder = retriever.get("embeddings", "offline:minilm")
    how = {
        "bm25": "BM25",
        "dense": f"dense ({encoder})",
        "hybrid": f"BM25 + dense ({encoder}) fused by RRF (k={retriever.get('rrf_k', 60)}) over the top "
        f"{retriever.get('fusion_depth', 'max(4 × top_k, 20)')} of each",
    }.get(method, method)
    unit = retriever.get("chunk_unit", "chars")
    unit_words = "characters" if unit == "chars" else "tokens"
    titles = "titles indexed" if retriever.get("index_titles", True) else "titles not indexed"
    rank = retriever.get("rank_depth")
    ranked = f"; {rank} documents ranked for the retrieval metrics" if rank is not None else ""
    return (
        f"{how}; chunks of {retriever.get('chunk_size')} {unit_words} (overlap "
        f"{retriever.get('chunk_overlap')}), {titles}; the generator reads the top "
        f"{retriever.get('top_k')} chunks{ranked}"
    )


CHARS_PER_TOKEN = 4  # about what one MiniLM word piece covers in English text (for estimates only)


def chunk_chars(retriever: Any) -> int:
    """A chunk's length in characters at most about (a token-sized chunk_size times CHARS_PER_TOKEN): what
    `--dry-run` assumes a retrieved passage costs before any has been retrieved."""
    per_unit = CHARS_PER_TOKEN if retriever.chunk_unit == "tokens" else 1
    return retriever.chunk_size * per_unit
