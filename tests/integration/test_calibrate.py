"""`harness calibrate`: agreement figures where the right answer is known, the formulas against scipy, the
flip rate of a judge scripted to disagree with itself (local Gemini-protocol server), one-line errors for
bad label files, and the calibration found again beside the metric it qualifies."""

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy import stats as scipy_stats

from harness.cache import Cache
from harness.calibration import figures, identity
from harness.calibration.labels import load_labels
from harness.calibration.run import calibrate, save
from harness.cli import main
from harness.llm import guarded
from harness.metrics.base import Score
from tests.local_server import GeminiPeer

KEY = "AIzaSyC4calib-Test_key0987654321zyxwvut"
FLASH = "gemini:gemini-2.5-flash"
JUDGE_ID = f"{FLASH}@t=0+offline:minilm"


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def harness(tmp_path: Path, *args: str | Path) -> int:
    return main(["calibrate", *map(str, args), "--reports-dir", str(tmp_path / "reports"), "--no-mlflow"])


def result_of(tmp_path: Path) -> dict[str, Any]:
    found = sorted((tmp_path / "reports" / "calibration" / "runs").glob("*/calibration.json"))
    return dict(json.loads(found[-1].read_text(encoding="utf-8")))


class LabelAsScore:
    """A tiny metric: the number the answer text spells (the tests write the score into the answer)."""

    name = "spelled"
    version = 1
    judge = ""
    higher_is_better = True
    unit = "score"

    def identity(self) -> list[Any]:
        return [self.name, self.version, self.judge, {}]

    def score(self, case: Any, answer: Any) -> Score:
        return Score(value=float(answer.text))


# ---- the statistics against scipy ------------------------------------------------------------------------


def test_auroc_is_mann_whitney_u_over_pairs_with_ties_half() -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, size=80).astype(float)  # many ties
    positive = rng.random(80) < 0.4
    u = scipy_stats.mannwhitneyu(scores[positive], scores[~positive]).statistic
    assert figures.auroc(scores, positive) == pytest.approx(u / (positive.sum() * (~positive).sum()))


def test_spearman_and_kendall_match_scipy_with_ties() -> None:
    rng = np.random.default_rng(4)
    x = rng.integers(0, 6, size=60).astype(float)
    y = x + rng.integers(-2, 3, size=60)
    assert figures.spearman(x, y) == pytest.approx(scipy_stats.spearmanr(x, y).statistic)
    assert figures.kendall(x, y) == pytest.approx(scipy_stats.kendalltau(x, y).statistic)  # tau-b


def test_item_bootstrap_matches_scipy_percentile_bootstrap() -> None:
    """One row per item: the item bootstrap is the ordinary percentile bootstrap scipy computes."""
    rng = np.random.default_rng(5)
    labels = rng.random(200) < 0.5
    scores = labels + rng.normal(0, 1.0, size=200)
    groups = [np.array([i]) for i in range(200)]
    low, high = figures.item_bootstrap(groups, lambda r: figures.auroc(scores[r], labels[r]), seed=1)
    theirs = scipy_stats.bootstrap(
        (scores, labels),
        lambda s, lab: figures.auroc(s, lab.astype(bool)),
        paired=True,
        vectorized=False,
        n_resamples=2000,
        method="percentile",
        random_state=np.random.default_rng(1),
    ).confidence_interval
    assert low == pytest.approx(theirs.low, abs=0.02) and high == pytest.approx(theirs.high, abs=0.02)
    # and a share (a mean) agrees with the harness's own bootstrap of the mean
    agree = (rng.random(200) < 0.7).astype(float)
    mine = figures.item_bootstrap(groups, lambda r: float(agree[r].mean()), seed=0)
    from harness.stats import bootstrap_ci

    assert mine == pytest.approx(bootstrap_ci(agree, seed=0), abs=0.02)


