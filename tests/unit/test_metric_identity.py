"""Declared metric identity, the score key, the metric table and units (issue 14 step 6).

The identity a metric declares must be what the runner used to infer from `vars(metric)`, for every
metric every shipped suite builds: otherwise a warm cache goes cold and records change.
"""

from pathlib import Path
from typing import Any

import pytest

from harness.cache import Cache
from harness.hashing import digest
from harness.metrics import (
    DIRECTIONLESS,
    METRICS,
    NEEDS_KEY,
    TABLE,
    build_metrics,
    display_of,
    format_change,
    format_value,
    is_judged,
    score_key,
    unit_of,
)
from harness.metrics.answer import AnswerRecall
from harness.metrics.judged import JUDGED, RAGAS
from harness.metrics.lexical import ExactMatch, TokenF1
from harness.suite import Case, JudgeSpec, Passage, Suite, load_suite
from harness.system import Answer

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(path.parent for path in (ROOT / "suites").glob("*/suite.yaml"))
JUDGE = JudgeSpec(model="gemini:gemini-2.5-flash", embeddings="gemini:text-embedding-004")


def inferred_identity(metric: Any) -> list[Any]:
    """The identity as runner.metric_identity inferred it before metrics declared one (frozen copy)."""
    params = {key: value for key, value in vars(metric).items() if not key.startswith("_")}
    return [metric.name, metric.version, metric.judge, params]


@pytest.fixture(scope="module")
def shipped() -> list[Suite]:
    return [load_suite(folder) for folder in SHIPPED]


def every_metric(suite: Suite) -> list[Any]:
    """Every metric in the table as this suite builds it (judged ones with the suite's judge or JUDGE)."""
    return build_metrics(suite, judge=suite.judge or JUDGE, names=list(TABLE))


def test_declared_identity_is_the_inferred_one_for_every_shipped_suite(shipped: list[Suite]) -> None:
    assert len(shipped) >= 4
    for suite in shipped:
        for metric in every_metric(suite):
            assert metric.identity() == inferred_identity(metric), (suite.name, metric.name)


def test_score_key_is_the_key_the_runner_built(shipped: list[Suite]) -> None:
    """The key layout the runner wrote before score_key existed: identity, case hash, answer digest."""
    suite = shipped[0]
    case = suite.test[0]
    answer = Answer(
        case_id=case.id, text="an answer", contexts=(Passage(id="p1", text="a passage"),), latency_s=0.25
    )
    for metric in every_metric(suite):
        old = Cache.key("score", inferred_identity(metric), case.hash, digest(answer.model_dump(mode="json")))
        assert score_key(metric, case, answer) == old
        assert score_key(metric, case, answer, digest(answer.model_dump(mode="json"))) == old


def test_a_setting_changes_the_key() -> None:
    case = Case(id="c", question="q", reference="r")
    answer = Answer(case_id="c", text="r")
    assert score_key(TokenF1(None), case, answer) != score_key(TokenF1("No idea."), case, answer)
    assert score_key(TokenF1(None), case, answer) != score_key(ExactMatch(None), case, answer)


def test_the_table_agrees_with_the_metrics_it_builds(shipped: list[Suite]) -> None:
    suite = shipped[0]
    for metric in every_metric(suite):
        info = TABLE[metric.name]
        assert metric.higher_is_better is info.higher_is_better, metric.name
        assert metric.unit == info.unit == unit_of(metric.name), metric.name
    assert {name for name, info in TABLE.items() if info.judged} == set(RAGAS) == set(JUDGED)
    assert set(METRICS) == {name for name in TABLE if not is_judged(name)}
    assert set(DIRECTIONLESS) == {"answer_tokens"}
    assert NEEDS_KEY == {
        "format_match": "format",
        "abstain_correct": "abstention",
        "abstain_false": "abstention",
    }
    assert unit_of("latency_s") == "seconds" and unit_of("answer_tokens") == "tokens"
    assert unit_of("faithfulness") == "score" and unit_of("not_a_metric") == "score"


def test_a_judged_metric_without_a_judge_is_refused_and_left_out_without_one(shipped: list[Suite]) -> None:
    from harness.errors import InputError

    plain = next(suite for suite in shipped if suite.judge is None)
    with pytest.raises(InputError, match="metric 'faithfulness' needs a judge"):
        build_metrics(plain, names=["token_f1", "faithfulness"])
    assert [m.name for m in build_metrics(plain, names=["token_f1", "faithfulness"], use_judge=False)] == [
        "token_f1"
    ]


def test_values_and_changes_are_written_by_unit() -> None:
    """The strings the renderers wrote when they special-cased latency_s and answer_tokens by name."""
    assert format_value(None, "latency_s") == "n/a"
    assert format_value(0.81234, "token_f1") == "0.812" and format_value(0.81234) == "0.812"
    assert format_value(0.15321, "latency_s") == "153.2 ms"
    assert format_value(12.46, "answer_tokens") == "12.5"
    assert format_change(0.05, "token_f1") == "+0.050" and format_change(-0.012, "latency_s") == "-12.0 ms"
    assert format_change(-0.012, "latency_s", suffix=False) == "-12.0"
    assert format_change(1.25, "answer_tokens") == "+1.250"  # changes in tokens kept three decimals
    assert display_of("latency_s").scale == 1000.0 and display_of("latency_s").axis == "ms"
    assert display_of("rouge_l").scale == 1.0 and display_of("rouge_l").axis == ""


def test_reference_metrics_share_the_best_of_references_rule() -> None:
    """EM and F1 compare with the references that have tokens; answer_recall skips tokenless ones but
    counts every reference; both name the best (the first of equals) when there are several."""
    case = Case(id="c", question="q", references=("The", "blue door", "the blue door"))
    said = Answer(case_id="c", text="the blue door")
    f1 = TokenF1().score(case, said)
    assert f1.value == 1.0 and f1.details == {"references": 2, "best": 0}
    em = ExactMatch().score(case, said)
    assert em.value == 1.0 and em.details == {"references": 2, "best": 0}
    recall = AnswerRecall().score(case, said)
    assert recall.value == 1.0
    assert recall.details == {"found": 2, "reference_tokens": 2, "references": 3, "best": 1}
    only_articles = Case(id="c", question="q", references=("The", "a"))
    assert AnswerRecall().score(only_articles, said).reason == "reference has no tokens after normalisation"
    assert TokenF1().score(only_articles, said).value == 0.0  # SQuAD keeps them all when none has a token
