"""`http:<url>`: a running service under test, asked one case per POST with a JSON body.

The `http:` block of the system YAML maps harness values into the request and reads the answer and its
contexts from the reply (dotted paths with `[n]` and `[*]`). Requests go through the model runtime of the
guarded path: paced (http.rpm), bounded (generator.concurrency), timed out (http.timeout_s), and retried
on timeouts, connection errors, 429 (after its Retry-After) and 5xx; any other 4xx fails its case with the
status. Secrets reach headers only through ${ENV_VAR} references, expanded when the system is prepared.
"""

import contextvars
import copy
import os
import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import httpx

from harness import modelref
from harness.cache import Cache
from harness.errors import InputError
from harness.llm.guarded import CallFailed, Runtime, runtime
from harness.llm.settings import settings
from harness.privacy import scrub
from harness.systems.external import CLOSED_BOOK_KINDS, CorpusMatcher, ReplyError, to_reply, tokens_of
from harness.systems.pipeline import Answerer, Pipeline, Reply
from harness.systems.retrieval import Retriever
from harness.values import Case, HttpSpec, Passage, Suite, SystemSpec

DEFAULT_CONCURRENCY = 4
_STEP = re.compile(r"([A-Za-z_][\w-]*)?((?:\[(?:\d+|\*)\])*)")
_INDEX = re.compile(r"\[(\d+|\*)\]")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Header names whose values are credentials: these must be written as ${ENV_VAR}, never in the file.
_SECRET_HEADER = re.compile(r"authorization|cookie|key|token|secret|password", re.IGNORECASE)


def url_of(model: str) -> str:
    """`http:https://host/ask` -> `https://host/ask`; `http://host/ask` (the short form) stays as it is."""
    rest = modelref.name(model)
    return model if rest.startswith("//") else rest


def parse_path(text: str) -> list[str | int]:
    """`data.sources[*].text` -> ["data", "sources", "*", "text"]; ValueError when it is not a path."""
    steps: list[str | int] = []
    for part in text.split("."):
        match = _STEP.fullmatch(part)
        if not part or match is None or (match.group(1) is None and not match.group(2)):
            raise ValueError(f"'{text}' is not a path like data.answer or data.sources[*].text")
        if match.group(1):
            steps.append(match.group(1))
        steps += [index if index == "*" else int(index) for index in _INDEX.findall(match.group(2))]
    return steps


def extract(value: Any, steps: Sequence[str | int], shown: str) -> Any:
    """The value at a parsed path; `*` maps the rest of the path over a list. ReplyError when absent."""
    for position, step in enumerate(steps):
        if step == "*":
            if not isinstance(value, list):
                raise ReplyError(f"reply path '{shown}': expected a list, found {type(value).__name__}")
            return [extract(item, steps[position + 1 :], shown) for item in value]
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                raise ReplyError(f"reply path '{shown}': no item [{step}]")
            value = value[step]
        elif isinstance(value, dict) and step in value:
            value = value[step]
        else:
            keys = ", ".join(sorted(value)) if isinstance(value, dict) else type(value).__name__
            raise ReplyError(f"reply path '{shown}': no '{step}' (found: {keys or 'nothing'})")
    return value


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    names = path.split(".")
    for name in names[:-1]:
        body = body.setdefault(name, {})
    body[names[-1]] = value


