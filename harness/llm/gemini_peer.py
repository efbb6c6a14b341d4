"""A local stand-in for the Gemini REST API, so the real langchain-google-genai client runs offline.

Tests and the throughput benchmark point `base_url` at a `GeminiPeer` and get the real client's behaviour
(serialisation, error classes, timeouts) against a server whose latency, rate limit and faults they control.
Replies are deterministic: scripted texts first, then a small table of handlers that answer ragas 0.4.3 judge
prompts with JSON their output models accept, and a naive "generator" for everything else.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

# "leak" is a 500 whose message echoes the caller's key, as a careless proxy might: it exercises the
# harness's redaction (Google's own errors never repeat the key).
# "cutoff" is a thinking model that spent its whole output budget thinking: no text, MAX_TOKENS.
FAULT_KINDS = ("429", "500", "slow", "malformed", "empty", "leak", "cutoff")
_PATH = re.compile(r"^/v1beta/models/([^/:]+):(generateContent|batchEmbedContents|embedContent)$")
_ERROR_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}
_BAD_KEY = "API key not valid. Please pass a valid API key."
_NONCOMMITTAL = ("do not know", "don't know", "do not say", "not sure")
_STOPWORDS = frozenset(
    "that this with from have were what which there their they about into does than then when where also "
    "been being some such only other these those would could should".split()
)


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


@dataclass
class _Fault:
    kind: str
    remaining: int
    match: str | None
    slow_s: float


# ---- deterministic content -------------------------------------------------------------------------------


def most_within(times: list[float], width: float) -> int:
    """The most of `times` that fit in any half-open window [t, t + width)."""
    ordered = sorted(times)
    best, first = 0, 0
    for last, t in enumerate(ordered):
        while t - ordered[first] >= width:
            first += 1
        best = max(best, last - first + 1)
    return best


def embed_text(text: str, dim: int) -> list[float]:
    """Signed feature hashing of words and their character trigrams, L2-normalised.

    Signed buckets keep unrelated texts near cosine 0, and trigrams give related word forms some overlap.
    """
    vec = [0.0] * dim
    words = re.findall(r"[a-z0-9]+", text.lower())
    features = [(w, 1.0) for w in words] + [(w[i : i + 3], 0.5) for w in words for i in range(len(w) - 2)]
    for feature, weight in features:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        vec[int.from_bytes(digest[:4], "little") % dim] += weight if digest[4] & 1 else -weight
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0.0:  # nothing to hash; a fixed unit vector keeps cosine defined downstream
        return [1.0] + [0.0] * (dim - 1)
    return [v / norm for v in vec]


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 3 and w not in _STOPWORDS]


def _supported(claim: str, context: str) -> tuple[int, str]:
    """Verdict 1 when most of the claim's content words occur in the context, with a reason saying so."""
    words, known = _content_words(claim), set(_content_words(context))
    hits = sum(w in known for w in words)
    verdict = int(bool(words) and 2 * hits > len(words))
    return verdict, f"{hits} of {len(words)} key words of the statement appear in the context."


def _statements(data: dict[str, Any]) -> dict[str, Any]:
    return {"statements": _sentences(str(data.get("answer", "")))}


def _claims(data: dict[str, Any]) -> dict[str, Any]:
    return {"claims": _sentences(str(data.get("response", "")))}


def _nli(data: dict[str, Any]) -> dict[str, Any]:
    context = str(data.get("context", ""))
    judged = []
    for statement in data.get("statements", []):
        verdict, reason = _supported(str(statement), context)
        judged.append({"statement": statement, "reason": reason, "verdict": verdict})
    return {"statements": judged}


def _question(data: dict[str, Any]) -> dict[str, Any]:
    response = str(data.get("response", ""))
    clause = re.split(r"[,.;:!?]", response.strip(), maxsplit=1)[0].strip()
    noncommittal = int(any(p in response.lower() for p in _NONCOMMITTAL))
    return {"question": f"What is {clause}?", "noncommittal": noncommittal}


def _precision(data: dict[str, Any]) -> dict[str, Any]:
    context, answer = str(data.get("context", "")), str(data.get("answer", ""))
    shared = set(_content_words(context)) & set(_content_words(answer))
    reason = f"The context shares {len(shared)} key words with the answer."
    return {"reason": reason, "verdict": int(bool(shared))}


def _recall(data: dict[str, Any]) -> dict[str, Any]:
    context = str(data.get("context", ""))
    rows = []
    for sentence in _sentences(str(data.get("answer", ""))):
        attributed, reason = _supported(sentence, context)
        rows.append({"statement": sentence, "reason": reason, "attributed": attributed})
    return {"classifications": rows}


# A distinctive phrase of each ragas instruction (lowercased; both the classic prompts and the
# `metrics.collections` ones contain it) -> the handler that builds its output model from the input.
_RAGAS_HANDLERS: tuple[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]], ...] = (
    ("break down each sentence into one or more fully understandable statements", _statements),
    ("decompose and break down each of the input sentences", _claims),
    ("judge the faithfulness of a series of statements", _nli),
    ("generate a question for the given answer", _question),
    ("verify if the context was useful in arriving at the given answer", _precision),
    ("classify if the sentence can be attributed to the given context", _recall),
)
_RAGAS_INPUT_MARKER = "Now perform the same with the following input"


def _ragas_reply(prompt: str) -> str | None:
    """JSON for a recognised ragas prompt, built from the input JSON that follows its last separator."""
    head, marker, tail = prompt.partition(_RAGAS_INPUT_MARKER)
    if not marker:
        return None
    handler = next((h for phrase, h in _RAGAS_HANDLERS if phrase in head.lower()), None)
    if handler is None:
        return None
    try:
        data = json.loads(tail[tail.index("{") : tail.rindex("}") + 1])
    except ValueError:
        return None
    return json.dumps(handler(data)) if isinstance(data, dict) else None


