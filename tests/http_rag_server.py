"""A user's RAG service, as the `http:` family meets it: BM25 over a suite's corpus and the closest sentence.

POST /ask {"query", "top_k"} -> {"data": {"answer", "sources": [{"id", "text"}]}, "usage": {...}}.

Tests start it on 127.0.0.1 with faults injected (local_server.py); by hand:
    python -m tests.http_rag_server --suite suites/smoke --port 8765
"""

from __future__ import annotations

import argparse
import contextlib
import threading
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from examples.offline_parts import BM25Retriever, closest_sentence
from harness.suite import load_suite
from tests.local_server import JsonServer


class RagService(JsonServer):
    name = "http-rag-server"

    def __init__(self, suite: Path | str, token: str | None = None, port: int = 0) -> None:
        super().__init__(port)
        corpus = load_suite(suite).corpus
        documents = [Document(page_content=p.text, id=p.id) for p in corpus]
        self.retriever = BM25Retriever.from_documents(documents)
        self.token = token
        self._retrieve_lock = threading.Lock()

    def reply(self, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        if path != "/ask":
            return 404, {"error": f"no route {path}"}
        if self.token is not None and headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"error": "missing or wrong bearer token"}
        question = body.get("query") if isinstance(body, dict) else None
        if not isinstance(question, str) or not question.strip():
            return 422, {"error": "'query' must be a non-empty string"}
        with self._retrieve_lock:
            found = self.retriever.model_copy(update={"k": int(body.get("top_k", 3))}).invoke(question)
        sources = [{"id": doc.id, "text": doc.page_content} for doc in found]
        answer = closest_sentence(question, found)
        # What a service with a model behind it reports: tokens read and written (here, words).
        usage = {"prompt_tokens": len(question.split()), "completion_tokens": len(answer.split())}
        return 200, {"data": {"answer": answer, "sources": sources}, "usage": usage}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="suites/smoke")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", help="require this bearer token")
    args = parser.parse_args()
    with RagService(args.suite, args.token, args.port) as service:
        print(f"serving {args.suite} at {service.url}/ask (Ctrl-C to stop)")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
