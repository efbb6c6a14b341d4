"""Metrics against values worked out by hand, and the None-means-unscored rule."""

import pytest

from harness.metrics import DIRECTIONLESS, METRICS, Score
from harness.metrics.answer import (
    AbstainCorrect,
    AbstainFalse,
    AnswerRecall,
    AnswerTokens,
    FormatMatch,
    abstains,
)
from harness.metrics.lexical import ExactMatch, Rouge, TokenF1, token_f1
from harness.metrics.offline_judge import MiniLMAnswerRelevancy, MiniLMFaithfulness
from harness.metrics.retrieval import MRR, HitAtK, RecallAtK
from harness.suite import Case, Passage
from harness.system import Answer


def case(reference: str = "the cat sat on the mat", gold: tuple[str, ...] = ()) -> Case:
    return Case(id="c1", question="Where did the cat sit?", reference=reference, gold_ids=gold)


def answer(text: str, contexts: tuple[Passage, ...] | None = None) -> Answer:
    return Answer(case_id="c1", text=text, contexts=contexts)


def test_rouge_matches_hand_computed_values() -> None:
    # reference: the cat sat on the mat (6 tokens); prediction: the cat lay on the mat (6 tokens)
    # unigrams in common: the, cat, on, the, mat = 5 -> P = R = 5/6 -> F = 0.8333
    # bigrams: ref {the cat, cat sat, sat on, on the, the mat}, pred {the cat, cat lay, lay on, on the,
    # the mat}: 3 shared of 5 -> F = 0.6; LCS "the cat on the mat" = 5 -> F = 5/6
    prediction = answer("the cat lay on the mat")
    assert Rouge("rouge_1", "rouge1").score(case(), prediction).value == pytest.approx(5 / 6)
    assert Rouge("rouge_2", "rouge2").score(case(), prediction).value == pytest.approx(0.6)
    assert Rouge("rouge_l", "rougeL").score(case(), prediction).value == pytest.approx(5 / 6)


def test_rouge_l_uses_longest_common_subsequence_not_bag_of_words() -> None:
    # "mat the on sat cat the" against "the cat sat on the mat": the longest common subsequence is
    # 3 tokens ("the sat the", or "the on the"), so P = R = 3/6 -> F = 0.5; ROUGE-1 stays 1.0.
    shuffled = answer("mat the on sat cat the")
    assert Rouge("rouge_1", "rouge1").score(case(), shuffled).value == pytest.approx(1.0)
    assert Rouge("rouge_l", "rougeL").score(case(), shuffled).value == pytest.approx(0.5)


def test_token_f1_and_exact_match_follow_squad_normalisation() -> None:
    # "The Cat, sat!" -> "cat sat"; reference "a cat sat down" -> "cat sat down"
    # common 2; P = 2/2, R = 2/3 -> F1 = 0.8
    assert token_f1("The Cat, sat!", "a cat sat down") == pytest.approx(0.8)
    assert TokenF1().score(case("cat sat down"), answer("The Cat, sat!")).value == pytest.approx(0.8)
    assert ExactMatch().score(case("The cat sat."), answer("the CAT sat")).value == 1.0
    assert ExactMatch().score(case("The cat sat."), answer("a cat sat on")).value == 0.0
    # Repeated tokens count with multiplicity: "the the cat" vs "cat": common 1, P=1/1 (articles go), R=1
    assert token_f1("the the cat", "cat") == pytest.approx(1.0)
    assert token_f1("cat cat", "cat") == pytest.approx(2 * 0.5 * 1 / 1.5)


def test_missing_reference_is_unscored_never_zero() -> None:
    for metric in (TokenF1(), ExactMatch(), Rouge("rouge_l", "rougeL")):
        score = metric.score(case(reference=""), answer("anything"))
        assert score.value is None and score.reason == "no reference answer"


def passages(*ids: str) -> tuple[Passage, ...]:
    return tuple(Passage(id=f"{i}#0", doc_id=i, text=f"text {i}") for i in ids)


