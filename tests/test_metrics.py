"""Metrics against values worked out by hand, and the None-means-unscored rule."""

import pytest

from harness.metrics import METRICS, Score
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
        assert isinstance(metric.higher_is_better, bool)
    assert METRICS["latency_s"](suite).higher_is_better is False
