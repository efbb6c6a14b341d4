"""What the MLflow tests share: a RAG system that needs no training, free loopback ports, and the runs
of an experiment read back from the store the harness wrote to."""

import socket
from pathlib import Path
from typing import Any

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


def read_runs(experiment: str) -> list[Any]:
    """The runs (mlflow.entities.Run) of one experiment in the test's store, newest first; [] if none."""
    from mlflow.tracking import MlflowClient

    from harness.tracking import tracking_uri

    client = MlflowClient(tracking_uri())
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    return list(client.search_runs([found.experiment_id], order_by=["attributes.start_time DESC"]))
