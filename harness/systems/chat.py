"""Systems around a hosted chat model (`gemini:<model>`, or `openai:<model>` on any OpenAI-compatible
server named by generator.base_url): closed-book, or fed retrieved passages.

The harness does not fine-tune hosted models; a model tuned elsewhere is `generator.tuned: true`. Every
call goes through the guarded client: cached, paced under the model's limits, retried, and billed.
Nothing here loads torch: filling a prompt template is text work (template.py).
"""

import contextvars
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness.cache import Cache
from harness.errors import InputError
from harness.llm import backends
from harness.llm.guarded import GuardedChat
from harness.llm.settings import settings
from harness.privacy import scrub
from harness.systems.pipeline import Answerer, Pipeline, Reply
from harness.systems.retrieval import Retriever
from harness.systems.template import fill, template_of
from harness.values import Case, Passage, Suite, SystemSpec


class ChatAnswerer(Answerer):
    """Asks the model once per case at temperature 0, up to the model's concurrency at a time."""

    times_itself = True  # each call's own latency: a cached call keeps the latency it had when it was made

    def __init__(self, spec: SystemSpec, cache: Cache | None = None) -> None:
        self.spec = spec
        self.cache = cache
        self.template = template_of(spec)
        self.chat: GuardedChat | None = None

    def prepare(self, suite: Suite, retriever: Retriever | None) -> None:
        self.chat = backends.chat(
            self.spec.generator.model,
            f"system:{self.spec.name}",
            self.cache,
            temperature=0.0,
            max_output_tokens=self.spec.generator.max_new_tokens,
            where=f"system '{self.spec.name}'",
            base_url=self.spec.generator.base_url,
            api_key_env=self.spec.generator.api_key_env,
        )

    def answer(self, cases: Sequence[Case], contexts: Sequence[Sequence[Passage]] | None) -> list[Reply]:
        if self.chat is None:
            raise RuntimeError("prepare() must run before answer()")
        prompts = [
            fill(self.template, case.question, contexts[row] if contexts is not None else None)
            for row, case in enumerate(cases)
        ]
        threads = min(len(prompts), settings(self.spec.generator.model).concurrency) or 1
        with ThreadPoolExecutor(max_workers=threads) as pool:
            # copy_context: calls made in the pool are billed to whoever is metering this batch
            futures = [pool.submit(contextvars.copy_context().run, self._ask, prompt) for prompt in prompts]
            return [future.result() for future in futures]

    def _ask(self, prompt: str) -> Reply:
        assert self.chat is not None
        start = time.perf_counter()
        try:
            reply = self.chat.invoke(prompt)
        except Exception as err:  # recorded on the case, with the key scrubbed; the run goes on
            return Reply(error=scrub(f"{type(err).__name__}: {err}")[:500])
        used: dict[str, Any] = dict(reply.usage_metadata or {})
        usage = {
            "prompt_tokens": int(used.get("input_tokens", 0)),
            "completion_tokens": int(used.get("output_tokens", 0)),
        }
        # The latency of the call when it was made (a cached call keeps its original latency).
        latency = float(reply.response_metadata.get("latency_s") or time.perf_counter() - start)
        text = str(reply.content).strip()
        finish = reply.response_metadata.get("finish_reason")
        if not text and finish in ("MAX_TOKENS", "length"):  # Gemini's name for it, and OpenAI's
            # Gemini 2.5 models (and OpenAI's reasoning models) think first, and thinking counts against the
            # output budget (and is billed).
            error = (
                f"no answer within generator.max_new_tokens={self.spec.generator.max_new_tokens} "
                f"({finish}; thinking tokens count too): raise it"
            )
            return Reply(error=error, latency_s=latency, usage=usage)
        return Reply(text=text, latency_s=latency, usage=usage)


def chat(spec: SystemSpec, cache: Cache | None = None) -> Pipeline:
    """The factory for `gemini:` and `openai:` generators (the client loads only in prepare)."""
    if spec.finetune is not None:
        raise InputError(
            f"system '{spec.name}'",
            f"key 'finetune': the harness does not fine-tune {spec.generator.model}; "
            "for a model tuned elsewhere, name it and set generator.tuned: true",
        )
    return Pipeline(spec, ChatAnswerer(spec, cache), cache)
