"""What an answer looks like next to its reference: recall of the reference, length, format, abstention."""

import re
from collections import Counter
from typing import Any

from harness.metrics.base import MetricBase, Score
from harness.metrics.units import TOKENS
from harness.text import normalise, tokens
from harness.values import Answer, Case

# The abstention the shipped prompt and the offline readers use; a suite may declare its own (`abstention:`).
DEFAULT_ABSTENTION = "The documents do not say."


def abstains(text: str, abstention: str) -> bool:
    """Whether an answer is the abstention: its normalised text begins with the normalised abstention.

    "Begins with" rather than "equals" so that "The documents do not say who founded it." counts too (LLM
    generators elaborate); an answer that says something first and abstains later is an answer.
    """
    wanted = normalise(abstention)
    said = normalise(text)
    return bool(wanted) and (said == wanted or said.startswith(wanted + " "))


def is_abstention_case(case: Case, abstention: str | None) -> bool:
    """Whether the case's reference is the suite's abstention (the documents do not answer it).

    With several references, the first (`Case.reference`) decides: an importer gives an unanswerable
    question the abstention as its only reference."""
    if abstention is None or not case.reference:
        return False
    return normalise(case.reference) == normalise(abstention)


class ReferenceMetric(MetricBase):
    """A metric that compares the answer with each accepted reference (`Case.references`) and keeps the
    best, the way the official SQuAD evaluation takes the best over its gold answers.

    The shared rules: a case with no reference is unscored; a case whose reference is the suite's
    abstention is scored by `unanswerable`; otherwise `compare` scores the answer against each of
    `candidates(case)` and the highest value wins (the first of equals). With more than one candidate,
    the details say how many there were and which (0-based) won. A subclass supplies `compare`, and
    overrides `unanswerable` or `candidates` where its rule differs.
    """

    abstention: str | None = None  # the suite's abstention answer; None when the suite declares none

    def __init__(self, abstention: str | None = None) -> None:
        self.abstention = abstention

    def params(self) -> dict[str, Any]:
        return {"abstention": self.abstention}

    def score(self, case: Case, answer: Answer) -> Score:
        if not case.references:
            return Score.unscored("no reference answer")
        if is_abstention_case(case, self.abstention):
            return self.unanswerable(answer)
        return self.against_references(case, answer)

    def unanswerable(self, answer: Answer) -> Score:
        """The score of an answer to a case the documents do not answer: whether it abstained (1) or
        not (0), as the SQuAD v2.0 script scores a prediction against its empty gold answer."""
        assert self.abstention is not None  # is_abstention_case is never true without one
        return Score(value=float(abstains(answer.text, self.abstention)), details={"unanswerable": True})

    def candidates(self, case: Case) -> tuple[str, ...]:
        """The references the answer is compared with."""
        return case.references

    def compare(self, text: str, reference: str) -> tuple[float, dict[str, Any]] | None:
        """The answer text's value against one reference, with details; None: this reference cannot
        be compared with (it is left out)."""
        raise NotImplementedError

    def against_references(self, case: Case, answer: Answer) -> Score:
        wanted = self.candidates(case)
        compared = [(index, self.compare(answer.text, reference)) for index, reference in enumerate(wanted)]
        scored = [(index, found) for index, found in compared if found is not None]
        if not scored:
            return Score.unscored("reference has no tokens after normalisation")
        index, (value, details) = max(scored, key=lambda item: (item[1][0], -item[0]))
        if len(wanted) > 1:
            details = {**details, "references": len(wanted), "best": index}
        return Score(value=value, details=details)


class AnswerRecall(ReferenceMetric):
    """Share of the reference's normalised tokens found in the answer (counted with multiplicity).

    The "answer contains the reference" family used for generative QA: unlike token F1 it does not punish
    a long answer, so read it next to `answer_tokens`. With several references, the best recall over
    those with tokens (details name it). Unscored: no reference; no reference with a token after
    normalisation; a case whose reference is the suite's abstention (the abstain_* metrics score those).
    An empty answer contains nothing: 0.
    """

    name = "answer_recall"

    def unanswerable(self, answer: Answer) -> Score:
        return Score.unscored("reference is the abstention: scored by abstain_correct")

    def compare(self, text: str, reference: str) -> tuple[float, dict[str, Any]] | None:
        wanted = tokens(reference)
        if not wanted:
            return None
        found = sum((Counter(tokens(text)) & Counter(wanted)).values())
        return found / len(wanted), {"found": found, "reference_tokens": len(wanted)}


class AnswerTokens(MetricBase):
    """Length of the answer in normalised tokens (as token_f1 counts them): verbosity, shown, never gated.

    No better direction: a short answer is not better than a complete one. Every answer is scored (an empty
    one is 0 tokens); only a failed answer is unscored, by the runner.
    """

    name = "answer_tokens"
    higher_is_better = None
    unit = TOKENS

    def params(self) -> dict[str, Any]:
        return {}

    def score(self, case: Case, answer: Answer) -> Score:
        return Score(value=float(len(tokens(answer.text))))


class FormatMatch(MetricBase):
    """1.0 when the whole answer (surrounding whitespace stripped) matches the suite's `format` pattern.

    Unscored: the suite declares no format (load_suite refuses a suite that lists format_match without
    one); a case whose reference is the suite's abstention (no format is asked of an abstention). An empty
    answer does not match: 0.
    """

    name = "format_match"

    def __init__(self, pattern: str | None, abstention: str | None = None) -> None:
        self.pattern = pattern
        self.abstention = abstention
        self._compiled = re.compile(pattern) if pattern is not None else None

    def params(self) -> dict[str, Any]:
        # The pattern is part of the identity: a new pattern is not served the old one's cached scores.
        return {"pattern": self.pattern, "abstention": self.abstention}

    def score(self, case: Case, answer: Answer) -> Score:
        if self._compiled is None:
            return Score.unscored("the suite declares no format")
        if is_abstention_case(case, self.abstention):
            return Score.unscored("reference is the abstention: no format expected")
        return Score(value=float(self._compiled.fullmatch(answer.text.strip()) is not None))


class AbstainCorrect(MetricBase):
    """On cases whose reference is the suite's abstention: 1.0 when the answer abstains (see `abstains`).

    Unscored: answerable cases (abstain_false scores those) and cases with no reference.
    """

    name = "abstain_correct"

    def __init__(self, abstention: str | None) -> None:
        self.abstention = abstention

    def params(self) -> dict[str, Any]:
        return {"abstention": self.abstention}

    def score(self, case: Case, answer: Answer) -> Score:
        if self.abstention is None:
            return Score.unscored("the suite declares no abstention answer")
        if not is_abstention_case(case, self.abstention):
            return Score.unscored("answerable case: scored by abstain_false")
        return Score(value=float(abstains(answer.text, self.abstention)))


class AbstainFalse(MetricBase):
    """On answerable cases: 1.0 when the answer abstains anyway (lower is better).

    Unscored: cases whose reference is the abstention (abstain_correct scores those) and cases with no
    reference (nothing says whether they are answerable).
    """

    name = "abstain_false"
    higher_is_better = False

    def __init__(self, abstention: str | None) -> None:
        self.abstention = abstention

    def params(self) -> dict[str, Any]:
        return {"abstention": self.abstention}

    def score(self, case: Case, answer: Answer) -> Score:
        if self.abstention is None:
            return Score.unscored("the suite declares no abstention answer")
        if not case.reference:
            return Score.unscored("no reference answer")
        if is_abstention_case(case, self.abstention):
            return Score.unscored("reference is the abstention: scored by abstain_correct")
        return Score(value=float(abstains(answer.text, self.abstention)))
