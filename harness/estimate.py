"""--dry-run: how many model calls and tokens a run would spend, before anything is spent.

Counts only what the caches do not already hold. The numbers are estimates: prompt sizes are measured
from the real templates (the system's, and ragas's own prompts), answers not yet generated are assumed
as long as the reference, tokens are four characters, and each judge reply is budgeted JUDGE_REPLY_TOKENS.
"""

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness import modelref
from harness.cache import Cache
from harness.llm.guarded import estimate_tokens
from harness.llm.settings import settings
from harness.metrics.base import Metric, score_key
from harness.metrics.judged import JUDGED, RagasMetric
from harness.retrieval_settings import chunk_chars
from harness.values import PROMPTED_FAMILIES, Answer, Case, Suite, SystemSpec

JUDGE_REPLY_TOKENS = 120
# LLM calls per sample for each judged metric (ragas 0.4.3): faithfulness splits the answer into
# statements, then checks them; factual correctness (mode f1) decomposes answer and reference and checks
# both ways; context precision asks once per retrieved context.
CALLS = {"faithfulness": 2, "answer_relevancy": 1, "context_recall": 1, "factual_correctness": 4}


@dataclass
class Line:
    model: str
    purpose: str
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def cost(self) -> float:
        return settings(self.model).cost(self.input_tokens, self.output_tokens) if ":" in self.model else 0.0


def _prompt_overhead(name: str) -> int:
    """Characters of ragas's instruction, schema and examples for one call of metric `name`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import ragas.metrics as ragas_metrics
        from ragas.prompt import PydanticPrompt

        metric = getattr(ragas_metrics, JUDGED[name][0])()
    prompts = [value for value in vars(metric).values() if isinstance(value, PydanticPrompt)]
    return int(sum(len(prompt.to_string()) for prompt in prompts) / max(len(prompts), 1))


def estimate(
    suite: Suite, spec: SystemSpec, cache: Cache, metrics: Sequence[Metric], stored: dict[str, Answer]
) -> list[Line]:
    """The calls a run of (suite, spec) would make: answers missing from `stored`, and judge calls for
    scores not in the cache."""
    lines: list[Line] = []
    model = spec.generator.model
    missing = [case for case in suite.test if case.id not in stored]
    if missing and modelref.family(model) in PROMPTED_FAMILIES:  # gemini:, openai:, hf: fill a template
        overhead = len(spec.prompt_text or "")  # the template as read when the spec was loaded
        context = spec.retriever.top_k * chunk_chars(spec.retriever) if spec.retriever else 0
        lines.append(
            Line(
                model,
                f"system:{spec.name}",
                calls=len(missing),
                input_tokens=sum(
                    estimate_tokens("x" * (overhead + context) + case.question) for case in missing
                ),
                output_tokens=len(missing) * spec.generator.max_new_tokens,
            )
        )
    for metric in metrics:
        if not isinstance(metric, RagasMetric):
            continue
        judge: Any = metric._spec
        line = Line(judge.model, f"metric:{metric.name}")
        embed = Line(judge.embeddings, f"metric:{metric.name}")
        overhead = _prompt_overhead(metric.name)
        for case in suite.test:
            answer = stored.get(case.id)
            if answer is not None and cache.get(score_key(metric, case, answer)) is not None:
                continue
            calls, chars = _calls(metric.name, case, answer, spec)
            line.calls += calls
            line.input_tokens += estimate_tokens("x" * (overhead * calls + chars))
            line.output_tokens += JUDGE_REPLY_TOKENS * calls
            if metric.name == "answer_relevancy":
                embed.calls += 2
                embed.input_tokens += estimate_tokens(case.question) + estimate_tokens(case.reference) // 2
        lines += [item for item in (line, embed) if item.calls]
    return lines


def _calls(name: str, case: Case, answer: Answer | None, spec: SystemSpec) -> tuple[int, int]:
    """Calls for one sample, and the characters of sample text they carry."""
    text = answer.text if answer is not None else case.reference
    if answer is not None and answer.contexts is not None:
        contexts = [passage.text for passage in answer.contexts]
    elif spec.retriever is not None:
        contexts = ["x" * chunk_chars(spec.retriever)] * spec.retriever.top_k
    else:
        contexts = []
    needs_contexts = JUDGED[name][1]
    if needs_contexts and not contexts:
        return 0, 0
    joined = sum(len(context) for context in contexts)
    if name == "context_precision":
        return len(contexts), joined + len(contexts) * (len(case.question) + len(case.reference))
    if name == "faithfulness":
        return 2, 2 * len(text) + joined + len(case.question)
    if name == "context_recall":
        return 1, joined + len(case.reference) + len(case.question)
    if name == "factual_correctness":
        return 4, 3 * (len(text) + len(case.reference))
    return CALLS[name], len(text)


def render(lines: Sequence[Line]) -> str:
    """The estimate as a table with a total."""
    rows = [["model", "for", "calls", "input tokens", "output tokens", "cost"]]
    for line in lines:
        rows.append(
            [
                line.model,
                line.purpose,
                str(line.calls),
                str(line.input_tokens),
                str(line.output_tokens),
                f"${line.cost:.4f}",
            ]
        )
    rows.append(
        [
            "total",
            "",
            str(sum(x.calls for x in lines)),
            str(sum(x.input_tokens for x in lines)),
            str(sum(x.output_tokens for x in lines)),
            f"${sum(x.cost for x in lines):.4f}",
        ]
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows
    )