def test_retrieval_metrics_by_hand() -> None:
    gold = case(gold=("b", "d"))
    got = answer("x", passages("a", "b", "c", "d", "e", "f"))
    assert HitAtK(1).score(gold, got).value == 0.0
    assert HitAtK(2).score(gold, got).value == 1.0
    assert RecallAtK(3).score(gold, got).value == pytest.approx(0.5)
    assert RecallAtK(5).score(gold, got).value == pytest.approx(1.0)
    assert MRR().score(gold, got).value == pytest.approx(0.5)  # first gold at rank 2
    # two chunks of one document count once: ranks are per document
    chunks = (Passage(id="a#0", doc_id="a", text=""), Passage(id="a#1", doc_id="a", text="")) + passages("d")
    assert MRR().score(gold, answer("x", chunks)).value == pytest.approx(0.5)
    assert MRR().score(gold, answer("x", passages("x", "y"))).value == 0.0


def test_retrieval_metrics_unscored_for_closed_book_and_unanswerable() -> None:
    closed_book = HitAtK(5).score(case(gold=("a",)), answer("x", contexts=None))
    assert closed_book.value is None and "closed-book" in closed_book.reason
    unanswerable = MRR().score(case(gold=()), answer("x", passages("a")))
    assert unanswerable.value is None and "no gold" in unanswerable.reason
    # A retriever that found nothing is scored 0, not excused.
    assert HitAtK(5).score(case(gold=("a",)), answer("x", contexts=())).value == 0.0


def test_minilm_faithfulness_separates_supported_from_invented() -> None:
    context = passages("p")[0].model_copy(
        update={"text": "The greenhouse opens at seven in the morning. Members may borrow the wheelbarrow."}
    )
    metric = MiniLMFaithfulness()
    quoted = metric.score(case(), answer("The greenhouse opens at seven in the morning.", (context,)))
    invented = metric.score(case(), answer("Quarterly revenue rose by forty percent in Brazil.", (context,)))
    mixed = metric.score(
        case(),
        answer("Members may borrow the wheelbarrow. Dragons guard the tax office on Tuesdays.", (context,)),
    )
    assert quoted.value == 1.0
    assert invented.value == 0.0
    assert mixed.value == pytest.approx(0.5)
    assert metric.score(case(), answer("Anything.", None)).value is None


def test_minilm_answer_relevancy_prefers_an_on_topic_answer() -> None:
    metric = MiniLMAnswerRelevancy()
    question = Case(id="q", question="When does the greenhouse open?", reference="")
    on_topic = metric.score(question, answer("The greenhouse opens at seven.")).value
    off_topic = metric.score(question, answer("Bicycle tyres need 4 bar of pressure.")).value
    assert on_topic is not None and off_topic is not None and on_topic > off_topic + 0.3
    assert metric.score(question, answer("   ")) == Score.unscored("empty answer")


def test_every_metric_declares_its_direction_and_name() -> None:
    from harness.suite import load_suite
    from tests.conftest import SMOKE

    suite = load_suite(SMOKE)
    for name, factory in METRICS.items():
        metric = factory(suite)
        assert metric.name == name
        if name in DIRECTIONLESS:
            assert metric.higher_is_better is None
        else:
            assert isinstance(metric.higher_is_better, bool)
    assert METRICS["latency_s"](suite).higher_is_better is False
    assert METRICS["abstain_false"](suite).higher_is_better is False


NO_ANSWER = "The documents do not say."


def test_answer_recall_counts_reference_tokens_found_in_the_answer() -> None:
    metric = AnswerRecall(NO_ANSWER)
    # reference "3 by 4 metres" -> tokens [3, by, 4, metres] (4 tokens)
    # answer "Each plot is 3 by 4 metres, edged with larch." contains all 4 -> 4/4 = 1.0
    long_answer = answer("Each plot is 3 by 4 metres, edged with larch.")
    assert metric.score(case("3 by 4 metres"), long_answer).value == 1.0
    # token F1 punishes the same answer for its length: 10 answer tokens (each plot is 3 by 4 metres
    # edged with larch), 4 common: P = 4/10, R = 4/4 -> F1 = 2 * 0.4 * 1 / 1.4 = 4/7
    assert token_f1(long_answer.text, "3 by 4 metres") == pytest.approx(4 / 7)
    # "4 metres" finds 2 of the 4 -> 0.5; "The Metres!" normalises to [metres] -> 1/4
    assert metric.score(case("3 by 4 metres"), answer("4 metres")).value == pytest.approx(0.5)
    assert metric.score(case("3 by 4 metres"), answer("The Metres!")).value == pytest.approx(0.25)
    # multiplicity: reference "on and on" -> [on, and, on]; answer "on" holds one "on" -> 1/3
    assert metric.score(case("on and on"), answer("on")).value == pytest.approx(1 / 3)
    # an empty answer contains nothing: a real 0
    assert metric.score(case("3 by 4 metres"), answer("")).value == 0.0
    # unscored: no reference; a reference of articles only; the abstention as reference
    assert metric.score(case(""), answer("x")).reason == "no reference answer"
    assert metric.score(case("The"), answer("the")).value is None
    abstention = metric.score(case(NO_ANSWER), answer(NO_ANSWER))
    assert abstention.value is None and "abstain_correct" in abstention.reason


