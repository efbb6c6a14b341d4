"""The offline profile's tuned systems: real MiniLM, real training on the smoke suite's train split."""

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.cache import Cache
from harness.cli import main
from harness.errors import InputError
from harness.suite import Suite, load_suite
from harness.system import Answer, SystemSpec, build_system, load_system_spec
from harness.systems import training
from harness.systems.retrieval import Retriever
from harness.systems.tuned import NO_ANSWER, SpanReader, best_span, reader_examples
from tests.conftest import ROOT, SMOKE

FINETUNED = ROOT / "systems" / "finetuned-minilm.yaml"
HYBRID = ROOT / "systems" / "hybrid-minilm.yaml"
# Small enough for a test: a few reader steps, the retriever tuned for one short epoch.
READER = {"epochs": 1, "max_steps": 6, "batch_size": 8, "tune_retriever": True, "freeze_layers": 4}


@pytest.fixture(scope="module")
def smoke() -> Suite:
    return load_suite(SMOKE)


@pytest.fixture(scope="module")
def retriever(smoke: Suite) -> Retriever:
    spec = load_system_spec(HYBRID).retriever
    assert spec is not None
    return Retriever(spec, smoke.corpus)


def spec_from(path: Path, **finetune: Any) -> SystemSpec:
    raw = load_system_spec(path).model_dump()
    raw["finetune"].update(finetune)
    return SystemSpec.model_validate(raw)


def answer_all(spec: SystemSpec, suite: Suite, cache: Cache) -> tuple[list[Answer], dict[str, list[float]]]:
    system = build_system(spec, cache)
    system.prepare(suite)
    return system.answer(list(suite.test)), system.training_log  # type: ignore[attr-defined]


def test_classifier_learns_and_answers_closed_book(smoke: Suite) -> None:
    answers, log = answer_all(spec_from(FINETUNED), smoke, Cache())
    assert log["train_loss"][-1] < 0.5 * log["train_loss"][0]
    assert log["val_loss"] and log["val_loss"][-1] < log["val_loss"][0]
    references = {case.reference for case in smoke.train}
    assert all(answer.text in references and answer.contexts is None for answer in answers)
    correct = sum(answer.text == case.reference for answer, case in zip(answers, smoke.test, strict=True))
    assert correct >= len(smoke.test) // 2  # smoke's test questions paraphrase its train questions


def test_classifier_is_reused_from_the_cache_and_retrained_when_a_setting_changes(smoke: Suite) -> None:
    cache = Cache()
    first, _ = answer_all(spec_from(FINETUNED, epochs=20), smoke, cache)
    runs = training.runs
    again, log = answer_all(spec_from(FINETUNED, epochs=20), smoke, cache)
    assert training.runs == runs, "the second prepare() trained instead of loading the weights"
    assert [a.text for a in again] == [a.text for a in first] and log["train_loss"]
    answer_all(spec_from(FINETUNED, epochs=20, lr=2e-3), smoke, cache)
    assert training.runs == runs + 1
    saved = list((cache.directory / "artifacts" / "model").glob("*/training.json"))
    assert len(saved) == 2 and all(json.loads(p.read_text())["info"]["recipe"] == "classifier" for p in saved)


def test_reader_examples_put_the_reference_span_in_the_gold_passage(
    smoke: Suite, retriever: Retriever
) -> None:
    examples, skipped = reader_examples(list(smoke.train), retriever, distractors=1)
    positives = [example for example in examples if example.start >= 0]
    assert skipped == 0 and len(positives) == len(smoke.train)
    for example, case in zip(positives, smoke.train, strict=True):
        assert example.context[example.start : example.end].lower() == case.reference.lower()
    negatives = [example for example in examples if example.start < 0]
    assert negatives and all(example.end < 0 for example in negatives)


def test_best_span_scores_against_the_no_answer_position() -> None:
    starts = np.array([1.0, 0.0, 3.0, 0.0, 9.0])
    ends = np.array([1.0, 0.0, 0.0, 4.0, 9.0])
    context = np.array([False, True, True, True, False])  # [CLS], three passage tokens, [SEP]
    assert best_span(starts, ends, context) == (5.0, 2, 3)


def test_reader_trains_and_answers_with_spans_of_retrieved_passages(smoke: Suite) -> None:
    answers, log = answer_all(spec_from(HYBRID, **READER), smoke, Cache())
    assert {"train_loss", "val_loss", "retriever_train_loss", "retriever_val_loss"} <= set(log)
    assert log["reader_skipped_cases"] == [0.0] and log["train_loss"][-1] < log["train_loss"][0]
    assert any(answer.text != NO_ANSWER for answer in answers), "the reader never answered from a passage"
    for answer in answers:
        assert answer.contexts, "a hybrid answer carries the passages it read"
        assert answer.text == NO_ANSWER or any(answer.text in p.text for p in answer.contexts), answer.text


def test_same_seed_gives_the_same_reader(smoke: Suite, retriever: Retriever) -> None:
    tune = spec_from(HYBRID, **READER).finetune
    assert tune is not None
    examples, _ = reader_examples(list(smoke.train), retriever, distractors=1)
    runs = training.runs
    first = training.train_reader(examples[:-10], examples[-10:], tune, None)  # no cache: trains afresh
    second = training.train_reader(examples[:-10], examples[-10:], tune, None)
    assert training.runs == runs + 2 and first.folder != second.folder
    assert first.curves == second.curves
    questions = [case.question for case in smoke.test]
    contexts = retriever.search(questions)
    read = [
        SpanReader(trained.folder / "reader", tune.max_length).read(questions, contexts)
        for trained in (first, second)
    ]
    assert read[0] == read[1]


def test_a_closed_book_run_reports_faithfulness_as_not_applicable(tmp_path: Path) -> None:
    args = [
        "run",
        "--suite",
        str(SMOKE),
        "--system",
        str(FINETUNED),
        "--no-mlflow",
        "--reports-dir",
        str(tmp_path),
    ]
    assert main(args) == 0
    (folder,) = (tmp_path / "runs").iterdir()
    report = json.loads((folder / "run.json").read_text())
    faithfulness = report["summary"]["minilm_faithfulness"]
    assert faithfulness["n_scored"] == 0 and faithfulness["mean"] is None
    assert any(re.search("closed-book", reason) for reason in faithfulness["unscored_reasons"])
    assert report["training"]["train_loss"]


def test_tuned_systems_reject_contradictory_blocks() -> None:
    raw = load_system_spec(HYBRID).model_dump()
    raw["finetune"]["method"] = "classifier"
    with pytest.raises(InputError, match="closed-book"):
        build_system(SystemSpec.model_validate(raw))
    with pytest.raises(InputError, match="nothing to tune"):
        build_system(spec_from(HYBRID, freeze_layers=6))


def test_span_candidates_find_the_core_of_a_formatted_reference() -> None:
    from harness.systems.tuned import span_candidates

    pieces = span_candidates("Answer: 2.2 kg. Source: Cairnline Pro Tent Spec Sheet")
    assert pieces[0] == "Answer: 2.2 kg. Source: Cairnline Pro Tent Spec Sheet"
    assert "2.2 kg" in pieces and "Answer" not in pieces and "Source" not in pieces
    assert span_candidates("14 days") == ["14 days"]
    assert span_candidates("") == []
