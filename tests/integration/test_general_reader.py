"""The general-purpose QA set and the rag arm's reader trained on it (real MiniLM, once per machine)."""

import json
import re

from harness.cache import Cache
from harness.models import artifacts
from harness.suite import load_suite
from harness.system import build_system, load_system_spec
from harness.systems import general_qa, training
from harness.systems.span_reader import MAX_ANSWER_TOKENS, NO_ANSWER, calibrate
from tests.conftest import RAG, ROOT, SMOKE


def test_generated_answers_are_spans_of_their_passage() -> None:
    made = general_qa.passages(seed=3, count=40)
    answered = [(p, q) for p in made for q in p.questions if q.answer is not None]
    assert answered and all(p.text[q.start : q.start + len(q.answer or "")] == q.answer for p, q in answered)
    unanswered = sum(q.answer is None for p in made for q in p.questions)
    assert 0 < unanswered < len(answered)  # some questions ask what the passage leaves out
    assert general_qa.passages(seed=3, count=40) == made  # one seed, one text: the cache key is stable
    assert general_qa.passages(seed=4, count=40) != made


def test_generated_set_stays_out_of_the_shipped_suites_domains() -> None:
    text = " ".join(p.text + " ".join(q.question for q in p.questions) for p in general_qa.passages(0, 200))
    # The shipped suites are about a garden, a company, products and support docs.
    for word in ("garden", "plot", "compost", "employee", "refund", "warranty", "password", "subscription"):
        assert not re.search(rf"\b{word}\b", text, re.IGNORECASE), word


def test_reader_rows_mark_the_answer_or_no_answer() -> None:
    rows = general_qa.reader_examples(seed=5, count=20)
    answerable = [row for row in rows if row[2] >= 0]
    assert answerable and len(answerable) < len(rows)
    for _question, context, start, end in answerable:
        assert 0 <= start < end <= len(context) and len(context[start:end].split()) <= 8


def test_calibration_picks_the_threshold_with_the_best_f1_by_hand() -> None:
    # Margins 3 and 1 give right answers, 2 and -1 wrong ones against an abstention reference.
    scored = [(3.0, "red"), (2.0, "blue"), (1.0, "green"), (-1.0, "pink")]
    references = ["red", NO_ANSWER, "green", NO_ANSWER]
    # Threshold -inf: F1 1 + 0 + 1 + 0 = 2. Above -1: 1 + 0 + 1 + 1 = 3. Above 1: 1 + 0 + 0 + 1 = 2.
    # Above 2: 1 + 1 + 0 + 1 = 3, a tie with -1: the lower threshold wins, so it answers more.
    assert calibrate(scored, references) == -1.0
    assert calibrate(scored, ["red", "blue", "green", "pink"]) == -1e6  # nothing to abstain on: answer all
    assert calibrate([], []) == 0.0
    # Wrong spans everywhere, the one abstention reference at the top margin: F1 alone abstains on all
    # four (threshold 3.0: 0 + 0 + 0 + 1 beats answering all: 0), a collapse. Capped at half of the three
    # answerable questions (1.5), raising past 0.5 and 1.0 silences two: blocked, so it answers all.
    wrong = [(3.0, "x"), (2.0, "y"), (1.0, "z"), (0.5, "w")]
    capped = [NO_ANSWER, "red", "green", "pink"]
    assert calibrate(wrong, capped) == -1e6
    assert calibrate(wrong, capped, most_abstained=1.0) == 3.0


def test_the_general_reader_trains_once_and_is_reused() -> None:
    general = training.general_reader().folder
    runs = artifacts.runs
    assert training.general_reader().folder.resolve() == general.resolve() and artifacts.runs == runs
    info = json.loads((general / training.LOG_FILE).read_text())["info"]
    assert info["examples"] >= 1000 and info["negatives"] > 0
    assert (general / "reader" / "config.json").exists()


def test_rag_answers_short_spans_and_never_reads_the_train_split() -> None:
    suite = load_suite(SMOKE)
    spec = load_system_spec(RAG)
    assert spec.finetune is None and spec.generator.model == "minilm"
    system = build_system(spec, Cache())
    system.prepare(suite.model_copy(update={"train": ()}))
    answers = system.answer(list(suite.test))
    with_train = build_system(spec, Cache())
    with_train.prepare(suite)
    assert [a.text for a in with_train.answer(list(suite.test))] == [a.text for a in answers]
    spans = [a for a in answers if a.text != NO_ANSWER]
    assert len(spans) == len(answers), "with passages retrieved, the off-the-shelf reader always answers"
    for answer in spans:
        assert answer.contexts and any(answer.text in p.text for p in answer.contexts), answer.text
        assert len(answer.text.split()) <= MAX_ANSWER_TOKENS, f"not an answer-sized span: {answer.text!r}"
        assert not re.search(r"[.!?]\s+[A-Z]", answer.text), f"a span across sentences: {answer.text!r}"
    assert len({a.text for a in spans}) > len(spans) // 2, "one answer text for most questions"


def test_the_three_offline_systems_still_validate() -> None:
    for name in ("rag-minilm", "hybrid-minilm", "finetuned-minilm"):
        assert load_system_spec(ROOT / "systems" / f"{name}.yaml").name == name