def test_answer_tokens_is_the_normalised_length_and_has_no_direction() -> None:
    metric = AnswerTokens()
    # "The plot is 3 by 4 metres." -> [plot, is, 3, by, 4, metres] (the article goes) = 6
    assert metric.score(case(), answer("The plot is 3 by 4 metres.")).value == 6.0
    assert metric.score(case(), answer("")).value == 0.0
    assert metric.higher_is_better is None


HOUSE = r"Answer: .+\. Source: .+ (Spec Sheet|Manual|Care Guide|Warranty Card)"


def test_format_match_is_a_whole_answer_match_of_the_declared_pattern() -> None:
    metric = FormatMatch(HOUSE)
    good = "Answer: 75 litres. Source: Screerunner Backpack Spec Sheet"
    assert metric.score(case(good), answer(good)).value == 1.0
    assert metric.score(case(good), answer(f"  {good}\n")).value == 1.0  # surrounding space is stripped
    # the right value without the house format, or with text after it, does not match
    assert metric.score(case(good), answer("75 litres")).value == 0.0
    assert metric.score(case(good), answer(good + " (see page 3)")).value == 0.0
    assert metric.score(case(good), answer("")).value == 0.0
    assert FormatMatch(None).score(case(good), answer(good)).reason == "the suite declares no format"
    # with an abstention declared, an unanswerable case asks for no format
    assert FormatMatch(HOUSE, NO_ANSWER).score(case(NO_ANSWER), answer(NO_ANSWER)).value is None


def test_abstention_metrics_split_unanswerable_from_answerable_cases() -> None:
    correct, false = AbstainCorrect(NO_ANSWER), AbstainFalse(NO_ANSWER)
    unanswerable, answerable = case(NO_ANSWER), case("45 crowns a year")
    abstained, answered = answer("the documents do not say"), answer("45 crowns")
    # 2 unanswerable cases, one abstained: abstain_correct = 1/2 over them
    assert correct.score(unanswerable, abstained).value == 1.0
    assert correct.score(unanswerable, answered).value == 0.0
    # answerable cases: abstaining is the false abstention (lower is better)
    assert false.score(answerable, abstained).value == 1.0
    assert false.score(answerable, answered).value == 0.0
    # each leaves the other's cases unscored, with the reason
    assert correct.score(answerable, abstained).value is None
    assert "abstain_correct" in (false.score(unanswerable, abstained).reason)
    assert false.score(case(""), abstained).reason == "no reference answer"


def test_an_abstention_is_recognised_after_normalisation_and_as_a_prefix() -> None:
    assert abstains("The documents do not say.", NO_ANSWER)
    assert abstains("THE DOCUMENTS DO NOT SAY", NO_ANSWER)  # case, punctuation and articles ignored
    assert abstains("The documents do not say who founded it.", NO_ANSWER)
    assert not abstains("They do not say much, but the fee is 45 crowns.", NO_ANSWER)
    assert not abstains("The documents do not sayings", NO_ANSWER)  # a word boundary, not a substring
    assert not abstains("", NO_ANSWER)


def test_minilm_faithfulness_leaves_an_abstention_unscored() -> None:
    context = passages("p")[0]
    score = MiniLMFaithfulness().score(case(NO_ANSWER), answer(NO_ANSWER, (context,)))
    assert score.value is None and score.reason.startswith("abstention")
    # a suite's own abstention phrase is recognised instead
    own = MiniLMFaithfulness("Not in the manual.").score(case(), answer("Not in the manual.", (context,)))
    assert own.value is None and own.reason.startswith("abstention")
