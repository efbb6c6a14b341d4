"""A local OpenAI-protocol server (chat completions and embeddings), as local_server.GeminiPeer is for
Gemini: the real langchain-openai client runs against it offline, with latency and faults the tests set.

Replies are deterministic (tests/replies.py): a scripted text whose key the prompt contains, else JSON for
a recognised ragas judge prompt, else the first sentence of passage [1] of a RAG prompt.
"""

from __future__ import annotations

import base64
import struct
import time
from typing import Any

from tests.local_server import JsonServer
from tests.replies import embed_text, generator_reply, ragas_reply
from tests.replies import tokens as _tokens


class OpenAIServer(JsonServer):
    name = "openai-server"

    def __init__(
        self,
        api_key: str | None = None,
        scripts: dict[str, str] | None = None,
        embed_dim: int = 64,
        latency_s: float = 0.0,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.api_key = api_key
        self.scripts = dict(scripts or {})
        self.embed_dim = embed_dim
        self.latency_s = latency_s

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def completions(self) -> list[Any]:
        """The bodies of the chat requests that were answered (status 200)."""
        return [r.body for r in self.requests if r.path.endswith("/chat/completions") and r.status == 200]

    def reply(self, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        if self.api_key is not None and headers.get("Authorization") != f"Bearer {self.api_key}":
            error = {"message": "Incorrect API key provided.", "type": "invalid_request_error"}
            return 401, {"error": {**error, "code": "invalid_api_key"}}
        if self.latency_s:
            time.sleep(self.latency_s)
        if path == "/v1/chat/completions":
            return 200, self._chat(body)
        if path == "/v1/embeddings":
            return 200, self._embeddings(body)
        return 404, {"error": {"message": f"no route {path}", "type": "invalid_request_error"}}

    def answer_for(self, prompt: str) -> str:
        for key, text in self.scripts.items():
            if key in prompt:
                return text
        return ragas_reply(prompt) or generator_reply(prompt)

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        prompt = "\n\n".join(str(message.get("content", "")) for message in body.get("messages", []))
        text, finish = self.answer_for(prompt), "stop"
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        if limit is not None and _tokens(text) > int(limit):
            text, finish = text[: int(limit) * 4], "length"
        used_in, used_out = _tokens(prompt), _tokens(text)
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
            ],
            "usage": {
                "prompt_tokens": used_in,
                "completion_tokens": used_out,
                "total_tokens": used_in + used_out,
            },
        }

    def _embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        texts = body.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        rows = []
        for index, text in enumerate(texts):
            vector: Any = embed_text(str(text), self.embed_dim)
            if body.get("encoding_format") == "base64":  # the openai client asks for this by default
                vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            rows.append({"object": "embedding", "index": index, "embedding": vector})
        used = sum(_tokens(str(text)) for text in texts)
        return {
            "object": "list",
            "data": rows,
            "model": body.get("model", ""),
            "usage": {"prompt_tokens": used, "total_tokens": used},
        }