def _generator_reply(text: str) -> str:
    """Answer with the first sentence of passage [1] when the prompt numbers its passages."""
    found = re.search(r"\[1\]\s*(.+?)(?=\n|\[2\]|$)", text)
    sentences = _sentences(found.group(1)) if found else []
    return sentences[0] if sentences else "I do not know."


_SUITEGEN = re.compile(r"\[suite-generation:(single|multi|unanswerable)\]")


def _suitegen_reply(prompt: str) -> str | None:
    """JSON for a `harness suites generate` prompt (harness/suitegen/prompts.py), built from its passages:
    a sentence's first half becomes the question and its second half, copied from the passage, the answer;
    the variant number picks the sentence, so a passage asked again gets another one."""
    found = _SUITEGEN.search(prompt)
    if found is None:
        return None
    kind, body = found.group(1), prompt[found.end() :]
    texts = re.findall(r"Passage P\d[^\n]*:\n(.*?)(?=\n\s*\nPassage P\d|\Z)", body, flags=re.S)
    variant = re.search(r"This is variant (\d+)", prompt)
    pick = int(variant.group(1)) - 1 if variant else 0
    halves = []
    for text in texts:
        sentences = _sentences(" ".join(text.split())) or ["Nothing"]
        words = sentences[pick % len(sentences)].rstrip(".!?").split()
        cut = max(1, len(words) // 2)
        halves.append((" ".join(words[:cut]), " ".join(words[cut:]) or words[-1]))
    if not halves:
        return json.dumps({"question": ""})
    head, tail = halves[0]
    if kind == "unanswerable":
        return json.dumps({"question": f'Who first wrote "{head}", and in which year was it revised?'})
    question = f'What completes the statement "{head} ..."?'
    if kind == "multi" and len(halves) > 1:
        question = f'Given that "{halves[1][0]} {halves[1][1]}", what completes "{head} ..."?'
    return json.dumps({"question": question, "answer": tail, "answer_from": "P1", "uses": ["P1", "P2"]})


# ---- HTTP ------------------------------------------------------------------------------------------------


def _error(code: int, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "status": _ERROR_STATUS[code]}
    if details:
        body["details"] = details
    return {"error": body}


class _Server(ThreadingHTTPServer):
    """Daemon handler threads (a forgotten peer never blocks exit) that `server_close` still joins.

    socketserver only tracks non-daemon threads for joining, so this keeps its own list; it is touched by the
    serving thread alone, and read after that thread has stopped.
    """

    daemon_threads = True
    request_queue_size = 128
    peer: GeminiPeer
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
        self._reply(*cast(_Server, self.server).peer._handle("GET", self.path, self.headers, b""))

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._reply(*cast(_Server, self.server).peer._handle("POST", self.path, self.headers, body))

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except ConnectionError:
            pass


class GeminiPeer:
    """A threaded local server speaking enough of the Gemini REST API for langchain-google-genai.

    Every decision about a request (key, rate window, fault) is taken under one lock when it arrives, before
    the configured latency, so concurrent clients see a consistent window; `max_in_window` lets a test check
    that a client-side limiter never exceeded it.
    """

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
        self.port = port
        self.url = ""
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._log: list[Request] = []
        self._faults: list[_Fault] = []
        self._windows: dict[str, deque[float]] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def start(self) -> GeminiPeer:
        self._stopping.clear()
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.peer, server.handlers = self, []
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="gemini-peer", daemon=True
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

    def __enter__(self) -> GeminiPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control and inspection --

    def fail(self, kind: str, times: int = 1, match: str | None = None, slow_s: float = 2.0) -> None:
        """Queue a fault for the next `times` model requests whose prompt contains `match` (any if None)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._faults.append(_Fault(kind, times, match, slow_s))

    def log(self) -> list[Request]:
        with self._lock:
            return list(self._log)

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

    def _handle(self, verb: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
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
        fault: _Fault | None = None
        with self._lock:
            # Read the clock under the lock so window entries and log times are in order.
            arrival = time.monotonic()
            if status == 0:
                fault = next((f for f in self._faults if f.match is None or f.match in prompt), None)
                if fault is not None and fault.kind in ("429", "500", "leak"):
                    status, payload = self._error_fault(fault.kind, model)
                    if fault.kind == "leak":
                        payload = _error(500, f"Internal error for key {headers.get('x-goog-api-key')}.")
                elif not self._admit(model, arrival):
                    status, payload, fault = 429, self._rate_limited(model), None
                else:
                    status = 200
                if fault is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
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

    def _rate_limited(self, model: str) -> dict[str, Any]:
        delay = f"{self.retry_delay_s:g}s"
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

    def _error_fault(self, kind: str, model: str) -> tuple[int, dict[str, Any]]:
        if kind == "429":
            return 429, self._rate_limited(model)
        return 500, _error(500, "Internal error encountered.")

    def _generate(
        self, model: str, request: dict[str, Any], prompt: str, system: str, fault: str | None
    ) -> dict[str, Any]:
        prompt_tokens = _tokens(system + prompt)
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
                scripted = _ragas_reply(prompt) or _suitegen_reply(prompt)
            if scripted is None:
                scripted = _generator_reply(system + "\n" + prompt)
            text = scripted
        count = int((request.get("generationConfig") or {}).get("candidateCount") or 1)
        candidate = {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}
        output_tokens = _tokens(text)
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
    # SIGTERM too, so a benchmark that started the peer as a subprocess can end it cleanly.
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