def test_two_labels_of_one_item_are_resampled_together() -> None:
    """Duplicating every label must not narrow the interval as if there were twice the items."""
    rng = np.random.default_rng(6)
    agree = (rng.random(100) < 0.6).astype(float)
    single = figures.item_bootstrap([np.array([i]) for i in range(100)], lambda r: float(agree[r].mean()))
    doubled_values = np.repeat(agree, 2)
    doubled = figures.item_bootstrap(
        [np.array([2 * i, 2 * i + 1]) for i in range(100)], lambda r: float(doubled_values[r].mean())
    )
    assert doubled == pytest.approx(single, abs=0.02)


# ---- known agreement through the command -----------------------------------------------------------------


def test_metric_equal_to_label_has_auroc_one(tmp_path: Path) -> None:
    rows = [
        {
            "question": f"q{i}",
            "reference": f"the answer {i}",
            "answer": f"the answer {i}" if i % 2 else "no",
            "label": i % 2,
        }
        for i in range(40)
    ]
    path = write_jsonl(tmp_path / "labels.jsonl", rows)
    assert harness(tmp_path, path, "--metric", "exact_match") == 0
    entry = result_of(tmp_path)["metrics"]["exact_match"]
    assert entry["figures"]["auroc"]["value"] == 1.0
    assert entry["figures"]["auroc"]["ci_low"] == 1.0
    assert entry["figures"]["balanced_accuracy"]["value"] == 1.0
    assert entry["headline"]["agrees_poorly"] is False


def test_independent_metric_is_near_half_with_an_interval_covering_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    rows = [
        {"question": f"q{i}", "answer": f"{rng.random():.6f}", "label": int(rng.random() < 0.5)}
        for i in range(300)
    ]
    labels = load_labels(write_jsonl(tmp_path / "labels.jsonl", rows))
    result = calibrate(labels, [LabelAsScore()], Cache(tmp_path / "cache"))
    auroc = result["metrics"]["spelled"]["figures"]["auroc"]
    assert abs(auroc["value"] - 0.5) < 0.08
    assert auroc["ci_low"] < 0.5 < auroc["ci_high"]
    assert result["metrics"]["spelled"]["headline"]["agrees_poorly"] is True


def test_graded_labels_get_spearman_and_kendall(tmp_path: Path) -> None:
    rows = [{"question": f"q{i}", "answer": str(i % 5 + 0.5 * (i % 2)), "label": i % 5} for i in range(50)]
    labels = load_labels(write_jsonl(tmp_path / "labels.jsonl", rows), high=4)
    found = calibrate(labels, [LabelAsScore()], Cache(tmp_path / "cache"))["metrics"]["spelled"]["figures"]
    scores = np.array([i % 5 + 0.5 * (i % 2) for i in range(50)])
    graded = np.array([i % 5 for i in range(50)], dtype=float)
    assert found["spearman"]["value"] == pytest.approx(scipy_stats.spearmanr(scores, graded).statistic)
    assert found["kendall_tau_b"]["value"] == pytest.approx(scipy_stats.kendalltau(scores, graded).statistic)
    assert "auroc" not in found


def test_reversed_metric_in_pairwise_format_agrees_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """People prefer the answer with fewer reference words every time; token F1 prefers the other."""
    rows = []
    for i in range(30):
        good, bad = f"alpha beta gamma {i}", f"alpha {i}"
        first = i % 2 == 0
        rows.append(
            {
                "question": f"q{i}",
                "reference": f"alpha beta gamma {i}",
                "answer_a": bad if first else good,
                "answer_b": good if first else bad,
                "preference": "a" if first else "b",  # people chose the worse-matching answer
            }
        )
    rows.append(
        {"question": "tied", "reference": "x y", "answer_a": "x", "answer_b": "y", "preference": "tie"}
    )
    path = write_jsonl(tmp_path / "pairs.jsonl", rows)
    assert harness(tmp_path, path, "--metric", "token_f1", "--json") == 0
    printed = json.loads(capsys.readouterr().out)  # one JSON document on stdout
    found = printed["metrics"]["token_f1"]["figures"]
    assert found["agreement"]["value"] == 0.0 and found["disagreement"]["value"] == 1.0
    assert found["correlation_spearman"]["value"] < -0.9
    assert found["human_ties"] == {"n_labels": 1, "metric_also_ties": 1.0}
    # a second run reads every score from the cache the runner uses
    assert harness(tmp_path, path, "--metric", "token_f1") == 0
    assert result_of(tmp_path)["metrics"]["token_f1"]["scores"] == {"computed": 0, "cached": 62}


