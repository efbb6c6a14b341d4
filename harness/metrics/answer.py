"""What an answer looks like next to its reference: recall of the reference, length, format, abstention."""

import re
from collections import Counter

from harness.metrics.base import Score
from harness.suite import Case
from harness.system import Answer
from harness.text import normalise, tokens

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


class AnswerRecall:
    """Share of the reference's normalised tokens found in the answer (counted with multiplicity).

    The "answer contains the reference" family used for generative QA: unlike token F1 it does not punish
    a long answer, so read it next to `answer_tokens`. With several references, the best recall over
    those with tokens (details name it). Unscored: no reference; no reference with a token after
    normalisation; a case whose reference is the suite's abstention (the abstain_* metrics score those).
    An empty answer contains nothing: 0.
    """

    name = "answer_recall"
    higher_is_better = True
    version = 1
    judge = ""

    def __init__(self, abstention: str | None = None) -> None:
        self.abstention = abstention

    def score(self, case: Case, answer: Answer) -> Score:
        if not case.reference:
            return Score.unscored("no reference answer")
        if is_abstention_case(case, self.abstention):
            return Score.unscored("reference is the abstention: scored by abstain_correct")
        said = Counter(tokens(answer.text))
        scored = []  # (recall, found, reference tokens, index) per reference with tokens
        for index, reference in enumerate(case.references):
            wanted = tokens(reference)
            if wanted:
                found = sum((said & Counter(wanted)).values())
                scored.append((found / len(wanted), found, len(wanted), index))
        if not scored:
            return Score.unscored("reference has no tokens after normalisation")
        value, found, length, index = max(scored, key=lambda item: (item[0], -item[3]))
        details: dict[str, int] = {"found": found, "reference_tokens": length}
        if len(case.references) > 1:
            details.update(references=len(case.references), best=index)
        return Score(value=value, details=details)


class AnswerTokens:
    """Length of the answer in normalised tokens (as token_f1 counts them): verbosity, shown, never gated.

    No better direction: a short answer is not better than a complete one. Every answer is scored (an empty
    one is 0 tokens); only a failed answer is unscored, by the runner.
    """

    name = "answer_tokens"
    higher_is_better: bool | None = None
    version = 1
    judge = ""

    def score(self, case: Case, answer: Answer) -> Score:
        return Score(value=float(len(tokens(answer.text))))


class FormatMatch:
    """1.0 when the whole answer (surrounding whitespace stripped) matches the suite's `format` pattern.

    Unscored: the suite declares no format (load_suite refuses a suite that lists format_match without
    one); a case whose reference is the suite's abstention (no format is asked of an abstention). An empty
    answer does not match: 0.
    """

    name = "format_match"
    higher_is_better = True
    version = 1
    judge = ""

    def __init__(self, pattern: str | None, abstention: str | None = None) -> None:
        self.pattern = pattern  # part of the metric's identity: a new pattern is not served cached scores
        self.abstention = abstention
        self._compiled = re.compile(pattern) if pattern is not None else None

    def score(self, case: Case, answer: Answer) -> Score:
        if self._compiled is None:
            return Score.unscored("the suite declares no format")
        if is_abstention_case(case, self.abstention):
            return Score.unscored("reference is the abstention: no format expected")
        return Score(value=float(self._compiled.fullmatch(answer.text.strip()) is not None))


class AbstainCorrect:
    """On cases whose reference is the suite's abstention: 1.0 when the answer abstains (see `abstains`).

    Unscored: answerable cases (abstain_false scores those) and cases with no reference.
    """

    name = "abstain_correct"
    higher_is_better = True
    version = 1
    judge = ""

    def __init__(self, abstention: str | None) -> None:
        self.abstention = abstention

    def score(self, case: Case, answer: Answer) -> Score:
        if self.abstention is None:
            return Score.unscored("the suite declares no abstention answer")
        if not is_abstention_case(case, self.abstention):
            return Score.unscored("answerable case: scored by abstain_false")
        return Score(value=float(abstains(answer.text, self.abstention)))


class AbstainFalse:
    """On answerable cases: 1.0 when the answer abstains anyway (lower is better).

    Unscored: cases whose reference is the abstention (abstain_correct scores those) and cases with no
    reference (nothing says whether they are answerable).
    """

    name = "abstain_false"
    higher_is_better = False
    version = 1
    judge = ""

    def __init__(self, abstention: str | None) -> None:
        self.abstention = abstention

    def score(self, case: Case, answer: Answer) -> Score:
        if self.abstention is None:
            return Score.unscored("the suite declares no abstention answer")
        if not case.reference:
            return Score.unscored("no reference answer")
        if is_abstention_case(case, self.abstention):
            return Score.unscored("reference is the abstention: scored by abstain_correct")
        return Score(value=float(abstains(answer.text, self.abstention)))
