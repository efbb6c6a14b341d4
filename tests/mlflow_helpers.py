"""What the MLflow tests share: a RAG system that needs no training, and free loopback ports."""

import socket
from pathlib import Path

CHEAP_RAG = "rag-extractive"


def cheap_rag(folder: Path) -> Path:
    """An offline RAG system with the extractive reader: retrieval only, no model to train, seconds to run."""
    path = folder / f"{CHEAP_RAG}.yaml"
    path.write_text(
        f"name: {CHEAP_RAG}\n"
        "kind: rag\n"
        "profile: offline\n"
        "description: BM25 + MiniLM retrieval quoted by the extractive reader (MLflow tests).\n"
        "retriever: {method: hybrid, top_k: 5, chunk_size: 192, chunk_overlap: 32}\n"
        "generator: {model: extractive, max_sentences: 1}\n",
        encoding="utf-8",
    )
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
