"""The MiniLM span reader: the best answer span over a question's passages, or an abstention.

rag-minilm reads with the general reader (trained once on generated data, harness/systems/general_qa.py);
the hybrid reads with that reader tuned on the suite's train split, its no-answer threshold calibrated on
held-out train questions.
"""

import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from harness.metrics.lexical import token_f1
from harness.systems import training
from harness.values import Passage

NO_ANSWER = "The documents do not say."  # the suites' reference for questions the corpus cannot answer
MAX_ANSWER_TOKENS = 16  # word pieces: a name, a date, a phrase; never a whole sentence


class SpanReader:
    """A MiniLM span reader: the best span over all passages, or NO_ANSWER when its margin over the
    reader's no-answer score ([CLS]) is not above `threshold` (calibrated on held-out questions)."""

    def __init__(self, folder: Path, max_length: int, threshold: float = 0.0) -> None:
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        with training.quiet_transformers():
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
            self.model = AutoModelForQuestionAnswering.from_pretrained(str(folder)).eval()
        self.max_length = max_length
        self.threshold = threshold
        # The runner answers from two threads, and a fast tokenizer shared across threads can fail with
        # "Already borrowed"; torch already uses both cores, so reading one batch at a time costs nothing.
        self._lock = threading.Lock()

    def read(self, questions: Sequence[str], contexts: Sequence[Sequence[Passage]]) -> list[str]:
        scored = self.scored(questions, contexts)
        return [text if margin > self.threshold else NO_ANSWER for margin, text in scored]

    def scored(
        self, questions: Sequence[str], contexts: Sequence[Sequence[Passage]], batch_size: int = 32
    ) -> list[tuple[float, str]]:
        """Per question, the best span's (margin over [CLS], text); (-inf, NO_ANSWER) with no passage."""
        with self._lock, torch.no_grad():
            return self._scored(questions, contexts, batch_size)

    def _scored(
        self, questions: Sequence[str], contexts: Sequence[Sequence[Passage]], batch_size: int
    ) -> list[tuple[float, str]]:
        pairs = [(row, passage.text) for row, passages in enumerate(contexts) for passage in passages]
        best = [(float("-inf"), NO_ANSWER) for _ in questions]
        for first in range(0, len(pairs), batch_size):
            batch = pairs[first : first + batch_size]
            encoded = self.tokenizer(
                [questions[row] for row, _ in batch],
                [text for _, text in batch],
                truncation="only_second",
                max_length=self.max_length,
                padding=True,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            offsets = encoded.pop("offset_mapping").tolist()
            output = self.model(**encoded)
            starts, ends = output.start_logits.numpy(), output.end_logits.numpy()
            for number, (row, text) in enumerate(batch):
                context = np.array([sequence == 1 for sequence in encoded.sequence_ids(number)])
                stops = context & [
                    end > begin and text[begin:end] in ".!?" and bool(_SENTENCE_END.match(text, end))
                    for begin, end in offsets[number]
                ]
                margin, first_token, last_token = best_span(starts[number], ends[number], context, stops)
                if margin > best[row][0]:
                    begin, finish = offsets[number][first_token][0], offsets[number][last_token][1]
                    best[row] = (margin, text[begin:finish].strip())
        return best


def calibrate(
    scored: Sequence[tuple[float, str]], references: Sequence[str], most_abstained: float = 0.5
) -> float:
    """The no-answer threshold with the best mean token F1 on held-out questions (ties: answer more).

    A question is answered when its best margin is above the threshold; abstaining scores 1 against an
    abstention reference and 0 against any other. A weak reader's wrong spans also score about 0, so F1
    alone can prefer abstaining on most questions; the threshold may therefore abstain on at most
    `most_abstained` of the held-out answerable questions (a reader that abstains on most questions it
    should answer has collapsed). With no held-out question the threshold is 0: the reader's own
    comparison with [CLS].
    """
    if not scored:
        return 0.0
    answered = [token_f1(text, reference) for (_, text), reference in zip(scored, references, strict=True)]
    abstained = [float(reference == NO_ANSWER) for reference in references]
    allowed = most_abstained * sum(reference != NO_ANSWER for reference in references)
    order = sorted(range(len(scored)), key=lambda i: scored[i][0])
    # Threshold below every margin: answer all; then raise it past one question at a time.
    total, silenced = sum(answered), 0
    best_total, best_threshold = total, float("-inf")
    for index in order:
        silenced += references[index] != NO_ANSWER
        if silenced > allowed:
            break
        total += abstained[index] - answered[index]
        if total > best_total + 1e-9:
            best_total, best_threshold = total, scored[index][0]
    return max(best_threshold, -1e6)  # finite, so it can be written as JSON


_SENTENCE_END = re.compile(r"\s+[A-Z\"]")  # what follows a token that ends a sentence


def best_span(
    starts: np.ndarray, ends: np.ndarray, context: np.ndarray, stops: np.ndarray | None = None
) -> tuple[float, int, int]:
    """(best span score minus the [CLS] score, first token, last token) over spans inside the passage.

    `stops` marks tokens that end a sentence: a span may end on one but not run past it, so an answer
    is never two half sentences.
    """
    scores = starts[:, None] + ends[None, :]
    length = len(starts)
    allowed = np.triu(np.ones((length, length), dtype=bool)) & ~np.triu(
        np.ones((length, length), bool), MAX_ANSWER_TOKENS
    )
    allowed &= context[:, None] & context[None, :]
    if stops is not None:
        before = np.concatenate([[0], np.cumsum(stops)])  # before[j]: stops among tokens 0 .. j-1
        allowed &= (before[None, :-1] - before[:-1, None]) == 0  # none in first .. last-1
    if not allowed.any():
        return float("-inf"), 0, 0
    masked = np.where(allowed, scores, -np.inf)
    first, last = np.unravel_index(int(np.argmax(masked)), masked.shape)
    return float(masked[first, last] - (starts[0] + ends[0])), int(first), int(last)


def general_span_reader(max_length: int = training.GENERAL.max_length) -> SpanReader:
    """The general reader with no abstention: it always answers with its best span.

    A no-answer threshold calibrated on the generated set does not transfer: on other text the reader's
    margins are lower, and such a threshold abstained on 19 of smoke's 20 answerable questions. Without
    the suite's data there is nothing to calibrate on, so the off-the-shelf reader answers; abstaining
    well is what the hybrid's held-out calibration adds.
    """
    return SpanReader(training.general_reader().folder / "reader", max_length, threshold=float("-inf"))
