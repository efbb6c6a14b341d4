"""Several references per case: EM and F1 equal the official SQuAD v2.0 script on an imported SQuAD file,
the other metrics take the best reference, and a wrong shape in a test table is one line."""

import json
import re
import string
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from harness.errors import InputError
from harness.hashing import digest
from harness.importers import Options, import_suite
from harness.metrics import build_metrics
from harness.metrics.answer import DEFAULT_ABSTENTION, AnswerRecall
from harness.metrics.lexical import Rouge, rouge_scores
from harness.overlap import suite_overlap
from harness.suite import Case, load_suite
from harness.system import Answer


# --- The official SQuAD v2.0 evaluation, written again from its description --------------------------
def official_normalise(text: str) -> str:
    """Lower case, drop punctuation, drop the articles a/an/the, collapse whitespace (in that order)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def official_exact(gold: str, prediction: str) -> float:
    return float(official_normalise(gold) == official_normalise(prediction))


def official_f1(gold: str, prediction: str) -> float:
    gold_tokens = official_normalise(gold).split()
    predicted = official_normalise(prediction).split()
    if not gold_tokens or not predicted:  # an unanswerable question: 1 only if both are empty
        return float(gold_tokens == predicted)
    common = sum((Counter(gold_tokens) & Counter(predicted)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def official_scores(answers: list[str], prediction: str) -> tuple[float, float]:
    """Max over the gold answers that survive normalisation; [""] when none does (unanswerable)."""
    golds = [text for text in answers if official_normalise(text)] or [""]
    return max(official_exact(g, prediction) for g in golds), max(official_f1(g, prediction) for g in golds)


# --- A SQuAD v2.0 file written by hand ----------------------------------------------------------------
PARAGRAPHS = [
    (
        "Normans",
        "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, "
        "a region in France. They were descended from Norse raiders and pirates.",
        [
            ("n1", "In what country is Normandy located?", ["France", "France", "a region in France"]),
            (
                "n2",
                "When were the Normans in Normandy?",
                ["10th and 11th centuries", "in the 10th and 11th centuries"],
            ),
            ("n3", "From whom were the Normans descended?", ["Norse raiders and pirates", "Norse"]),
            ("n4", "Who gave their name to Scotland?", []),  # unanswerable
        ],
    ),
    (
        "Rivers",
        "The Seine flows through Paris. The Loire, at 1,006 km, is the longest river in France.",
        [
            ("r1", "What is the longest river in France?", ["The Loire", "Loire", "The Loire,"]),
            ("r2", "How long is the Loire?", ["1,006 km", "1,006"]),
        ],
    ),
]

# Predictions a system might give: exact, differently punctuated, partial, longer, wrong, empty.
PREDICTIONS = {
    "n1": ["France", "france.", "a region", "Normandy, a region in France", "Italy", ""],
    "n2": ["the 10th and 11th centuries", "10th century", "11th", "in the 10th", "Normandy", ""],
    "n3": ["Norse", "pirates", "Norse raiders", "raiders and Vikings", "Danes", ""],
    "r1": ["Loire", "The Loire.", "the Loire river", "Seine", "Loire Loire", ""],
    "r2": ["1,006 km", "1006 km", "about 1,006 kilometres", "km", "long", ""],
}


def squad_file(folder: Path) -> tuple[Path, dict[str, list[str]]]:
    """The file, and each question's answers as the official script reads them."""
    data, answers_by_id = [], {}
    for title, context, questions in PARAGRAPHS:
        qas = []
        for qid, question, answers in questions:
            answers_by_id[qid] = answers
            qas.append(
                {
                    "id": qid,
                    "question": question,
                    "answers": [{"text": a, "answer_start": context.index(a)} for a in answers],
                    "is_impossible": not answers,
                }
            )
        data.append({"title": title, "paragraphs": [{"context": context, "qas": qas}]})
    path = folder / "dev-v2.0.json"
    path.write_text(json.dumps({"version": "v2.0", "data": data}), encoding="utf-8")
    return path, answers_by_id


def stand_in_embed(texts: list[str]) -> np.ndarray:
    """Unit rows that make no two different questions near-duplicates (MiniLM is not needed here)."""
    rows = np.zeros((len(texts), 64))
    for i, text in enumerate(texts):
        rows[i, hash(text) % 64] = 1.0
    return rows


def imported(tmp_path: Path) -> tuple[list[Case], dict[str, list[str]], object]:
    path, answers = squad_file(tmp_path)
    lines: list[str] = []
    folder = import_suite(
        "squad",
        str(path),
        Options(name="sq", out=tmp_path / "suites"),
        print_line=lines.append,
        embed=stand_in_embed,
    )
    suite = load_suite(folder)
    return [*suite.train, *suite.test], answers, suite


