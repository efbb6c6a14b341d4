"""Systems around a hosted chat model (`gemini:<model>`, or `openai:<model>` on any OpenAI-compatible
server named by generator.base_url): closed-book, or fed retrieved passages.

The harness does not fine-tune hosted models; a model tuned elsewhere is `generator.tuned: true`. Every
call goes through the guarded client: cached, paced under the model's limits, retried, and billed.
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
from harness.suite import Case, Passage, Suite
from harness.system import Answer, SystemSpec, prompt_path
from harness.systems.generative import fill
from harness.systems.retrieval import Retriever


class ChatSystem:
    """rag (retrieve, then ask), or closed-book (ask), with one hosted chat model at temperature 0."""

    def __init__(self, spec: SystemSpec, cache: Cache | None = None) -> None:
        if spec.finetune is not None:
            raise InputError(
                f"system '{spec.name}'",
                f"key 'finetune': the harness does not fine-tune {spec.generator.model}; "
                "for a model tuned elsewhere, name it and set generator.tuned: true",
            )
        template = prompt_path(spec)
        assert template is not None
        self.spec = spec
        self.cache = cache
        self.template = template.read_text(encoding="utf-8")
        self.retriever: Retriever | None = None
        self.chat: GuardedChat | None = None

    def prepare(self, suite: Suite) -> None:
        if self.spec.retriever is not None:
            self.retriever = Retriever(self.spec.retriever, suite.corpus, self.cache)
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

    def answer(self, cases: Sequence[Case]) -> list[Answer]:
        if self.chat is None:
            raise RuntimeError("prepare() must run before answer()")
        questions = [case.question for case in cases]
        results = self.retriever.retrieve(questions) if self.retriever else None
        found: list[list[Passage]] | None = (
            [result.passages for result in results] if results is not None else None
        )
        jobs = [
            (case, fill(self.template, case.question, found[row] if found is not None else None))
            for row, case in enumerate(cases)
        ]
        threads = min(len(jobs), settings(self.spec.generator.model).concurrency) or 1
        with ThreadPoolExecutor(max_workers=threads) as pool:
            # copy_context: calls made in the pool are billed to whoever is metering this batch
            futures = [
                pool.submit(contextvars.copy_context().run, self._ask, case, prompt) for case, prompt in jobs
            ]
            answers = [future.result() for future in futures]
        if found is None or results is None:
            return answers
        # None marks a closed-book answer, so context metrics report "not applicable", not 0. The ranking
        # (rank_depth documents) is what the retrieval metrics score, as for every other retrieving system.
        return [
            answer.model_copy(update={"contexts": tuple(found[row]), "ranking": results[row].ranking})
            for row, answer in enumerate(answers)
        ]

    def _ask(self, case: Case, prompt: str) -> Answer:
        assert self.chat is not None
        start = time.perf_counter()
        try:
            reply = self.chat.invoke(prompt)
        except Exception as err:  # recorded on the case, with the key scrubbed; the run goes on
            return Answer(case_id=case.id, error=scrub(f"{type(err).__name__}: {err}")[:500])
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
            return Answer(case_id=case.id, error=error, latency_s=latency, usage=usage)
        return Answer(case_id=case.id, text=text, latency_s=latency, usage=usage)
