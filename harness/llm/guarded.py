"""Guarded calls: every LLM and embedding call is cached, paced, bounded, retried, timed out and metered.

`GuardedChat` is a LangChain chat model and `GuardedEmbeddings` a LangChain Embeddings object, so ragas
and the generators use them like any other; underneath, the real client (ChatGoogleGenerativeAI, a local
hf: model, MiniLM) is called with its own retries switched off, and the harness owns the retry policy.
"""

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict

from harness import modelref
from harness.cache import Cache
from harness.llm.limits import (
    DiscoveringLimiter,
    EmptyReply,
    RateLimiter,
    RetryPolicy,
    classify,
    retry_hint,
)
from harness.llm.settings import LOCAL_FAMILIES, ModelSettings
from harness.llm.usage import LEDGER, Tally, attribute
from harness.privacy import scrub

T = TypeVar("T")
MAX_RETRY_DELAY_S = 300.0  # a server asking for a longer wait than this is out of quota, not busy
DEFAULT_OUTPUT_ESTIMATE = 256  # tokens budgeted for a reply when the call sets no max_output_tokens


def estimate_tokens(text: str) -> int:
    """About four characters a token: what the TPM budget books before the server reports the truth."""
    return max(1, math.ceil(len(text) / 4))


class CallFailed(RuntimeError):
    """A call that still failed after the retry policy gave up (or that must not be retried)."""

    def __init__(self, model: str, kind: str | None, attempts: int, err: BaseException) -> None:
        what = {
            "rate_limit": "rate limited (429)",
            "server": "server error (5xx)",
            "timeout": "timed out",
            "connection": "connection failed",
            "empty": "empty reply (no candidates)",
        }.get(kind or "", "failed")
        detail = scrub(f"{type(err).__name__}: {err}")[:300]
        super().__init__(f"{model}: {what} after {attempts} attempt{'s' * (attempts > 1)} ({detail})")
        self.what = f"{model} {what}"
        self.kind = kind
        self.attempts = attempts


@dataclass
class Runtime:
    """What every caller of one model shares: its settings, pace, concurrency slots and retry policy."""

    model: str
    settings: ModelSettings
    limiter: RateLimiter = field(init=False)
    slots: threading.BoundedSemaphore = field(init=False)
    policy: RetryPolicy = field(init=False)
    remote: bool = field(init=False)

    def __post_init__(self) -> None:
        # In-process models (hf:, offline:) make calls but send no requests.
        self.remote = modelref.family(self.model) not in LOCAL_FAMILIES
        rpm, tpm, headroom = self.settings.rpm, self.settings.tpm, self.settings.headroom
        if rpm == "auto":  # nobody wrote the limit down: learn it from the server's 429s
            self.limiter = (
                DiscoveringLimiter(tpm, headroom) if self.remote else RateLimiter(None, tpm, headroom)
            )
        else:
            self.limiter = RateLimiter(rpm, tpm, headroom)
        self.slots = threading.BoundedSemaphore(self.settings.concurrency)
        self.policy = RetryPolicy(max_attempts=self.settings.max_attempts)

    def call(
        self, fn: Callable[[], T], purpose: str, estimate: int, tokens: Callable[[T], tuple[int, int]]
    ) -> T:
        """Run `fn` under the limits, retrying what can succeed later; bill what it used to `purpose`."""
        spent = Tally()
        attempt = 0
        try:
            while True:
                attempt += 1
                with self.slots:
                    slot = self.limiter.acquire(estimate)
                    spent.requests += self.remote
                    try:
                        value = fn()
                    except Exception as err:  # classified below: retried, or raised as CallFailed
                        self.limiter.settle(estimate, 0)
                        kind, hint = classify(err), retry_hint(err)
                        hopeless = hint is not None and hint > MAX_RETRY_DELAY_S  # e.g. a daily quota
                        if kind is None or attempt >= self.policy.max_attempts or hopeless:
                            spent.failed += 1
                            spent.rate_limited += kind == "rate_limit"
                            raise CallFailed(self.model, kind, attempt, err) from err
                        wait = self.policy.delay(attempt, hint)
                        if kind == "rate_limit":
                            # The server is over its limit for everyone: every caller of this model waits.
                            spent.rate_limited += 1
                            self.limiter.rejected(slot)
                            self.limiter.pause(wait)
                    else:
                        used_in, used_out = tokens(value)
                        self.limiter.settle(estimate, used_in + used_out)
                        spent.calls += 1
                        spent.input_tokens += used_in
                        spent.output_tokens += used_out
                        spent.cost_usd += self.settings.cost(used_in, used_out)
                        return value
                time.sleep(wait)  # outside the slot: a waiting retry does not hold up other calls
        finally:
            LEDGER.record(self.model, purpose, spent)


_RUNTIMES: dict[str, Runtime] = {}
_RUNTIMES_LOCK = threading.Lock()


def runtime(model: str, settings: ModelSettings) -> Runtime:
    """The one Runtime of `model` in this process (generator and judge on one model share its limits)."""
    with _RUNTIMES_LOCK:
        found = _RUNTIMES.get(model)
        if found is None or found.settings != settings:
            found = _RUNTIMES[model] = Runtime(model, settings)
        return found


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)


