"""The offline profile's tuned systems: real MiniLM, real training on the smoke suite's train split."""

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.cache import Cache
from harness.cli import main
from harness.errors import InputError
from harness.models import artifacts
from harness.suite import Suite, load_suite
from harness.system import Answer, SystemSpec, build_system, load_system_spec
from harness.systems import training
from harness.systems.minilm import reader_examples, span_candidates
from harness.systems.retrieval import Retriever
from harness.systems.span_reader import NO_ANSWER, SpanReader, best_span
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
    # Only a test answer seen in train can be given back; most of those should be.
    seen = [
        (answer, case)
        for answer, case in zip(answers, smoke.test, strict=True)
        if case.reference in references
    ]
    assert sum(answer.text == case.reference for answer, case in seen) >= len(seen) // 2


def test_classifier_is_reused_from_the_cache_and_retrained_when_a_setting_changes(smoke: Suite) -> None:
    cache = Cache()
    first, _ = answer_all(spec_from(FINETUNED, epochs=20), smoke, cache)
    runs = artifacts.runs
    again, log = answer_all(spec_from(FINETUNED, epochs=20), smoke, cache)
    assert artifacts.runs == runs, "the second prepare() trained instead of loading the weights"
    assert [a.text for a in again] == [a.text for a in first] and log["train_loss"]
    answer_all(spec_from(FINETUNED, epochs=20, lr=2e-3), smoke, cache)
    assert artifacts.runs == runs + 1
    saved = list((cache.directory / "artifacts" / "model").glob("*/training.json"))
    assert len(saved) == 2 and all(json.loads(p.read_text())["info"]["recipe"] == "classifier" for p in saved)


def test_reader_examples_put_the_reference_span_in_the_gold_passage(
    smoke: Suite, retriever: Retriever
) -> None:
    examples, skipped = reader_examples(list(smoke.train), retriever, distractors=1)
    positives = [example for example in examples if example.start >= 0]
    answerable = [case for case in smoke.train if case.gold_ids]
    assert len(positives) + skipped == len(answerable) and len(positives) >= len(answerable) // 2
    for example in positives:
        assert example.context[example.start : example.end].lower() in {
            c.reference.lower() for c in answerable
        }
    negatives = [example for example in examples if example.start < 0]
    assert negatives and all(example.end < 0 for example in negatives)


def test_best_span_scores_against_the_no_answer_position() -> None:
    starts = np.array([1.0, 0.0, 3.0, 0.0, 9.0])
    ends = np.array([1.0, 0.0, 0.0, 4.0, 9.0])
    context = np.array([False, True, True, True, False])  # [CLS], three passage tokens, [SEP]
    assert best_span(starts, ends, context) == (5.0, 2, 3)  # 3 + 4 - (1 + 1)
    # Token 2 ends a sentence: spans may end on it but not run past it. Best left: 1..2 (0 + 0 - 2)
    # or 2..2 (3 + 0 - 2 = 1) or 3..3 (0 + 4 - 2 = 2): the last, one token after the stop.
    stops = np.array([False, False, True, False, False])
    assert best_span(starts, ends, context, stops) == (2.0, 3, 3)


def test_reader_trains_and_answers_with_spans_of_retrieved_passages(smoke: Suite) -> None:
    answers, log = answer_all(spec_from(HYBRID, **READER), smoke, Cache())
    assert {"train_loss", "val_loss", "retriever_train_loss", "retriever_val_loss"} <= set(log)
    assert len(log["no_answer_threshold"]) == 1 and log["train_loss"]
    assert any(answer.text != NO_ANSWER for answer in answers), "the reader never answered from a passage"
    for answer in answers:
        assert answer.contexts, "a hybrid answer carries the passages it read"
        assert answer.text == NO_ANSWER or any(answer.text in p.text for p in answer.contexts), answer.text


def test_same_seed_gives_the_same_reader(smoke: Suite, retriever: Retriever) -> None:
    tune = spec_from(HYBRID, **READER).finetune
    assert tune is not None
    examples, _ = reader_examples(list(smoke.train), retriever, distractors=1)
    runs = artifacts.runs
    first = training.train_reader(examples[:-10], examples[-10:], tune, None)  # no cache: trains afresh
    second = training.train_reader(examples[:-10], examples[-10:], tune, None)
    assert artifacts.runs == runs + 2 and first.folder != second.folder
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
    pieces = span_candidates("Answer: 2.2 kg. Source: Cairnline Pro Tent Spec Sheet")
    assert pieces[0] == "Answer: 2.2 kg. Source: Cairnline Pro Tent Spec Sheet"
    assert "2.2 kg" in pieces and "Answer" not in pieces and "Source" not in pieces
    assert span_candidates("14 days") == ["14 days"]
    assert span_candidates("") == []