def test_em_and_f1_equal_the_official_squad_v2_script_on_every_case(tmp_path: Path) -> None:
    cases, answers, suite = imported(tmp_path)
    assert sorted(case.id for case in cases) == sorted(answers)
    em, f1 = build_metrics(suite, names=["exact_match", "token_f1"])
    checked = 0
    for case in cases:
        if not answers[case.id]:
            # Unanswerable: the official script's gold is [""] and abstaining is predicting "". The harness
            # gives the case the suite's abstention as its reference, so abstaining is answering with it.
            assert case.references == (DEFAULT_ABSTENTION,)
            # An abstention that goes on ("... who led them.") is still no answer; a reply that shares the
            # abstention's words but answers ("The documents say Normans.") is an answer, worth 0 as there.
            pairs = [
                (DEFAULT_ABSTENTION, ""),
                ("The documents do not say who led them.", ""),
                ("The documents say Normans.", "The documents say Normans."),
                ("Normans", "Normans"),
                ("Vikings from Norway", "Vikings from Norway"),
            ]
        else:
            assert set(case.references) == set(answers[case.id])  # every answer, duplicates once
            pairs = [(p, p) for p in PREDICTIONS[case.id]]
        for harness_text, official_text in pairs:
            reply = Answer(case_id=case.id, text=harness_text)
            want_em, want_f1 = official_scores(answers[case.id], official_text)
            assert em.score(case, reply).value == pytest.approx(want_em, abs=1e-9), (case.id, harness_text)
            assert f1.score(case, reply).value == pytest.approx(want_f1, abs=1e-9), (case.id, harness_text)
            checked += 1
    assert checked == 35
    # Several answers matter: the best one is taken, not the first ("Norse" is the second answer of n3).
    n3 = next(case for case in cases if case.id == "n3")
    assert f1.score(n3, Answer(case_id="n3", text="Norse")).value == 1.0
    assert f1.score(n3, Answer(case_id="n3", text="Norse")).details == {"references": 2, "best": 1}


def test_imported_spans_point_at_their_answers(tmp_path: Path) -> None:
    cases, answers, suite = imported(tmp_path)
    texts = {passage.id: passage.text for passage in suite.corpus}
    spans = [span for case in cases for span in case.answer_spans]
    assert len(spans) == sum(len(set(a)) for a in answers.values())
    for span in spans:
        assert texts[span.doc_id][span.start : span.start + len(span.text)] == span.text
    unanswerable = next(case for case in cases if case.id == "n4")
    assert unanswerable.gold_ids == () and unanswerable.answer_spans == ()
    assert suite.abstention == DEFAULT_ABSTENTION
    assert {"abstain_correct", "abstain_false", "exact_match", "token_f1"} <= set(suite.metrics)


def test_rouge_and_answer_recall_take_the_best_reference() -> None:
    case = Case(id="c", question="q", references=("the cat sat on the mat", "a dog barked loudly"))
    reply = Answer(case_id="c", text="a dog barked")
    for name, kind in (("rouge_1", "rouge1"), ("rouge_2", "rouge2"), ("rouge_l", "rougeL")):
        single = [rouge_scores(reply.text, (reference,))[kind] for reference in case.references]
        assert Rouge(name, kind).score(case, reply).value == pytest.approx(max(single))
        assert max(single) > min(single)
    recall = AnswerRecall().score(case, reply)  # the second reference is dog, barked, loudly: 2 of 3
    assert recall.value == pytest.approx(2 / 3)
    assert recall.details == {"found": 2, "reference_tokens": 3, "references": 2, "best": 1}


def test_a_single_reference_case_hashes_as_before_references_existed() -> None:
    case = Case(id="c", question="q", reference="x", gold_ids=("d",), tags=("t",))
    before = {"id": "c", "question": "q", "reference": "x", "gold_ids": ["d"], "tags": ["t"]}
    assert case.references == ("x",)
    assert case.hash == digest(before)
    assert Case(id="c", question="q", references=("x",), gold_ids=("d",), tags=("t",)).hash == case.hash
    assert Case(id="c", question="q", references=("x", "y"), gold_ids=("d",), tags=("t",)).hash != case.hash


def test_overlap_compares_every_reference(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        [{"id": "t1", "question": "Longest river?", "references": ["The Loire", "Loire river"]}],
        train=[{"id": "r1", "question": "Which river is longest?", "reference": "loire river"}],
    )
    assert suite_overlap(suite, stand_in_embed).shared_references == ("t1",)


def write_suite(
    folder: Path, test: list[dict], train: list[dict] | None = None, abstention: str | None = None
):
    corpus = [{"id": "d1", "text": "  The Loire is the longest river in France.", "title": "Loire"}]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in corpus), encoding="utf-8")
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test), encoding="utf-8")
    yaml = "name: t\nversion: 1\ncorpus: corpus.jsonl\ntest: test.jsonl\nmetrics: {token_f1: {}}\n"
    if train is not None:
        (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train), encoding="utf-8")
        yaml += "train: train.jsonl\n"
    if abstention is not None:
        yaml += f"abstention: {abstention}\n"
    (folder / "suite.yaml").write_text(yaml, encoding="utf-8")
    return load_suite(folder)