class GuardedChat(BaseChatModel):
    """A chat model whose calls go through the harness's cache, limits, retries and ledger."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    inner: Any
    model: str
    params: dict[str, Any]
    purpose: str
    runtime: Any
    store: Any = None  # harness Cache, or None for no call cache

    @property
    def _llm_type(self) -> str:
        return "harness-guarded"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, **self.params}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        prompt = [(message.type, _text(message)) for message in messages]
        key = Cache.key("llm-call", self.model, self.params, prompt, stop)
        stored = self.store.get(key) if self.store is not None else None
        if stored is None:
            estimate = estimate_tokens("".join(text for _, text in prompt)) + int(
                self.params.get("max_output_tokens") or DEFAULT_OUTPUT_ESTIMATE
            )
            stored = self.runtime.call(
                lambda: self._ask(messages, stop), self.purpose, estimate, lambda reply: _usage(reply)
            )
            if self.store is not None:
                self.store.put(key, stored)
        else:
            LEDGER.record(self.model, self.purpose, Tally(cached=1))
        used_in, used_out = _usage(stored)
        attribute(
            self.model,
            Tally(
                calls=1,
                input_tokens=used_in,
                output_tokens=used_out,
                cost_usd=self.runtime.settings.cost(used_in, used_out),
            ),
        )
        finish = stored.get("finish_reason") or "STOP"
        message = AIMessage(
            content=stored["text"],
            usage_metadata={
                "input_tokens": used_in,
                "output_tokens": used_out,
                "total_tokens": used_in + used_out,
            },
            response_metadata={"finish_reason": finish, "latency_s": stored.get("latency_s", 0.0)},
        )
        return ChatResult(
            generations=[ChatGeneration(message=message, generation_info={"finish_reason": finish})]
        )

    def _ask(self, messages: list[BaseMessage], stop: list[str] | None) -> dict[str, Any]:
        start = time.perf_counter()
        reply = self.inner.invoke(messages, stop=stop)
        text = _text(reply)
        finish = (reply.response_metadata or {}).get("finish_reason")
        if not text and finish in (None, "", "FINISH_REASON_UNSPECIFIED"):
            raise EmptyReply(f"{self.model} returned no candidates")
        usage = reply.usage_metadata or {}
        prompt_text = "".join(_text(message) for message in messages)
        return {
            "text": text,
            "finish_reason": finish or "STOP",
            "input_tokens": int(usage.get("input_tokens") or estimate_tokens(prompt_text)),
            "output_tokens": int(usage.get("output_tokens") or estimate_tokens(text)),
            "latency_s": round(time.perf_counter() - start, 6),
        }


def _usage(stored: dict[str, Any]) -> tuple[int, int]:
    return int(stored["input_tokens"]), int(stored["output_tokens"])


class GuardedEmbeddings(Embeddings):
    """An Embeddings object whose calls are cached per text, paced, retried and billed like chat calls."""

    def __init__(
        self, inner: Embeddings, model: str, purpose: str, runtime: Runtime, store: Cache | None
    ) -> None:
        self.inner = inner
        self.model = model
        self.purpose = purpose
        self.runtime = runtime
        self.store = store

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed("document", texts)

    def embed_query(self, text: str) -> list[float]:
        return self._embed("query", [text])[0]

    def _embed(self, task: str, texts: Sequence[str]) -> list[list[float]]:
        keys = [Cache.key("embed-call", self.model, task, text) for text in texts]
        found: dict[int, list[float]] = {}
        if self.store is not None:
            for row, key in enumerate(keys):
                if (vector := self.store.get(key)) is not None:
                    found[row] = vector
        if found:
            LEDGER.record(self.model, self.purpose, Tally(cached=len(found)))
        missing = [row for row in range(len(texts)) if row not in found]
        if missing:
            wanted = [texts[row] for row in missing]
            estimate = sum(estimate_tokens(text) for text in wanted)

            def ask() -> list[list[float]]:
                try:
                    if task == "query":
                        vectors = [self.inner.embed_query(wanted[0])]
                    else:
                        vectors = list(self.inner.embed_documents(wanted))
                except IndexError as err:  # langchain-google-genai's embed_query on an empty reply
                    raise EmptyReply(f"{self.model} returned no embedding") from err
                # The client passes a short reply through silently; a missing vector must not shift the rest.
                if len(vectors) != len(wanted) or len({len(vector) for vector in vectors}) > 1:
                    got = f"{len(vectors)} embeddings for {len(wanted)} texts"
                    raise EmptyReply(f"{self.model} returned {got}")
                return [list(map(float, vector)) for vector in vectors]

            # Embedding APIs report no token usage; the estimate is what is billed and shown.
            vectors = self.runtime.call(ask, self.purpose, estimate, lambda _: (estimate, 0))
            for row, vector in zip(missing, vectors, strict=True):
                found[row] = vector
                if self.store is not None:
                    self.store.put(keys[row], vector)
        tokens = sum(estimate_tokens(text) for text in texts)
        attribute(
            self.model, Tally(calls=1, input_tokens=tokens, cost_usd=self.runtime.settings.cost(tokens, 0))
        )
        return [found[row] for row in range(len(texts))]
