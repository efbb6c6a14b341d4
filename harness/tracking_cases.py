"""Per-case MLflow traces: one per case, its scores attached as assessments (MLflow 3's evaluation view)."""

import time
from collections.abc import Sequence
from typing import Any

from harness.report import Record, Report
from harness.suite import Passage

# What a trace keeps of each retrieved passage: enough to read it in the trace view.
MAX_CONTEXT_CHARS = 2000
# The expectation name MLflow's own GenAI scorers and evaluation UI read as the reference answer.
EXPECTED = "expected_response"


def _sources(report: Report) -> dict[str, Any]:
    from mlflow.entities import AssessmentSource, AssessmentSourceType

    found = {}
    for name, summary in report.summary.items():
        judge = summary.judge
        # a metric with a judge is graded by a model (an LLM, or the offline MiniLM stand-in); others by code
        kind = AssessmentSourceType.LLM_JUDGE if judge else AssessmentSourceType.CODE
        found[name] = AssessmentSource(source_type=kind, source_id=judge or f"harness:{name}")
    return found


def _assessments(record: Record, trace_id: str, span_id: str, run_id: str, sources: dict[str, Any]) -> list:  # type: ignore[type-arg]
    from mlflow.entities import AssessmentError, AssessmentSource, AssessmentSourceType, Expectation, Feedback
    from mlflow.tracing.constant import AssessmentMetadataKey

    metadata = {AssessmentMetadataKey.SOURCE_RUN_ID: run_id}
    found: list[Any] = [
        Expectation(
            name=EXPECTED,
            value=record.reference,
            source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="suite"),
            trace_id=trace_id,
            metadata=metadata,
        )
    ]
    for name, score in record.scores.items():
        source = sources.get(name)
        if score.value is None:
            # unscored is not 0: MLflow shows an assessment error with the reason instead of a value
            unscored = AssessmentError(error_code="UNSCORED", error_message=score.reason)
            feedback = Feedback(
                name=name, error=unscored, source=source, trace_id=trace_id, metadata=metadata
            )
        else:
            value = float(score.value)
            feedback = Feedback(
                name=name,
                value=value,
                rationale=score.reason or None,  # an empty reason reads back as None over REST
                source=source,
                trace_id=trace_id,
                metadata=metadata,
            )
        feedback.span_id = span_id
        found.append(feedback)
    return found


def log_cases(report: Report, records: Sequence[Record], experiment_id: str, run_id: str) -> int:
    """One trace per case under the active run: the question in; the answer and retrieved passages out.

    The assessments travel inside the trace, so MLflow writes each case in one request instead of one
    per score (see benchmarks/mlflow_logging.py). Returns the number of traces sent.
    """
    import mlflow
    from mlflow.entities import SpanType
    from mlflow.tracing.trace_manager import InMemoryTraceManager

    sources = _sources(report)
    manager = InMemoryTraceManager.get_instance()
    end_ns = time.time_ns()
    system = report.system.name
    for record in records:
        start_ns = end_ns - int(record.answer.latency_s * 1e9)
        root = mlflow.start_span_no_context(
            name=record.case_id,
            span_type=SpanType.CHAIN,
            inputs={"question": record.question},
            tags={
                "case_id": record.case_id,
                "case_tags": ", ".join(record.tags),
                "system": system,
            },
            experiment_id=experiment_id,
            start_time_ns=start_ns,
        )
        if record.answer.contexts is not None:
            retrieved = mlflow.start_span_no_context(
                name="retrieve",
                span_type=SpanType.RETRIEVER,
                parent_span=root,
                inputs={"query": record.question},
                start_time_ns=start_ns,
            )
            contexts = record.answer.contexts
            retrieved.end(outputs=[_document(passage) for passage in contexts], end_time_ns=start_ns)
        with manager.get_trace(root.trace_id) as trace:
            if trace is not None:
                trace.info.assessments.extend(
                    _assessments(record, root.trace_id, root.span_id, run_id, sources)
                )
        if record.answer.error is not None:
            root.set_attribute("error", record.answer.error)
        root.end(outputs={"answer": record.answer.text}, end_time_ns=end_ns)
    return len(records)


def _document(passage: Passage) -> dict[str, Any]:
    """A retrieved passage in the shape MLflow's retriever spans render (page_content, metadata, id)."""
    return {
        "id": passage.id,
        "page_content": passage.text[:MAX_CONTEXT_CHARS],
        "metadata": {"doc_uri": passage.doc_id, "title": passage.title, "score": passage.score},
    }


__all__ = ["EXPECTED", "log_cases"]
