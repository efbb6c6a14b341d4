"""The guarded call path on its own: cache, retries that honour the retry delay, the ledger, redaction,
per-model settings, and judge-aware comparison tables. Model stand-ins raise the SDK's real errors."""

import time
from pathlib import Path
from typing import Any

import pytest
from google.genai import errors
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from harness.cache import Cache
from harness.errors import InputError
from harness.llm.guarded import CallFailed, GuardedChat, Runtime
from harness.llm.settings import ModelSettings, settings
from harness.llm.usage import LEDGER, metering, spent_since
from harness.privacy import scrub

RETRY_INFO = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.3s"}


class Scripted(BaseChatModel):
    """Raises the queued errors first, then answers; counts every call it receives."""

    queue: list[Any] = []
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **_: Any
    ) -> ChatResult:
        self.calls += 1
        if self.queue:
            raise self.queue.pop(0)
        reply = AIMessage(
            content=f"echo: {messages[-1].content}",
            usage_metadata={"input_tokens": 1000, "output_tokens": 100, "total_tokens": 1100},
            response_metadata={"finish_reason": "STOP"},
        )
        return ChatResult(generations=[ChatGeneration(message=reply)])


def guarded(
    inner: Scripted, store: Cache | None, model: str = "gemini:test-model", **limits: Any
) -> GuardedChat:
    config = ModelSettings(max_attempts=3, price={"input": 1.0, "output": 10.0}, **limits)
    runtime = Runtime(model, config)
    runtime.policy = type(runtime.policy)(max_attempts=3, base_s=0.01, max_s=0.05, jitter=0.0)
    return GuardedChat(
        inner=inner,
        model=model,
        params={"temperature": 0.0},
        purpose="metric:test",
        runtime=runtime,
        store=store,
    )


def rate_limited() -> errors.ClientError:
    return errors.ClientError(
        429,
        {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [RETRY_INFO]}},
    )


def test_a_429_waits_the_servers_retry_delay_then_succeeds_and_the_ledger_counts_it() -> None:
    inner = Scripted(queue=[rate_limited()])
    chat = guarded(inner, None, model="gemini:retry-model")
    before = LEDGER.snapshot()
    start = time.perf_counter()
    reply = chat.invoke("hello")
    assert time.perf_counter() - start >= 0.3  # the server said 0.3 s; backoff alone would be 0.01 s
    assert reply.content == "echo: hello" and inner.calls == 2
    spent = spent_since(before)[("gemini:retry-model", "metric:test")]
    assert (spent.requests, spent.rate_limited, spent.calls, spent.failed) == (2, 1, 1, 0)
    assert spent.cost_usd == pytest.approx((1000 * 1.0 + 100 * 10.0) / 1e6)


def test_a_second_identical_call_comes_from_the_cache_and_still_meters_its_tokens(tmp_path: Path) -> None:
    inner = Scripted()
    chat = guarded(inner, Cache(tmp_path / "c"), model="gemini:cache-model")
    first = chat.invoke("same prompt")
    before = LEDGER.snapshot()
    with metering() as meter:
        second = chat.invoke("same prompt")
    assert second.content == first.content and inner.calls == 1
    spent = spent_since(before)[("gemini:cache-model", "metric:test")]
    assert (spent.requests, spent.cached, spent.cost_usd) == (0, 1, 0.0)
    assert meter.total()["input_tokens"] == 1000  # a score's cost does not depend on the cache
    assert Cache(tmp_path / "c", enabled=False).get("anything") is None


def test_a_persistent_server_error_fails_after_max_attempts_and_a_bad_request_is_not_retried() -> None:
    server = errors.ServerError(500, {"error": {"code": 500, "message": "boom", "status": "INTERNAL"}})
    inner = Scripted(queue=[server] * 5)
    with pytest.raises(CallFailed) as failed:
        guarded(inner, None).invoke("x")
    assert failed.value.kind == "server" and failed.value.attempts == 3 and inner.calls == 3
    bad = errors.ClientError(400, {"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}})
    inner = Scripted(queue=[bad])
    with pytest.raises(CallFailed) as failed:
        guarded(inner, None).invoke("x")
    assert failed.value.attempts == 1 and inner.calls == 1


def test_keys_are_redacted_from_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "AIza" + "Q" * 35
    monkeypatch.setenv("GEMINI_API_KEY", "not-google-shaped-secret")
    text = f"url?key={key} and not-google-shaped-secret"
    assert scrub(text) == "url?key=[redacted] and [redacted]"
    failed = CallFailed("gemini:m", "server", 2, RuntimeError(f"header x-goog-api-key: {key}"))
    assert key not in str(failed)


def test_model_settings_come_from_models_yaml_and_a_user_file_merges_over_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flash = settings("gemini:gemini-2.5-flash")
    assert flash.rpm == 1000 and flash.price.output == 2.5
    assert settings("hf:some/model").rpm is None and settings("hf:some/model").cost(10**6, 10**6) == 0
    mine = tmp_path / "models.yaml"
    mine.write_text("models:\n  gemini:gemini-2.5-flash: {rpm: 10}\n", encoding="utf-8")
    monkeypatch.setenv("HARNESS_MODELS", str(mine))
    tuned = settings("gemini:gemini-2.5-flash")
    assert tuned.rpm == 10 and tuned.price.output == 2.5  # merged key by key, not replaced
    broken = tmp_path / "broken.yaml"
    broken.write_text("models:\n  gemini:gemini-2.5-flash: {rpmm: 10}\n", encoding="utf-8")
    monkeypatch.setenv("HARNESS_MODELS", str(broken))
    with pytest.raises(InputError, match="rpmm"):
        settings("gemini:gemini-2.5-flash")


def test_a_metric_graded_by_two_judges_is_two_columns_never_one() -> None:
    from harness.report import MetricSummary, Report, comparison_table

    def report(system: str, judge: str, mean: float) -> Report:
        summary = MetricSummary(
            higher_is_better=True, judge=judge, mean=mean, ci_low=mean, ci_high=mean, n_scored=3, n_unscored=0
        )
        return Report(
            run_id=system,
            created="",
            harness_version="",
            git={},
            suite={"name": "s", "version": 1},
            system={"name": system, "label": system, "kind": "rag"},
            judges=[judge],
            n_cases=3,
            summary={"faithfulness": summary},
        )

    table = comparison_table(
        [report("a", "gemini:x@t=0+offline:minilm", 0.9), report("b", "hf:y@t=0+offline:minilm", 0.5)]
    )
    assert "faithfulness [gemini:x@t=0+offline:minilm]" in table
    assert "faithfulness [hf:y@t=0+offline:minilm]" in table
    row_a = next(line for line in table.splitlines() if line.startswith("a "))
    assert "0.900" in row_a and "-" in row_a and "0.500" not in row_a