GOOD = [
    ({"reference": "Loire"}, ("Loire",)),
    ({"references": ["Loire", " the Loire ", "Loire", ""]}, ("Loire", "the Loire")),
    ({"reference": "the Loire", "references": ["Loire", "the Loire"]}, ("the Loire", "Loire")),
    ({"answers": {"text": ["Loire", "The Loire"], "answer_start": [4, 0]}}, ("Loire", "The Loire")),
]


@pytest.mark.parametrize(("columns", "references"), GOOD)
def test_reference_columns(tmp_path: Path, columns: dict, references: tuple[str, ...]) -> None:
    suite = write_suite(tmp_path, [{"id": "1", "question": "q", **columns}])
    assert suite.test[0].references == references
    assert suite.test[0].reference == references[0]


BAD = [
    ({"reference": ["Loire"]}, "row 1: column 'reference' must be text, got a list"),
    ({"references": "Loire"}, "row 1: column 'references' must be a list of texts, got str 'Loire'"),
    ({"references": []}, "row 1: column 'references' has no non-empty answer"),
    ({"references": ["Loire", 3]}, "row 1: column 'references' item 2 must be text, got int 3"),
    ({"reference": "Seine", "references": ["Loire"]}, "row 1: column 'reference' ('Seine') is not among its"),
    ({"answers": ["Loire"]}, "row 1: column 'answers' must be an object with a 'text' list"),
    ({"answers": {"text": [], "answer_start": []}}, "declare 'abstention:' in suite.yaml"),
    ({"answer": "Loire"}, "missing column 'reference' (or 'references', 'answers'"),
    (
        {"reference": "Loire", "answer_spans": [{"doc_id": "d1", "start": 0, "text": "Loire"}]},
        "row 1: answer_spans item 1: the text of 'd1' at 0 is '  The', not 'Loire'",
    ),
    (
        {"reference": "Loire", "answer_spans": [{"doc_id": "d9", "start": 6, "text": "Loire"}]},
        "row 1: answer_spans item 1: doc_id 'd9' is not in the corpus",
    ),
    (
        {"reference": "Loire", "answer_spans": [{"doc_id": "d1", "start": "6", "text": "Loire"}]},
        "row 1: answer_spans item 1: 'start' must be a character offset",
    ),
]


@pytest.mark.parametrize(("columns", "what"), BAD)
def test_a_wrong_reference_shape_is_one_line(tmp_path: Path, columns: dict, what: str) -> None:
    with pytest.raises(InputError) as caught:
        write_suite(tmp_path, [{"id": "1", "question": "q", **columns}])
    message = str(caught.value)
    assert what in message and "\n" not in message
    assert message.startswith(str(tmp_path / "test.jsonl"))


def test_spans_are_read_against_the_file_text_and_kept_against_the_passage(tmp_path: Path) -> None:
    row = {
        "id": "1",
        "question": "q",
        "reference": "Loire",
        "answer_spans": [{"doc_id": "d1", "start": 6, "text": "Loire"}],
    }
    suite = write_suite(tmp_path, [row])
    span = suite.test[0].answer_spans[0]
    assert (span.doc_id, span.start) == ("d1", 4)  # the corpus file's text starts with two spaces
    assert suite.corpus[0].text[span.start : span.start + 5] == "Loire"


def test_squad_answers_without_text_take_the_abstention(tmp_path: Path) -> None:
    row = {"id": "1", "question": "q", "answers": {"text": [], "answer_start": []}}
    suite = write_suite(tmp_path, [row], abstention="Not in the documents.")
    assert suite.test[0].references == ("Not in the documents.",)


def test_answers_located_deep_in_a_long_document_keep_their_offsets(tmp_path: Path) -> None:
    # A document of several thousand words, answers near its start, middle and end: the spans a retriever
    # uses to find the chunk that holds each answer must point at the answer in the whole document.
    filler = " ".join(f"word{i % 97}" for i in range(4000))
    facts = ["The Loire is 1,006 km long.", "Ilse Marwood coordinates the garden.", "Honey costs 6 euros."]
    document = f"{facts[0]} {filler} {facts[1]} {filler} {facts[2]}"
    questions = [
        ("How long is the Loire?", "1,006 km"),
        ("Who coordinates?", "Ilse Marwood"),
        ("Honey?", "6 euros"),
    ]
    qas = [
        {"id": f"q{i}", "question": q, "answers": [{"text": a, "answer_start": document.index(a)}]}
        for i, (q, a) in enumerate(questions)
    ]
    path = tmp_path / "long.json"
    data = [{"title": "Long", "paragraphs": [{"context": document, "qas": qas}]}]
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    folder = import_suite(
        "squad",
        str(path),
        Options(name="long", out=tmp_path),
        print_line=lambda _: None,
        embed=stand_in_embed,
    )
    suite = load_suite(folder)
    (passage,) = suite.corpus
    assert len(passage.text.split()) > 8000
    spans = {case.reference: case.answer_spans for case in (*suite.train, *suite.test)}
    for _, answer in questions:
        (span,) = spans[answer]
        assert span.doc_id == passage.id and span.start == document.index(answer)
    assert spans["6 euros"][0].start > 50000