def test_two_annotators_give_the_ceiling(tmp_path: Path) -> None:
    rows = []
    for i in range(40):
        label = i % 2
        rows.append(
            {"id": f"i{i}", "question": f"q{i}", "answer": str(label), "label": label, "annotator": "x"}
        )
        other = label if i < 30 else 1 - label  # they disagree on 10 of 40
        rows.append(
            {"id": f"i{i}", "question": f"q{i}", "answer": str(label), "label": other, "annotator": "y"}
        )
    labels = load_labels(write_jsonl(tmp_path / "labels.jsonl", rows))
    result = calibrate(labels, [LabelAsScore()], Cache(tmp_path / "cache"))
    ceiling = result["ceiling"]
    assert ceiling["n_items"] == 40 and ceiling["raw_agreement"]["value"] == pytest.approx(0.75)
    assert ceiling["raw_agreement"]["ci_low"] < 0.75 < ceiling["raw_agreement"]["ci_high"]
    assert result["labels"]["n_labels"] == 80 and result["labels"]["n_items"] == 40


# ---- bad label files: one line, exit 2 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([{"question": "q", "answer": "a"}], r"missing column 'label' \(columns present: answer, question\)"),
        (
            [{"question": "q", "answer": "a", "label": 1}, {"question": "r", "answer": "b", "label": 3}],
            r"row 2: label 3 is out of range \[0, 1\]",
        ),
        (
            [{"question": "q", "answer_a": "same", "answer_b": "same", "preference": "a"}],
            r"row 1: answer_a and answer_b are identical",
        ),
        (
            [{"question": "q", "answer_a": "x", "answer_b": "y", "preference": "maybe"}],
            r"row 1: column 'preference' must be a, b, tie or a number",
        ),
        (
            [
                {"question": "q", "answer": "a", "label": 1, "annotator": "p"},
                {"question": "q", "answer": "a", "label": 0, "annotator": "p"},
            ],
            r"row 2: annotator 'p' labels this item again \(first at row 1\)",
        ),
    ],
)
def test_bad_label_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: list[dict[str, Any]], expected: str
) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    assert harness(tmp_path, path, "--metric", "token_f1") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and re.search(expected, err[0]), err


def test_empty_file_and_unknown_metric_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert harness(tmp_path, empty) == 2
    assert "empty file: no labelled rows" in capsys.readouterr().err
    path = write_jsonl(tmp_path / "ok.jsonl", [{"question": "q", "answer": "a", "label": 1}])
    assert harness(tmp_path, path, "--metric", "token_f2") == 2
    assert "unknown metric 'token_f2'" in capsys.readouterr().err
    assert harness(tmp_path, path, "--metric", "faithfulness") == 2
    assert "--judge-model" in capsys.readouterr().err


def test_csv_labels_read_like_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("question,answer,label\nq1,0.9,1\nq2,0.1,0\nq3,0.8,1\nq4,0.3,0\n", encoding="utf-8")
    labels = load_labels(path)
    assert labels.binary and [item.labels for item in labels.items] == [(1.0,), (0.0,), (1.0,), (0.0,)]


# ---- self-consistency through the local Gemini-protocol server -------------------------------------------


@pytest.fixture
def gemini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiPeer]:
    """A peer whose faithfulness verdicts for four contexts are scripted per call: items 2 and 4 change
    their verdict between the three scorings, items 1 and 3 do not."""
    plans = {"zephyr": [1, 1, 1], "quokka": [1, 0, 1], "marmot": [0, 0, 0], "ocelot": [1, 1, 0]}

    def verdict(value: int) -> str:
        row = {"statement": "It is so.", "reason": "scripted", "verdict": value}
        return json.dumps({"statements": [row]})

    sequences = {f"The {word} lives here.": [verdict(v) for v in plan] for word, plan in plans.items()}
    guarded._RUNTIMES.clear()
    with GeminiPeer(api_key=KEY, sequences=sequences) as peer:
        monkeypatch.setenv("GOOGLE_API_KEY", KEY)
        monkeypatch.delenv("GEMINI_API_KEY", raising=False)
        monkeypatch.setenv("HARNESS_GEMINI_BASE_URL", peer.url)
        models = tmp_path / "models.yaml"
        models.write_text(
            yaml.safe_dump({"models": {FLASH: {"rpm": None, "timeout_s": 2, "max_attempts": 2}}})
        )
        monkeypatch.setenv("HARNESS_MODELS", str(models))
        yield peer
    guarded._RUNTIMES.clear()


