"""A small threaded JSON server on 127.0.0.1 with injectable faults, the base of the tests' stand-ins for
an OpenAI-compatible chat server (openai_server.py) and a user's RAG service (http_rag_server.py)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, cast

from harness.llm.gemini_peer import _Server

# 429 with a Retry-After header, a 5xx, a 4xx the client must not retry, a body that is not JSON, and a
# reply that comes late (past a client's timeout).
FAULT_KINDS = ("429", "500", "503", "400", "401", "404", "malformed", "slow")


@dataclass
class Fault:
    kind: str
    remaining: int
    match: str | None
    retry_after_s: float
    slow_s: float


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it."""

    time: float
    path: str
    status: int
    fault: str | None
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: stop() can join every handler
    timeout = 10.0

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server = cast(Any, self.server).peer
        status, headers, data = server.handle(self.path, dict(self.headers.items()), raw)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except ConnectionError:
            pass


class LocalServer:
    """Subclasses answer `reply(path, body)` -> (status, payload); faults and the log are handled here."""

    name = "local-server"

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.url = ""
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._log: list[Seen] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> LocalServer:
        self._stopping.clear()
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.peer, server.handlers = self, []  # type: ignore[assignment]
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(
        self,
        kind: str,
        times: int = 1,
        match: str | None = None,
        retry_after_s: float = 0.2,
        slow_s: float = 2.0,
    ) -> None:
        """The next `times` requests whose body contains `match` (any if None) get this fault."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._faults.append(Fault(kind, times, match, retry_after_s, slow_s))

    @property
    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self._log)

    def reply(self, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        raise NotImplementedError

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes]:
        text = raw.decode("utf-8", "replace")
        try:
            body: Any = json.loads(text) if text else {}
        except ValueError:
            body = None
        with self._lock:
            fault = next(
                (f for f in self._faults if f.remaining > 0 and (f.match is None or f.match in text)), None
            )
            if fault is not None:
                fault.remaining -= 1
        kind = fault.kind if fault else None
        extra: dict[str, str] = {}
        if body is None:
            status, payload = 400, {"error": {"message": "the body is not JSON"}}
        elif kind in ("429", "500", "503", "400", "401", "404"):
            status = int(kind)
            payload = {"error": {"message": f"injected {kind}", "type": "injected", "code": kind}}
            if kind == "429" and fault is not None:
                extra["Retry-After"] = f"{fault.retry_after_s:g}"
        else:
            status, payload = self.reply(path, body, headers)
        with self._lock:  # logged on arrival: a slow reply is in the log while its client waits
            self._log.append(Seen(time.monotonic(), path, status, kind, body, headers))
        if kind == "slow" and fault is not None:
            self._stopping.wait(fault.slow_s)
        data = b'{"choices": [{"message": ' if kind == "malformed" else json.dumps(payload).encode()
        return status, extra, data
