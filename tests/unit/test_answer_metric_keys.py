"""The suite.yaml keys the answer metrics read, directionless metrics in the gate, and the `base` kind."""

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.gate import check_metric
from harness.metrics import build_metrics
from harness.metrics.answer import AnswerTokens
from harness.metrics.base import Score
from harness.report import MetricSummary, Record, format_value, summarise_metric
from harness.suite import MetricPolicy, load_suite
from harness.system import Answer, load_system_spec

ROOT = Path(__file__).resolve().parents[2]


def edit_suite(folder: Path, extra: str = "", metrics: str = "") -> Path:
    """smoke_copy's suite.yaml with lines added at the top level and under `metrics:` (replacing the
    suite's own policy of a metric named there)."""
    path = folder / "suite.yaml"
    names = {line.split(":")[0].strip() for line in metrics.splitlines()}
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.split(":")[0].strip() not in names
    ]
    text = "\n".join(kept).replace("metrics:", f"{extra}metrics:\n{metrics}".rstrip("\n"), 1) + "\n"
    path.write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("extra", "metrics", "says"),
    [
        ("format: 'Answer: (.+'\n", "", "key 'format': not a valid regular expression"),
        ("", "  format_match: {}\n", "'format_match' needs the key 'format'"),
        ("", "  abstain_correct: {}\n", "'abstain_correct' needs the key 'abstention'"),
        ("abstention: ''\n", "  abstain_false: {}\n", "'abstain_false' needs the key 'abstention'"),
        ("", "  answer_tokens: {max_drop: 1}\n", "'answer_tokens' has no better direction"),
        ("formt: x\n", "", "formt"),
    ],
)
def test_suite_refuses_metric_keys_it_cannot_honour(
    smoke_copy: Path, extra: str, metrics: str, says: str
) -> None:
    folder = edit_suite(smoke_copy, extra, metrics)
    with pytest.raises(InputError) as err:
        load_suite(folder)
    assert says in str(err.value) and "suite.yaml" in err.value.where


def test_declared_format_and_abstention_reach_the_metrics(smoke_copy: Path) -> None:
    folder = edit_suite(
        smoke_copy,
        "format: '[0-9].*'\nabstention: Not in the notes.\n",
        "  format_match: {min: 0.5}\n  abstain_correct: {}\n  abstain_false: {max_drop: 0.1}\n",
    )
    suite = load_suite(folder)
    assert suite.format == "[0-9].*" and suite.abstention == "Not in the notes."
    built = {m.name: m for m in build_metrics(suite, names=["format_match", "abstain_correct"])}
    case = suite.test[0]
    assert built["format_match"].score(case, Answer(case_id=case.id, text="7 a.m.")).value == 1.0
    unanswerable = case.model_copy(update={"reference": "Not in the notes."})
    said = Answer(case_id=case.id, text="Not in the notes.")
    assert built["abstain_correct"].score(unanswerable, said).value == 1.0


def summary(higher: bool | None, mean: float) -> MetricSummary:
    return MetricSummary(
        higher_is_better=higher, judge="", mean=mean, ci_low=mean, ci_high=mean, n_scored=4, n_unscored=0
    )


def test_a_directionless_metric_is_shown_never_gated() -> None:
    # answer_tokens went from 3 to 30 tokens per answer on every case: a change, neither a drop nor a gain
    then = {f"c{i}": 3.0 for i in range(4)}
    now: dict[str, float | None] = {f"c{i}": 30.0 for i in range(4)}
    policy = MetricPolicy(min=100.0, max_drop=0.0)  # a policy load_suite would refuse, ignored here too
    check = check_metric("answer_tokens", policy, summary(None, 30.0), summary(None, 3.0), now, then)  # type: ignore[arg-type]
    assert check.verdict == "info" and "no better direction" in check.why
    assert check.drop is None and check.higher_is_better is None
    # the same change on a metric with a direction fails its floor
    directed = check_metric(
        "token_f1", MetricPolicy(min=0.5), summary(True, 0.3), summary(True, 0.9), now, then
    )  # type: ignore[arg-type]
    assert directed.verdict == "fail"


def test_run_summary_carries_no_direction() -> None:
    records = [
        Record(
            case_id=f"c{i}",
            question="q",
            reference="r",
            gold_ids=(),
            tags=(),
            answer="a " * i,
            contexts=None,
            latency_s=0.0,
            usage={},
            error=None,
            scores={"answer_tokens": Score(value=float(i))},
        )
        for i in range(3)
    ]
    result = summarise_metric(AnswerTokens(), records)
    # mean of 0, 1, 2 tokens = 1.0
    assert result.higher_is_better is None and result.mean == pytest.approx(1.0)
    assert format_value(result.mean, "answer_tokens") == "1.0"  # a length, not a share like "1.000"


BASE = "name: base-x\nkind: base\ngenerator: {model: 'hf:some/model'}\n"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (BASE + "retriever: {method: bm25}\n", "a base system is closed-book"),
        (BASE + "finetune: {method: lora}\n", "a base system trains nothing"),
        (BASE.replace("'hf:some/model'}", "'hf:some/model', tuned: true}"), "the untuned model"),
        (BASE.replace("kind: base", "kind: finetuned"), "the untuned closed-book model is kind: base"),
    ],
)
def test_kind_base_is_closed_book_and_untrained(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "sys.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_system_spec(path)
    assert says in str(err.value)


def test_shipped_controls_are_kind_base() -> None:
    for name in ("base-qwen", "base-gemini"):
        spec = load_system_spec(ROOT / "systems" / f"{name}.yaml")
        assert spec.kind == "base" and spec.finetune is None and spec.retriever is None
        assert not spec.generator.tuned