def test_flip_rate_of_a_judge_scripted_to_disagree_with_itself(
    tmp_path: Path, gemini: GeminiPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        {
            "question": f"Where does the {word} live?",
            "contexts": [f"The {word} lives here."],
            "answer": "It is so.",
            "label": label,
        }
        for word, label in (("zephyr", 1), ("quokka", 1), ("marmot", 0), ("ocelot", 1))
    ]
    path = write_jsonl(tmp_path / "labels.jsonl", rows)
    args = [path, "--metric", "faithfulness", "--judge-model", FLASH, "--repeat", "3", "--threshold", "0.5"]
    assert harness(tmp_path, *args) == 0
    entry = result_of(tmp_path)["metrics"]["faithfulness"]
    consistency = entry["consistency"]
    assert consistency["k"] == 3 and consistency["n_units"] == 4
    assert consistency["flip_rate"]["value"] == 0.5  # quokka and ocelot flip
    assert consistency["max_spread"] == 1.0 and consistency["mean_spread"]["value"] == 0.5
    assert entry["metric"]["judge"] == JUDGE_ID and entry["usage"]["calls"] > 0
    per_item = [
        json.loads(line)
        for line in next((tmp_path / "reports" / "calibration" / "runs").glob("*/items.jsonl"))
        .read_text()
        .splitlines()
    ]
    assert [item["scores"]["faithfulness"] for item in per_item] == [
        [[1.0], [1.0], [1.0]],
        [[1.0], [0.0], [1.0]],
        [[0.0], [0.0], [0.0]],
        [[1.0], [1.0], [0.0]],
    ]

    # the calibration travels with the metric: found for this exact judge, not for another
    reports = tmp_path / "reports"
    found = identity.note("faithfulness", JUDGE_ID, None, reports)
    assert found is not None and found.startswith("AUROC ") and f"on {tmp_path.name}" in found
    assert identity.note("faithfulness", f"{FLASH}@t=0.7+offline:minilm", None, reports) == "not calibrated"
    assert identity.note("token_f1", "", None, reports) is None  # no judge: nothing to qualify
    monkeypatch.setenv(identity.SETTING, str(reports / "calibration"))
    assert identity.sentence(
        {
            "faithfulness": {"judge": JUDGE_ID},
            "minilm_faithfulness": {"judge": "offline:sentence-transformers/all-MiniLM-L6-v2"},
        }
    ) == [f"Calibration against human labels: faithfulness: {found}; minilm_faithfulness: not calibrated."]


def test_result_is_logged_to_the_calibration_experiment(tmp_path: Path) -> None:
    from tests.mlflow_helpers import read_runs

    path = write_jsonl(
        tmp_path / "labels.jsonl",
        [
            {"question": f"q{i}", "reference": "a b", "answer": "a" if i % 2 else "a b", "label": 1 - i % 2}
            for i in range(12)
        ],
    )
    assert (
        main(["calibrate", str(path), "--metric", "token_f1", "--reports-dir", str(tmp_path / "reports")])
        == 0
    )
    (run,) = read_runs("calibration")
    assert run.data.metrics["token_f1_auroc"] == 1.0 and run.data.tags["labels"] == tmp_path.name
    assert run.data.params["metrics"] == "token_f1"


