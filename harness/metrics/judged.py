"""The LLM-judge metrics, computed by ragas 0.4.3 one sample at a time under the harness's own runner.

ragas is given a `GuardedChat` (cache, limits, retries, ledger) through `LangchainLLMWrapper(...,
bypass_n=True)`, and a LangChain Embeddings object (Gemini, or the offline MiniLM). Its own retries are
set to one attempt: the guarded call already retried what could succeed. Whatever cannot be scored — a
reply ragas cannot parse, a call that failed for good, a NaN — becomes an unscored Score with its
reason: counted and shown per metric, never dropped, never 0.

The ragas metrics that read a reference (context_precision, context_recall, factual_correctness) take one:
a case with several accepted answers gives them its first (`Case.reference`), and the score's details
say so (`reference: "first of N"`).
"""

import asyncio
import math
import threading
import warnings
from typing import Any, NamedTuple

from harness.cache import Cache
from harness.llm.settings import settings
from harness.llm.usage import metering
from harness.metrics.base import MetricBase, Score
from harness.privacy import scrub
from harness.values import Answer, Case, JudgeSpec

# harness.llm.backends and harness.llm.guarded are imported where a judge is first built or has failed:
# they load LangChain (about a second), and the metric table imports this module for every command.


class RagasSpec(NamedTuple):
    """How one judged metric is computed by ragas (the metric table says that it is judged)."""

    ragas_class: str
    needs_contexts: bool
    needs_reference: bool
    nan_reason: str  # why ragas returns NaN for a sample


RAGAS: dict[str, RagasSpec] = {
    "faithfulness": RagasSpec("Faithfulness", True, False, "the judge found no statements in the answer"),
    "answer_relevancy": RagasSpec(
        "ResponseRelevancy", False, False, "the judge generated no question from the answer"
    ),
    "context_precision": RagasSpec(
        "LLMContextPrecisionWithReference", True, True, "the judge gave no verdict on the contexts"
    ),
    "context_recall": RagasSpec(
        "LLMContextRecall", True, True, "the judge classified no reference statement"
    ),
    "factual_correctness": RagasSpec(
        "FactualCorrectness", False, True, "the judge found no claims to compare"
    ),
}
JUDGED = RAGAS  # the name this table had before the metric table said which metrics are judged
VERSION = 1  # bump when the adapter changes how a sample is built or scored


def judge_identity(judge: JudgeSpec) -> str:
    """How results name their judge; scores with different identities are never compared."""
    return f"{judge.model}@t={judge.temperature:g}+{judge.embeddings}"


class RagasMetric(MetricBase):
    """One ragas metric as a harness Metric (name, higher_is_better, version, judge, score)."""

    version = VERSION

    def __init__(
        self, name: str, judge: JudgeSpec, store: Cache | None, answer_relevancy_strictness: int = 1
    ):
        self.name = name
        self.judge = judge_identity(judge)
        # With a temperature-0 judge, ragas's default of 3 generated questions asks the same thing three
        # times; one question is the same score for a third of the calls.
        self.strictness = answer_relevancy_strictness if name == "answer_relevancy" else None
        self._spec = judge
        self._store = store
        self._metric: Any = None
        self._lock = threading.Lock()

    def params(self) -> dict[str, Any]:
        # `name` and `judge` are listed because they always were (instance attributes): the cache keys stay.
        return {"name": self.name, "judge": self.judge, "strictness": self.strictness}

    @property
    def concurrency(self) -> int:
        """How many samples the runner may score at once: the judge model's concurrency setting (not
        part of the identity: it changes how fast scores come, not what they are)."""
        return settings(self._spec.model).concurrency

    def _ragas(self) -> Any:
        """Built on first use: importing ragas and creating the clients costs seconds."""
        with self._lock:
            if self._metric is None:
                self._metric = self._build()
            return self._metric

    def _build(self) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import ragas.metrics as ragas_metrics
            from ragas.embeddings.base import LangchainEmbeddingsWrapper
            from ragas.llms.base import LangchainLLMWrapper
            from ragas.run_config import RunConfig

            from harness.llm import backends

            purpose = f"metric:{self.name}"
            chat = backends.chat(
                self._spec.model,
                purpose,
                self._store,
                self._spec.temperature,
                self._spec.max_output_tokens,
                where="suite judge.model",
            )
            one_try = RunConfig(max_retries=1, timeout=int(settings(self._spec.model).timeout_s * 10))
            llm = LangchainLLMWrapper(chat, run_config=one_try, bypass_n=True, bypass_temperature=True)
            options: dict[str, Any] = {"llm": llm}
            if self.name == "answer_relevancy":
                embeddings = backends.embedder(
                    self._spec.embeddings, purpose, self._store, "suite judge.embeddings"
                )
                options["embeddings"] = LangchainEmbeddingsWrapper(embeddings, run_config=one_try)
                options["strictness"] = self.strictness
            metric = getattr(ragas_metrics, RAGAS[self.name].ragas_class)(**options)
            metric.init(one_try)
            return metric

    def score(self, case: Case, answer: Answer) -> Score:
        _, needs_contexts, needs_reference, nan_reason = RAGAS[self.name]
        if needs_contexts and answer.contexts is None:
            return Score.unscored("closed-book system: no contexts to judge")
        if needs_contexts and not answer.contexts:
            return Score.unscored("no passages retrieved")
        if needs_reference and not case.reference.strip():
            return Score.unscored("case has no reference answer")
        if not answer.text.strip():
            return Score.unscored("empty answer")
        from ragas.dataset_schema import SingleTurnSample

        sample = SingleTurnSample(
            user_input=case.question,
            response=answer.text,
            retrieved_contexts=[passage.text for passage in answer.contexts or ()]
            if needs_contexts
            else None,
            reference=case.reference if needs_reference else None,
        )
        metric = self._ragas()
        with metering() as meter:
            try:
                value = asyncio.run(metric.single_turn_ascore(sample))
            except Exception as err:  # every way a judge call can fail ends as a reason, not a crash
                return _unscored(err, meter.total())
        details: dict[str, Any] = {"usage": meter.total()}
        if needs_reference and len(case.references) > 1:
            details["reference"] = f"first of {len(case.references)}"  # ragas takes one reference
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return Score(value=None, reason=f"ragas returned NaN: {nan_reason}", details=details)
        return Score(value=float(value), details=details)


def _unscored(err: BaseException, usage: dict[str, Any]) -> Score:
    from ragas.exceptions import LLMDidNotFinishException, RagasOutputParserException

    from harness.llm.guarded import CallFailed

    cause = err.__cause__
    failed = err if isinstance(err, CallFailed) else cause if isinstance(cause, CallFailed) else None
    details: dict[str, Any] = {"usage": usage, "error": scrub(f"{type(err).__name__}: {err}")[:500]}
    transient = False
    if isinstance(err, RagasOutputParserException):
        reason = "judge reply could not be parsed as the JSON ragas asked for"
    elif isinstance(err, LLMDidNotFinishException):
        reason = "judge reply was cut off (finish reason not STOP)"
    elif failed is not None:
        reason, transient = f"judge call failed: {failed.what}", True
    elif isinstance(err, TimeoutError):
        reason, transient = "judge timed out", True
    else:
        reason = f"judge failed: {type(err).__name__}"
    return Score(value=None, reason=reason, details=details, transient=transient)