def check_spec(spec: SystemSpec, where: str) -> None:
    """Everything about an http: system that can be checked without calling it (at load)."""
    url = url_of(spec.generator.model)
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as err:
        raise InputError(where, f"key 'generator.model': '{url}' is not a URL ({err})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InputError(where, f"key 'generator.model': '{url}' is not an http:// or https:// URL")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise InputError(where, f"key 'generator.model': port {parsed.port} of '{url}' is not 1 to 65535")
    http = spec.http or HttpSpec()
    paths = {
        "http.answer": http.answer,
        "http.contexts": http.contexts,
        "http.context_ids": http.context_ids,
        "http.usage": http.usage,
    }
    for key, path in paths.items():
        if path is not None:
            try:
                parse_path(path)
            except ValueError as err:
                raise InputError(where, f"key '{key}': {err}") from None
    for field, target in http.request.items():
        if not all(re.fullmatch(r"[A-Za-z_][\w-]*", name) for name in target.split(".")):
            raise InputError(
                where, f"key 'http.request.{field}': '{target}' is not a field name like input.query"
            )
    if spec.kind not in CLOSED_BOOK_KINDS and http.contexts is None:
        raise InputError(where, f"key 'http.contexts': a {spec.kind} system's reply must name its contexts")
    for name, value in http.headers.items():
        if _SECRET_HEADER.search(name) and not _VARIABLE.search(value):
            raise InputError(
                where,
                f"key 'http.headers.{name}': write the secret as ${{ENV_VAR}}, never in the file "
                "(it would be stored with the run)",
            )


def _headers(spec: SystemSpec) -> tuple[dict[str, str], list[str]]:
    """Headers with their ${ENV_VAR} references expanded, and the expanded secrets (to scrub from errors)."""
    http = spec.http or HttpSpec()
    expanded, secrets = {}, []
    for name, value in http.headers.items():
        for variable in _VARIABLE.findall(value):
            found = os.environ.get(variable)
            if not found:
                raise InputError(
                    f"system '{spec.name}'",
                    f"key 'http.headers.{name}': environment variable {variable} is not set",
                )
            secrets.append(found)
        expanded[name] = _VARIABLE.sub(lambda match: os.environ[match.group(1)], value)
    return expanded, secrets


class ServiceAnswerer(Answerer):
    """POSTs each case to the service and reads its answer (and contexts) from the JSON reply."""

    times_itself = True  # each request is timed on its own (the requests of a batch overlap)

    def __init__(self, spec: SystemSpec) -> None:
        self.spec = spec
        self.http = spec.http or HttpSpec()
        self.url = url_of(spec.generator.model)
        self.concurrency = spec.generator.concurrency or DEFAULT_CONCURRENCY
        self.matcher = CorpusMatcher(())
        self._headers: dict[str, str] = {}
        self._secrets: list[str] = []
        self._runtime: Runtime | None = None

    def prepare(self, suite: Suite, retriever: Retriever | None) -> None:
        self.matcher = CorpusMatcher(suite.corpus)
        self._headers, self._secrets = _headers(self.spec)
        ref = self.spec.generator.model
        config = settings(ref).model_copy(
            update={
                "rpm": self.http.rpm,
                "tpm": None,
                "concurrency": self.concurrency,
                "timeout_s": self.http.timeout_s,
                "max_attempts": self.http.max_attempts,
            }
        )
        self._runtime = runtime(ref, config)

    def answer(self, cases: Sequence[Case], contexts: Sequence[Sequence[Passage]] | None) -> list[Reply]:
        if self._runtime is None:
            raise RuntimeError("prepare() must run before answer()")
        threads = min(len(cases), self.concurrency) or 1
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures = [pool.submit(contextvars.copy_context().run, self._one, case) for case in cases]
            return [future.result() for future in futures]

    def _request(self, case: Case) -> dict[str, Any]:
        body = copy.deepcopy(self.http.body)
        values = {"question": case.question, "case_id": case.id}
        for field, target in self.http.request.items():
            _put(body, target, values[field])
        return body

    def _post(self, body: dict[str, Any]) -> Any:
        response = httpx.post(self.url, json=body, headers=self._headers, timeout=self.http.timeout_s)
        response.raise_for_status()  # 429 and 5xx are retried by the runtime, other statuses fail the case
        try:
            return response.json()
        except ValueError as err:
            raise ReplyError(f"the reply is not JSON ({err})") from None

    def _usage(self, reply: Any) -> Any:
        """What the reply says it spent (http.usage), or None: a missing usage is not an error."""
        if self.http.usage is None:
            return None
        try:
            return extract(reply, parse_path(self.http.usage), self.http.usage)
        except ReplyError:
            return None

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return scrub(text)

    def _one(self, case: Case) -> Reply:
        assert self._runtime is not None
        start = time.perf_counter()
        body = self._request(case)
        try:
            reply = self._runtime.call(
                lambda: self._post(body),
                f"system:{self.spec.name}",
                0,
                lambda found: tokens_of({"usage": self._usage(found)}),
            )
        except CallFailed as err:
            return Reply(error=self._scrub(str(err))[:500], latency_s=time.perf_counter() - start)
        latency = time.perf_counter() - start
        try:
            answer = extract(reply, parse_path(self.http.answer), self.http.answer)
            value: dict[str, Any] = {"answer": answer, "usage": self._usage(reply)}
            ids = None
            if self.spec.kind not in CLOSED_BOOK_KINDS and self.http.contexts is not None:
                value["contexts"] = extract(reply, parse_path(self.http.contexts), self.http.contexts)
                if self.http.context_ids is not None:
                    ids = extract(reply, parse_path(self.http.context_ids), self.http.context_ids)
                    if not isinstance(ids, list):
                        raise ReplyError(f"reply path '{self.http.context_ids}': expected a list")
        except ReplyError as err:
            return Reply(error=f"{self.spec.generator.model}: {err}", latency_s=latency)
        return replace(to_reply(self.spec, value, self.matcher, ids), latency_s=latency)


def http(spec: SystemSpec, cache: Cache | None = None) -> Pipeline:
    """The factory for `http:<url>` (and a URL written without the prefix)."""
    check_spec(spec, f"system '{spec.name}'")
    return Pipeline(spec, ServiceAnswerer(spec), cache)