def test_save_keys_latest_by_identity(tmp_path: Path) -> None:
    rows = [{"question": f"q{i}", "answer": str(i % 2), "label": i % 2} for i in range(10)]
    labels = load_labels(write_jsonl(tmp_path / "labels.jsonl", rows))
    metric = LabelAsScore()
    folder = save(calibrate(labels, [metric], Cache(tmp_path / "cache")), tmp_path / "reports")
    assert (folder / "calibration.json").is_file() and len(
        (folder / "items.jsonl").read_text().splitlines()
    ) == 10
    pointer = identity.latest(metric, tmp_path / "reports")
    assert pointer is not None and pointer["identity"] == identity.identity(metric)
    assert not math.isnan(pointer["headline"]["value"])


def test_gate_note_rebuilds_the_identity_from_suite_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate knows a run's suite and metric names: the judge comes from suite.yaml, and a metric whose
    parameters differ there (another abstention answer) is another identity, so not calibrated."""
    from harness.metrics.offline_judge import MiniLMFaithfulness

    rows = [{"question": f"q{i}", "answer": str(i % 2), "label": i % 2} for i in range(10)]
    labels = load_labels(write_jsonl(tmp_path / "labels.jsonl", rows))

    class Stand(LabelAsScore):  # scored by a tiny metric, saved under minilm_faithfulness's identity
        name = "minilm_faithfulness"

    result = calibrate(labels, [Stand()], Cache(tmp_path / "cache"))
    entry = result["metrics"]["minilm_faithfulness"]
    real = MiniLMFaithfulness()
    entry["identity"], entry["metric"] = identity.identity(real), identity.describe(real)
    save(result, tmp_path / "reports")
    monkeypatch.setenv(identity.SETTING, str(tmp_path / "reports" / "calibration"))
    suites = tmp_path / "suites"
    for name, extra in (("plain", {}), ("other", {"abstention": "No idea."})):
        (suites / name).mkdir(parents=True)
        spec = {"name": name, "version": 1, "corpus": "c.jsonl", "test": "t.jsonl", "metrics": {}, **extra}
        (suites / name / "suite.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    (plain,) = identity.suite_notes("plain", ["token_f1", "minilm_faithfulness", "faithfulness"], suites)
    assert plain.startswith("calibration against human labels: minilm_faithfulness: AUROC 1.00 [1.00, 1.00]")
    assert plain.endswith("faithfulness: not calibrated") and "token_f1" not in plain
    assert identity.suite_notes("other", ["minilm_faithfulness"], suites) == [
        "calibration against human labels: minilm_faithfulness: not calibrated"
    ]
    assert identity.suite_notes("plain", ["token_f1", "rouge_l"], suites) == []


def test_shipped_ragchecker_set_loads_with_two_annotators_per_pair() -> None:
    """The shipped set validates, and its annotators' agreement is the ceiling docs/calibration.md quotes."""
    from harness.calibration.run import ceiling_of

    root = Path(__file__).resolve().parents[2] / "calibration" / "ragchecker-meta"
    labels = load_labels(root / "pairs.jsonl")
    assert labels.kind == "pairwise" and len(labels.items) == 275 and labels.n_labels == 550
    assert all(len(item.labels) == 2 and item.annotators == ("1", "2") for item in labels.items)
    for name in ("LICENSE", "NOTICE", "README.md"):
        assert (root / name).is_file()
    ceiling = ceiling_of(labels, seed=0)
    assert ceiling is not None
    assert round(ceiling["correlation_spearman"]["value"], 2) == 0.69
    assert round(ceiling["agreement_when_metric_decides"]["value"], 2) == 0.89


def test_shipped_begin_wow_set_loads_as_binary_labels_with_their_passage() -> None:
    """The faithfulness set loads as binary pointwise labels, each answer with the snippet it is judged on."""
    root = Path(__file__).resolve().parents[2] / "calibration" / "begin-wow"
    labels = load_labels(root / "labels.jsonl")
    assert labels.kind == "pointwise" and labels.binary
    assert len(labels.items) == 400 and labels.n_labels == 400
    assert all(item.contexts is not None and len(item.contexts) == 1 for item in labels.items)
    assert sum(item.labels[0] == 1.0 for item in labels.items) == 152
    for name in ("LICENSE", "NOTICE", "README.md", "convert.py"):
        assert (root / name).is_file()