# A suite unlike the shipped ones, written here: long reports (several hundred words) on island weather
# stations, questions phrased freely, answers that are names, numbers and phrases, never sentences.
_FACTS = {
    "keeper": (
        [
            "{V} has kept the station on {I} since the spring.",
            "These days the instruments on {I} are read by {V}.",
        ],
        [
            "Who looks after the weather station on {I} nowadays?",
            "name the person who reads the instruments on {I}",
        ],
    ),
    "boat": (
        [
            "Supplies reach {I} every fortnight on {V}.",
            "The only link with the mainland is {V}, which calls at {I} twice a month.",
        ],
        ["Which boat brings supplies to {I}?", "what vessel links {I} with the mainland"],
    ),
    "gust": (
        [
            "The strongest gust ever logged on {I} reached {V}.",
            "In the great storm the anemometer on {I} recorded {V}.",
        ],
        ["What's the record gust measured on {I}?", "How strong was the worst gust on {I}?"],
    ),
    "call": (
        ["Its radio call sign is {V}.", "Ships hail the station on {I} as {V}."],
        ["Which call sign does the station on {I} use on the radio?", "how do ships hail the station on {I}"],
    ),
    "rain": (
        ["{I} gets about {V} of rain in a year.", "Annual rainfall on {I} averages {V}."],
        ["How much rain falls on {I} in a typical year?", "What's the yearly rainfall on {I}?"],
    ),
    "founded": (
        ["The first observations on {I} were made in {V}.", "Records on {I} go back to {V}."],
        ["Since when have observations been made on {I}?", "In what year did record keeping start on {I}?"],
    ),
}
_FILLER = [
    "The station house is a low stone building with thick walls and small windows facing away from the sea.",
    "Every morning the keeper climbs the hill behind the house to read the thermometers in the white screen.",
    "Visitors are rare, and most of them are birdwatchers who come for the puffins in early summer.",
    "Fresh water is collected from the roof and stored in a cistern under the kitchen floor.",
    "In winter the sea can cut the island off for weeks, and the keeper relies on tinned food and patience.",
    "The old logbooks, written in pencil and ink, are kept in a cabinet in the radio room.",
    "A small generator provides electricity, although it is switched off at night to save fuel.",
    "Sheep graze the western slope, left there by a farmer who visits twice a year to shear them.",
]


def _station_suite(folder: Path) -> Path:
    import random

    rng = random.Random(11)
    syllables = ["ska", "rey", "vik", "mor", "tal", "sund", "hol", "bri", "nes", "kir", "dun", "ova"]
    corpus, cases = [], []
    for number in range(10):
        island = "".join(rng.sample(syllables, 2)).capitalize() + rng.choice(
            [" Isle", " Island", "ey", "holm"]
        )
        values = {
            "keeper": f"{rng.choice(['Ada', 'Bram', 'Dagny'])} {rng.choice(['Vorne', 'Quist', 'Mbeki'])}",
            "boat": f"the {rng.choice(['Grey', 'Swift', 'Lucky'])} {rng.choice(['Gannet', 'Otter', 'Tern'])}",
            "gust": f"{rng.randint(90, 220)} km/h",
            "call": f"{rng.choice('KLMNZ')}{rng.choice('ABCDX')}{rng.randint(2, 99)}",
            "rain": f"{rng.randint(600, 3200)} millimetres",
            "founded": str(rng.randint(1850, 1990)),
        }
        sentences = [
            rng.choice(_FACTS[fact][0]).replace("{I}", island).replace("{V}", value)
            for fact, value in values.items()
        ]
        sentences += rng.sample(_FILLER, 6) + rng.sample(_FILLER, 6)
        rng.shuffle(sentences)
        text = f"{island} lies far out to sea and has had a weather station for many years. " + " ".join(
            sentences
        )
        corpus.append({"id": f"station-{number}", "title": f"{island} weather station", "text": text})
        for fact, value in values.items():
            question = rng.choice(_FACTS[fact][1]).replace("{I}", island)
            cases.append({"question": question, "reference": value, "gold_ids": [f"station-{number}"]})
    rng.shuffle(cases)
    folder.mkdir()
    for name, rows in (("corpus", corpus), ("train", cases[:40]), ("test", cases[40:])):
        if name != "corpus":
            rows = [row | {"id": f"{name}-{n}"} for n, row in enumerate(rows)]
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / "suite.yaml").write_text(
        "name: stations\nversion: 1\ncorpus: corpus.jsonl\ntrain: train.jsonl\ntest: test.jsonl\n"
        "metrics: {token_f1: {}}\n",
        encoding="utf-8",
    )
    return folder


def test_hybrid_answers_long_unseen_passages_with_spans_of_the_gold_passage(tmp_path: Path) -> None:
    suite = load_suite(_station_suite(tmp_path / "stations"))
    assert min(len(p.text.split()) for p in suite.corpus) >= 250  # several hundred words each
    # Cheap: six reader steps from the general reader, the retriever left untuned. The chunking is pinned to
    # 512 characters (what this test was written against): with so few steps the share answered from the
    # gold passage moves with the chunk boundaries (measured on these 20 questions: 13 with 512 characters,
    # 9 with the shipped 192 word pieces, 9 with 128; docs/retrieval.md), and this test is about the reader.
    raw = spec_from(HYBRID, max_steps=6, tune_retriever=False).model_dump()
    raw["retriever"].update(chunk_size=512, chunk_unit="chars", chunk_overlap=64)
    answers, log = answer_all(SystemSpec.model_validate(raw), suite, Cache())
    gold = {p.id: p.text for p in suite.corpus}
    found = [
        (answer, case)
        for answer, case in zip(answers, suite.test, strict=True)
        if answer.contexts and any(p.source_id in case.gold_ids for p in answer.contexts)
    ]
    assert len(found) >= len(suite.test) // 2, "retrieval missed most gold passages"
    spans = [
        answer for answer, case in found if answer.text != NO_ANSWER and answer.text in gold[case.gold_ids[0]]
    ]
    assert len(spans) > len(found) // 2, f"answered {len(spans)} of {len(found)} from the gold passage"
    assert max(Counter(a.text for a in answers).values()) <= len(answers) // 2, "one answer for most cases"
    assert all(len(answer.text.split()) <= 12 for answer in spans)
    assert log["no_answer_threshold"][0] > -1e6 or all(a.text != NO_ANSWER for a in answers)
