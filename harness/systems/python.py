"""`python:<module>:<callable>`: the user's own system, written in Python, under test.

The target is a function `f(question)` or `f(question, case)`; a class, instantiated once with no
arguments, whose instances answer through `answer(question[, case])`, `invoke` or `__call__`, and may
have `index(corpus)` (rag and hybrid kinds) and `prepare(train_cases)` (finetuned and hybrid kinds); or a
LangChain Runnable (anything with `invoke`). It is imported and its signature checked when the system
YAML is read. docs/systems.md has the whole contract.
"""

import asyncio
import contextvars
import inspect
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from harness.cache import Cache
from harness.llm.guarded import CallFailed, Runtime, runtime
from harness.llm.settings import settings
from harness.systems.external import CorpusMatcher, to_reply, tokens_of
from harness.systems.pipeline import Answerer, Pipeline, Reply
from harness.systems.python_target import answer_method, origin, resolve
from harness.systems.retrieval import Retriever
from harness.values import Case, Passage, Suite, SystemSpec

RETRIEVING_KINDS = ("rag", "hybrid")
TRAINING_KINDS = ("finetuned", "hybrid")


def _plain_case(case: Case) -> dict[str, Any]:
    """What the system under test may see of a test case: never its reference or gold ids."""
    return {"id": case.id, "question": case.question, "tags": list(case.tags)}


class CallableAnswerer(Answerer):
    """Calls the user's Python target once per case, under the model runtime's slots and retry policy."""

    times_itself = True  # each call is timed on its own (the calls of a batch overlap)

    def __init__(self, spec: SystemSpec) -> None:
        self.spec = spec
        self.target = resolve(spec.generator.model, f"system '{spec.name}'")
        self.concurrency = spec.generator.concurrency or 1
        self.matcher = CorpusMatcher(())
        self._call: Callable[[str, dict[str, Any]], Any] | None = None
        self._runtime: Runtime | None = None

    def prepare(self, suite: Suite, retriever: Retriever | None) -> None:
        self.matcher = CorpusMatcher(suite.corpus)
        target = self.target
        if target.style == "class":
            try:
                instance = target.obj()
                if self.spec.kind in RETRIEVING_KINDS and callable(getattr(instance, "index", None)):
                    instance.index(
                        [passage.model_dump(include={"id", "text", "title"}) for passage in suite.corpus]
                    )
                if self.spec.kind in TRAINING_KINDS and callable(getattr(instance, "prepare", None)):
                    instance.prepare([case.model_dump(mode="json") for case in suite.train])
            except SystemExit as err:  # fails the run's cases ("prepare failed"), not the harness
                raise RuntimeError(f"the code called sys.exit({err.code!r})") from None
            method = answer_method(type(instance)) or "invoke"
            self._call = self._caller(instance, None if method == "invoke" else getattr(instance, method))
        else:
            self._call = self._caller(target.obj, None if target.style == "runnable" else target.obj)
        # In-process code: no rate limit and no price; transient errors it raises (timeouts, connection
        # errors, HTTP 429/5xx from httpx) are retried like a hosted model's, anything else fails the case.
        config = settings(self.spec.generator.model).model_copy(
            update={"rpm": None, "tpm": None, "concurrency": self.concurrency}
        )
        self._runtime = runtime(self.spec.generator.model, config)
        self._runtime.remote = False  # calls, not HTTP requests: the ledger counts no requests

    def _caller(self, owner: Any, fn: Any) -> Callable[[str, dict[str, Any]], Any]:
        """question, case -> the target's reply; `fn` None: a Runnable, invoked with the question."""
        input_key = self.spec.generator.input_key
        if fn is None:
            invoke = owner.invoke
            return lambda question, case: invoke({input_key: question} if input_key else question)
        if self.target.passes_case:
            return lambda question, case: fn(question, case)
        return lambda question, case: fn(question)

    def answer(self, cases: Sequence[Case], contexts: Sequence[Sequence[Passage]] | None) -> list[Reply]:
        if self._call is None:
            raise RuntimeError("prepare() must run before answer()")
        threads = min(len(cases), self.concurrency) or 1
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures = [pool.submit(contextvars.copy_context().run, self._one, case) for case in cases]
            return [future.result() for future in futures]

    def _one(self, case: Case) -> Reply:
        assert self._call is not None and self._runtime is not None
        call = self._call
        start = time.perf_counter()

        def attempt() -> Any:
            try:
                value = call(case.question, _plain_case(case))
            except SystemExit as err:  # sys.exit in the user's code fails its case, not the whole harness
                raise RuntimeError(f"the code called sys.exit({err.code!r})").with_traceback(
                    err.__traceback__
                ) from None
            if inspect.isawaitable(value):  # an async def answers too

                async def wait() -> Any:
                    return await value

                return asyncio.run(wait())
            return value

        try:
            value = self._runtime.call(attempt, f"system:{self.spec.name}", 0, tokens_of)
        except CallFailed as err:  # the user's exception, with where it was raised: the case's reason
            where = origin(err.__cause__) if err.__cause__ is not None else ""
            return Reply(error=f"{err}{where}"[:500], latency_s=time.perf_counter() - start)
        latency = time.perf_counter() - start
        return replace(to_reply(self.spec, value, self.matcher), latency_s=latency)


def python(spec: SystemSpec, cache: Cache | None = None) -> Pipeline:
    """The factory for `python:<module>:<callable>` (the target is resolved when the YAML is read)."""
    return Pipeline(spec, CallableAnswerer(spec), cache)
