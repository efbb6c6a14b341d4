"""Old home of the minilm family, kept as re-exports until callers move: the systems are in minilm.py,
the span reader in span_reader.py."""

from harness.systems.minilm import TunedEncoder, minilm, reader_examples, span_candidates
from harness.systems.span_reader import (
    MAX_ANSWER_TOKENS,
    NO_ANSWER,
    SpanReader,
    best_span,
    calibrate,
    general_span_reader,
)

tuned_minilm = minilm

__all__ = [
    "MAX_ANSWER_TOKENS",
    "NO_ANSWER",
    "SpanReader",
    "TunedEncoder",
    "best_span",
    "calibrate",
    "general_span_reader",
    "reader_examples",
    "span_candidates",
    "tuned_minilm",
]
