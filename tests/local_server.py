"""Local protocol servers for the tests and the benchmarks: threaded, on 127.0.0.1, with injectable faults.

- `LocalServer`: the machinery every stand-in shares: start and stop (every handler thread joined), a
  queue of faults for the next requests whose text contains a marker, and a log of what arrived.
- `JsonServer`: a JSON-over-POST server whose subclasses answer `reply(path, body, headers)`; the base of
  the OpenAI-compatible chat server (openai_server.py) and the user's RAG service (http_rag_server.py).
  Its faults are HTTP's: 429 with Retry-After, 5xx, a 4xx the client must not retry, a body that is not
  JSON, and a late reply.
- `GeminiPeer`: enough of the Gemini REST API for the real langchain-google-genai client, with a
  per-model sliding rate window (429 with RetryInfo), a latency, and Gemini's error bodies.

Replies are deterministic (tests/replies.py). The benchmarks import this module from the repository root
(benchmarks/judge_throughput.py puts the root on sys.path). By hand, a Gemini stand-in until Ctrl-C:
    .venv/bin/python -m tests.local_server --port 8765 --rpm 600
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast

from tests.replies import embed_text, generator_reply, ragas_reply, suitegen_reply, tokens

# ---- the machinery -----------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str
    remaining: int
    match: str | None
    retry_after_s: float | None  # None: the server's own delay
    slow_s: float


class _Server(ThreadingHTTPServer):
    """Daemon handler threads (a forgotten server never blocks exit) that `server_close` still joins.

    socketserver only tracks non-daemon threads for joining, so this keeps its own list; it is touched by the
    serving thread alone, and read after that thread has stopped.
    """

    daemon_threads = True
    request_queue_size = 128
    peer: LocalServer
    handlers: list[threading.Thread]

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self.process_request_thread, args=(request, client_address))
        thread.daemon = self.daemon_threads
        self.handlers = [t for t in self.handlers if t.is_alive()] + [thread]
        thread.start()

    def server_close(self) -> None:
        super().server_close()
        for thread in self.handlers:
            thread.join()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (its timeout fired) is expected here; anything else is reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0 closes each connection after its reply, so no handler thread idles on a kept-alive socket
    # and stop() can join them all.
    protocol_version = "HTTP/1.0"
    timeout = 10.0  # a client that connects and never sends cannot hold up stop() for longer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._reply("GET", b"")

    def do_POST(self) -> None:
        self._reply("POST", self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _reply(self, verb: str, raw: bytes) -> None:
        peer = cast(_Server, self.server).peer
        status, headers, data = peer.handle(verb, self.path, self.headers, raw)
        try:
            self.send_response(status)
            self.send_header("Content-Type", peer.content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except ConnectionError:
            pass


class LocalServer:
    """Start, stop, the fault queue and the log; a subclass decides each reply in `handle`."""

    name = "local-server"
    fault_kinds: tuple[str, ...] = ()
    content_type = "application/json"

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.url = ""
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # set by stop(): wakes handlers sleeping out a latency
        self._faults: list[Fault] = []
        self._log: list[Any] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        self._stopping.clear()
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.peer, server.handlers = self, []
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for every handler thread; sleeping handlers are woken so this is quick."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(
        self,
        kind: str,
        times: int = 1,
        match: str | None = None,
        retry_after_s: float | None = None,
        slow_s: float = 2.0,
    ) -> None:
        """The next `times` requests whose text contains `match` (any if None) get this fault; a 429 asks
        the client to wait `retry_after_s` (None: the server's default)."""
        if kind not in self.fault_kinds:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(self.fault_kinds)}")
        with self._lock:
            self._faults.append(Fault(kind, times, match, retry_after_s, slow_s))

    def log(self) -> list[Any]:
        """What arrived, in order of arrival (each subclass says what one entry holds)."""
        with self._lock:
            return list(self._log)

    def handle(self, verb: str, path: str, headers: Message, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        """(status, extra headers, body) for one request; runs on the request's own handler thread."""
        raise NotImplementedError

    def _pending(self, text: str) -> Fault | None:
        """The first queued fault that applies to a request with this text; the caller holds the lock."""
        return next((f for f in self._faults if f.match is None or f.match in text), None)

    def _spend(self, fault: Fault) -> None:
        """One use of a fault; the caller holds the lock."""
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._faults.remove(fault)


# ---- a JSON service (the OpenAI protocol, a user's RAG service) ----------------------------------------


@dataclass(frozen=True)
class Seen:
    """One request as a JsonServer saw it."""

    time: float
    path: str
    status: int
    fault: str | None
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


_HTTP_ERRORS = ("429", "500", "503", "400", "401", "404")


class JsonServer(LocalServer):
    """Subclasses answer `reply(path, body, headers)` -> (status, payload); faults and the log are here.

    A fault matches the raw request body. 'malformed' sends a truncated JSON body, 'slow' a reply that comes
    `slow_s` late (logged on arrival, so a test sees it while its client waits).
    """

    name = "json-server"
    fault_kinds = (*_HTTP_ERRORS, "malformed", "slow")
    retry_after_s = 0.2  # a 429 fault's Retry-After unless fail() gives one

    @property
    def requests(self) -> list[Seen]:
        return cast(list[Seen], self.log())

    def reply(self, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        raise NotImplementedError

    def handle(self, verb: str, path: str, headers: Message, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if verb != "POST":
            return 501, {}, json.dumps({"error": {"message": f"unsupported method {verb}"}}).encode()
        sent = dict(headers.items())
        text = raw.decode("utf-8", "replace")
        try:
            body: Any = json.loads(text) if text else {}
        except ValueError:
            body = None
        with self._lock:
            fault = self._pending(text)
            if fault is not None:
                self._spend(fault)
        kind = fault.kind if fault else None
        extra: dict[str, str] = {}
        if body is None:
            status, payload = 400, {"error": {"message": "the body is not JSON"}}
        elif kind in _HTTP_ERRORS:
            status = int(cast(str, kind))
            payload = {"error": {"message": f"injected {kind}", "type": "injected", "code": kind}}
            if kind == "429" and fault is not None:
                delay = self.retry_after_s if fault.retry_after_s is None else fault.retry_after_s
                extra["Retry-After"] = f"{delay:g}"
        else:
            status, payload = self.reply(path, body, sent)
        with self._lock:  # logged on arrival: a slow reply is in the log while its client waits
            self._log.append(Seen(time.monotonic(), path, status, kind, body, sent))
        if kind == "slow" and fault is not None:
            self._stopping.wait(fault.slow_s)
        data = b'{"choices": [{"message": ' if kind == "malformed" else json.dumps(payload).encode()
        return status, extra, data


# ---- the Gemini REST API ---------------------------------------------------------------------------------

_PATH = re.compile(r"^/v1beta/models/([^/:]+):(generateContent|batchEmbedContents|embedContent)$")
_ERROR_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}
_BAD_KEY = "API key not valid. Please pass a valid API key."


@dataclass(frozen=True)
class Request:
    """One request as the peer saw it; `time` is the monotonic arrival time, which the rate window uses."""

    time: float
    model: str
    method: str
    status: int
    fault: str | None
    prompt: str
    n_texts: int
    key_in_query: bool


def most_within(times: list[float], width: float) -> int:
    """The most of `times` that fit in any half-open window [t, t + width)."""
    ordered = sorted(times)
    best, first = 0, 0
    for last, t in enumerate(ordered):
        while t - ordered[first] >= width:
            first += 1
        best = max(best, last - first + 1)
    return best


def _error(code: int, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "status": _ERROR_STATUS[code]}
    if details:
        body["details"] = details
    return {"error": body}


class GeminiPeer(LocalServer):
    """A local stand-in for the Gemini REST API, so the real langchain-google-genai client runs offline.

    Tests and the throughput benchmark point `base_url` at it and get the real client's behaviour
    (serialisation, error classes, timeouts) against a server whose latency, rate limit and faults they
    control. Replies: scripted texts first (`sequences`, then `scripts`), then JSON for ragas judge and
    suite-generation prompts, then a naive generator. A fault matches the request's prompt text.

    Every decision about a request (key, rate window, fault) is taken under one lock when it arrives, before
    the configured latency, so concurrent clients see a consistent window; `max_in_window` lets a test check
    that a client-side limiter never exceeded it.
    """

    name = "gemini-peer"
    # "leak" is a 500 whose message echoes the caller's key, as a careless proxy might: it exercises the
    # harness's redaction (Google's own errors never repeat the key).
    # "cutoff" is a thinking model that spent its whole output budget thinking: no text, MAX_TOKENS.
    fault_kinds = ("429", "500", "slow", "malformed", "empty", "leak", "cutoff")
    content_type = "application/json; charset=UTF-8"

    def __init__(
        self,
        api_key: str = "peer-test-key",
        latency_s: float = 0.0,
        rpm: int | None = None,
        window_s: float = 60.0,
        retry_delay_s: float = 1.0,
        embed_dim: int = 64,
        scripts: dict[str, str] | None = None,
        port: int = 0,
        sequences: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(port)
        self.api_key = api_key
        self.latency_s = latency_s
        self.rpm = rpm
        self.window_s = window_s
        self.retry_delay_s = retry_delay_s
        self.embed_dim = embed_dim
        self.scripts = dict(scripts or {})
        # key -> replies: the n-th generate request whose prompt contains the key gets the n-th reply
        # (cycling), so a test can script a judge that disagrees with itself between repeats
        self.sequences = {key: list(replies) for key, replies in (sequences or {}).items()}
        self._sequence_calls: dict[str, int] = {}
        self._windows: dict[str, deque[float]] = {}

    # -- inspection --

    def log(self) -> list[Request]:
        return cast(list[Request], super().log())

    def accepted(self, model: str | None = None) -> list[Request]:
        return [r for r in self.log() if r.status == 200 and (model is None or r.model == model)]

    def max_in_window(self, model: str, window_s: float | None = None) -> int:
        """The most accepted requests for `model` whose arrivals fit in any half-open window of this width."""
        width = self.window_s if window_s is None else window_s
        return most_within([r.time for r in self.accepted(model)], width)

    def reset(self) -> None:
        with self._lock:
            self._log.clear()
            self._faults.clear()
            self._windows.clear()

    # -- request handling --

    def handle(self, verb: str, path: str, headers: Message, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        status, payload = self._handle(verb, path, headers, raw)
        return status, {}, json.dumps(payload).encode()

    def _handle(self, verb: str, raw_path: str, headers: Message, body: bytes) -> tuple[int, dict[str, Any]]:
        """Status and JSON body for one request; it is decided and logged before the latency sleep."""
        path, _, query = raw_path.partition("?")
        key_in_query = "key=" in query
        found = _PATH.match(path) if verb == "POST" else None
        model, method = found.groups() if found else ("", "")
        prompt, n_texts, system, request = "", 0, "", None
        if not found:
            status, payload = 404, _error(404, f"Requested entity was not found: {verb} {path}")
        elif headers.get("x-goog-api-key") != self.api_key:
            details: list[dict[str, Any]] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                },
                {
                    "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                    "locale": "en-US",
                    "message": _BAD_KEY,
                },
            ]
            status, payload = 400, _error(400, _BAD_KEY, details)
        else:
            try:
                request = json.loads(body)
                prompt, n_texts, system = _read_request(method, request)
                status, payload = 0, {}  # valid; the fault queue and rate window decide below
            except (ValueError, TypeError, AttributeError, KeyError):
                status, payload = 400, _error(400, "Invalid JSON payload received.")
        fault: Fault | None = None
        with self._lock:
            # Read the clock under the lock so window entries and log times are in order.
            arrival = time.monotonic()
            if status == 0:
                fault = self._pending(prompt)
                if fault is not None and fault.kind in ("429", "500", "leak"):
                    status, payload = self._error_fault(fault, model)
                    if fault.kind == "leak":
                        payload = _error(500, f"Internal error for key {headers.get('x-goog-api-key')}.")
                elif not self._admit(model, arrival):
                    status, payload, fault = 429, self._rate_limited(model, self.retry_delay_s), None
                else:
                    status = 200
                if fault is not None:
                    self._spend(fault)
            kind = fault.kind if fault else None
            self._log.append(Request(arrival, model, method, status, kind, prompt, n_texts, key_in_query))
        delay = self.latency_s + (fault.slow_s if fault is not None and fault.kind == "slow" else 0.0)
        if delay > 0:
            self._stopping.wait(delay)
        if status != 200:
            return status, payload
        if method == "generateContent":
            return 200, self._generate(model, cast(dict[str, Any], request), prompt, system, kind)
        return 200, self._embed(method, cast(dict[str, Any], request), kind)

    def _admit(self, model: str, now: float) -> bool:
        """Sliding-window check and record in one step; the caller holds the lock."""
        if self.rpm is None:
            return True
        window = self._windows.setdefault(model, deque())
        while window and now - window[0] >= self.window_s:
            window.popleft()
        if len(window) >= max(1, int(self.rpm * self.window_s / 60)):
            return False
        window.append(now)
        return True

    def _rate_limited(self, model: str, retry_delay_s: float) -> dict[str, Any]:
        delay = f"{retry_delay_s:g}s"
        details: list[dict[str, Any]] = [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                        "quotaDimensions": {"location": "global", "model": model},
                        "quotaValue": str(self.rpm),
                    }
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
        ]
        message = (
            "You exceeded your current quota, please check your plan and billing details. "
            f"Please retry in {delay}."
        )
        return _error(429, message, details)

    def _error_fault(self, fault: Fault, model: str) -> tuple[int, dict[str, Any]]:
        if fault.kind == "429":
            delay = self.retry_delay_s if fault.retry_after_s is None else fault.retry_after_s
            return 429, self._rate_limited(model, delay)
        return 500, _error(500, "Internal error encountered.")

    def _generate(
        self, model: str, request: dict[str, Any], prompt: str, system: str, fault: str | None
    ) -> dict[str, Any]:
        prompt_tokens = tokens(system + prompt)
        if fault == "empty":  # shaped like the reply to a blocked prompt (the API may omit `candidates`)
            usage = {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens}
            blocked = {"candidates": [], "promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": usage}
            return {**blocked, "modelVersion": model}
        if fault == "cutoff":
            budget = int((request.get("generationConfig") or {}).get("maxOutputTokens") or 64)
            usage = {
                "promptTokenCount": prompt_tokens,
                "thoughtsTokenCount": budget,
                "totalTokenCount": prompt_tokens + budget,
            }
            cut = {"content": {"role": "model"}, "finishReason": "MAX_TOKENS", "index": 0}
            return {"candidates": [cut], "usageMetadata": usage, "modelVersion": model}
        if fault == "malformed":
            text = "Sure! Here are the statements: statements one, two"
        else:
            scripted = self._next_in_sequence(prompt)
            if scripted is None:
                scripted = next((reply for key, reply in self.scripts.items() if key in prompt), None)
            if scripted is None:
                scripted = ragas_reply(prompt) or suitegen_reply(prompt)
            if scripted is None:
                scripted = generator_reply(system + "\n" + prompt)
            text = scripted
        count = int((request.get("generationConfig") or {}).get("candidateCount") or 1)
        candidate = {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}
        output_tokens = tokens(text)
        return {
            "candidates": [{**candidate, "index": i} for i in range(count)],
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": output_tokens * count,
                "totalTokenCount": prompt_tokens + output_tokens * count,
            },
            "modelVersion": model,
        }

    def _next_in_sequence(self, prompt: str) -> str | None:
        key = next((key for key in self.sequences if key in prompt), None)
        if key is None or not self.sequences[key]:
            return None
        with self._lock:
            count = self._sequence_calls.get(key, 0)
            self._sequence_calls[key] = count + 1
        replies = self.sequences[key]
        return replies[count % len(replies)]

    def _embed(self, method: str, request: dict[str, Any], fault: str | None) -> dict[str, Any]:
        """Vectors per text; a malformed fault halves their width and an empty one returns none."""
        items = request["requests"] if method == "batchEmbedContents" else [request]
        vectors = [
            embed_text(_parts_text(item["content"]), int(item.get("outputDimensionality") or self.embed_dim))
            for item in items
        ]
        if fault == "empty":
            vectors = []
        elif fault == "malformed":
            vectors = [v[: len(v) // 2] for v in vectors]
        if method == "batchEmbedContents":
            return {"embeddings": [{"values": v} for v in vectors]}
        return {"embedding": {"values": vectors[0]}} if vectors else {}


def _parts_text(content: dict[str, Any]) -> str:
    return "".join(str(part.get("text", "")) for part in content.get("parts", []))


def _read_request(method: str, request: Any) -> tuple[str, int, str]:
    """(prompt, number of texts, system text); raises ValueError on a body the real API would refuse."""
    if not isinstance(request, dict):
        raise ValueError("body is not a JSON object")
    if method == "generateContent":
        contents = request.get("contents")
        if not contents:
            raise ValueError("contents is not specified")
        user = [_parts_text(c) for c in contents if c.get("role", "user") == "user"]
        return "\n".join(user), len(user), _parts_text(request.get("systemInstruction") or {})
    items = request.get("requests") if method == "batchEmbedContents" else [request]
    if not items:
        raise ValueError("requests is not specified")
    texts = [_parts_text(item["content"]) for item in items]
    return "\n".join(texts), len(texts), ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a local Gemini stand-in until Ctrl-C.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every reply")
    parser.add_argument("--rpm", type=int, default=None, help="requests per minute per model")
    parser.add_argument("--window", type=float, default=60.0, help="rate window in seconds")
    parser.add_argument("--api-key", default="peer-test-key")
    args = parser.parse_args(argv)
    peer = GeminiPeer(args.api_key, args.latency, args.rpm, args.window, port=args.port).start()
    done = threading.Event()
    # SIGTERM too, so a script that started the peer as a subprocess can end it cleanly.
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        print(f"Gemini peer at {peer.url} (api key {args.api_key!r}); Ctrl-C stops it.", flush=True)
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        peer.stop()


if __name__ == "__main__":
    main()
