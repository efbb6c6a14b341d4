"""`harness suites import`: a SQuAD v2.0 file and a BEIR folder built here import, validate and run offline;
bad input is one line with exit 2."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.cli import main
from harness.importers import Options, import_suite
from harness.suite import load_suite
from tests.integration.test_validation import single_error

CONTEXTS = [
    ("Garden", "The garden opens at 7 am. Ilse Marwood coordinates the volunteers on Saturdays."),
    ("Garden", "Plots cost 40 euros a year. The waiting list is about 14 months long."),
    ("Bees", "Four beehives stand behind the orchard. Two trained volunteers look after them."),
    ("Bees", "Honey is sold at the harvest fair in September, in jars of 250 grams."),
]
QUESTIONS = [
    (0, "When does the garden open?", ["7 am", "at 7 am"]),
    (0, "Who coordinates the volunteers?", ["Ilse Marwood"]),
    (1, "How much does a plot cost?", ["40 euros a year", "40 euros"]),
    (1, "How long is the waiting list?", ["about 14 months"]),
    (2, "How many beehives are there?", ["Four"]),
    (2, "Who looks after the beehives?", ["Two trained volunteers"]),
    (3, "When is honey sold?", ["at the harvest fair in September", "September"]),
    (3, "Who founded the garden?", []),  # unanswerable
]


def squad_v2(folder: Path) -> Path:
    articles: dict[str, list] = {}
    for index, (title, context) in enumerate(CONTEXTS):
        qas = [
            {
                "id": f"q{number}",
                "question": question,
                "answers": [{"text": a, "answer_start": context.index(a)} for a in answers],
                "is_impossible": not answers,
            }
            for number, (at, question, answers) in enumerate(QUESTIONS)
            if at == index
        ]
        articles.setdefault(title, []).append({"context": context, "qas": qas})
    data = [{"title": title, "paragraphs": paragraphs} for title, paragraphs in articles.items()]
    path = folder / "train-v2.0.json"
    path.write_text(json.dumps({"version": "v2.0", "data": data}), encoding="utf-8")
    return path


def beir(folder: Path) -> Path:
    root = folder / "tiny-beir"
    (root / "qrels").mkdir(parents=True)
    corpus = [{"_id": f"doc{i}", "title": title, "text": text} for i, (title, text) in enumerate(CONTEXTS)]
    queries = [{"_id": f"{i}", "text": question} for i, (_, question, _) in enumerate(QUESTIONS[:7])]
    (root / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in corpus), encoding="utf-8")
    (root / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in queries), encoding="utf-8")
    qrels = ["query-id\tcorpus-id\tscore"] + [
        f"{i}\tdoc{at}\t1" for i, (at, _, _) in enumerate(QUESTIONS[:7])
    ]
    qrels.append("0\tdoc3\t0")  # judged not relevant: not gold
    (root / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n", encoding="utf-8")
    return root


def extractive(folder: Path) -> Path:
    path = folder / "rag-extractive.yaml"
    path.write_text(
        "name: rag-extractive\nkind: rag\nprofile: offline\n"
        "description: retrieval quoted by the extractive reader (import tests).\n"
        "retriever: {method: hybrid, top_k: 5}\ngenerator: {model: extractive, max_sentences: 1}\n",
        encoding="utf-8",
    )
    return path


def stand_in_embed(texts: list[str]) -> np.ndarray:
    rows = np.zeros((len(texts), 64))
    for i, text in enumerate(texts):
        rows[i, sum(map(ord, text)) % 64] = 1.0
    return rows


def quiet_import(fmt: str, source: str, out: Path, name: str, **options: Any) -> Path:
    """Import without printing, with a stand-in for MiniLM in the overlap report."""
    return import_suite(
        fmt, source, Options(name=name, out=out, **options), print_line=lambda _: None, embed=stand_in_embed
    )


def scored(run_json: Path) -> dict[str, int]:
    report = json.loads(run_json.read_text(encoding="utf-8"))
    return {name: summary["n_scored"] for name, summary in report["summary"].items()}


def test_squad_and_beir_import_validate_and_run_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suites, reports = tmp_path / "suites", tmp_path / "reports"
    system = extractive(tmp_path)
    assert (
        main(["suites", "import", "squad", str(squad_v2(tmp_path)), "--name", "sq", "--out", str(suites)])
        == 0
    )
    out = capsys.readouterr().out
    assert "wrote" in out and "train/test overlap:" in out and "gold for a train question" in out
    assert main(["suites", "import", "beir", str(beir(tmp_path)), "--name", "bq", "--out", str(suites)]) == 0
    capsys.readouterr()
    assert main(["suites", "validate", "--suites-dir", str(suites)]) == 0

    squad = load_suite(suites / "sq")
    assert len(squad.corpus) == 4 and len(squad.train) + len(squad.test) == 8
    assert squad.abstention == "The documents do not say."
    train_gold = {gold for case in squad.train for gold in case.gold_ids}
    assert not train_gold & {gold for case in squad.test for gold in case.gold_ids}  # split by document
    readme = (suites / "sq" / "README.md").read_text(encoding="utf-8")
    assert "Licence" in readme and "harness suites import squad" in readme

    bq = load_suite(suites / "bq")
    assert set(bq.metrics) == {"hit_at_k", "recall_at_k", "mrr", "latency_s"}
    assert all(case.reference == "" and case.gold_ids for case in (*bq.train, *bq.test))
    assert {case.id: case.gold_ids for case in (*bq.train, *bq.test)}["0"] == ("doc0",)  # score 0 is not gold

    for name, wanted in (("sq", "exact_match"), ("bq", "hit_at_k")):
        code = main(
            ["run", "--suite", name, "--system", str(system), "--suites-dir", str(suites),
             "--reports-dir", str(reports), "--no-mlflow"]
        )  # fmt: skip
        assert code == 0, capsys.readouterr()
        (run_json,) = [p for p in (reports / "runs").glob("*/run.json") if f"_{name}_" in p.parent.name]
        assert scored(run_json)[wanted] > 0


def test_the_split_is_seeded_and_by_question_on_request(tmp_path: Path) -> None:
    source = str(squad_v2(tmp_path))

    def test_ids(name: str, **options: object) -> list[str]:
        return [case.id for case in load_suite(quiet_import("squad", source, tmp_path, name, **options)).test]

    assert test_ids("a") == test_ids("b")
    assert test_ids("c", split_by="question", test_fraction=0.5) == test_ids(
        "d", split_by="question", test_fraction=0.5
    )
    assert len(test_ids("e", split_by="question", test_fraction=0.5)) == 4


def test_an_existing_suite_is_overwritten_only_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["suites", "import", "squad", str(squad_v2(tmp_path)), "--name", "sq", "--out", str(tmp_path)]
    assert main(args) == 0
    capsys.readouterr()
    assert "already exists: choose another --name, or --force" in single_error(capsys, main(args))
    assert main([*args, "--force"]) == 0


def test_a_ragas_table_becomes_a_corpus_of_its_contexts(tmp_path: Path) -> None:
    rows = [
        {"user_input": "How much is a plot?", "reference": "40 euros a year",
         "reference_contexts": [CONTEXTS[1][1]], "retrieved_contexts": [CONTEXTS[1][1], CONTEXTS[0][1]]},
        {"user_input": "When does it open?", "reference": "7 am",
         "reference_contexts": [CONTEXTS[0][1]], "retrieved_contexts": [CONTEXTS[0][1]]},
    ]  # fmt: skip
    table = tmp_path / "ragas.jsonl"
    table.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    folder = quiet_import("ragas", str(table), tmp_path, "rg", test_fraction=0.5)
    suite = load_suite(folder)
    assert len(suite.corpus) == 2  # deduplicated
    cases = {case.question: case for case in (*suite.train, *suite.test)}
    assert cases["How much is a plot?"].gold_ids == (suite.corpus[0].id,)


def test_a_saved_hf_dataset_with_squad_answers(tmp_path: Path) -> None:
    import datasets

    context = CONTEXTS[0][1]
    table = datasets.Dataset.from_dict(
        {
            "id": ["a", "b"],
            "title": ["Garden", "Garden"],
            "context": [context, context],
            "question": ["When does the garden open?", "Who founded it?"],
            "answers": [
                {"text": ["7 am"], "answer_start": [context.index("7 am")]},
                {"text": [], "answer_start": []},
            ],
        }
    )
    datasets.DatasetDict({"validation": table}).save_to_disk(str(tmp_path / "ds"))
    folder = quiet_import("hf", str(tmp_path / "ds"), tmp_path, "h", split_by="question", test_fraction=0.5)
    cases = {case.id: case for case in (*load_suite(folder).train, *load_suite(folder).test)}
    assert cases["a"].answer_spans[0].start == context.index("7 am")
    assert cases["b"].references == ("The documents do not say.",) and "unanswerable" in cases["b"].tags


def bad_squad(tmp_path: Path, content: str) -> str:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = ["--name", "x", "--out", str(tmp_path / "out")]

    def error(*args: str) -> str:
        return single_error(capsys, main(["suites", "import", *args, *out]))

    assert "file not found" in error("squad", str(tmp_path / "missing.json"))
    assert "bad.json:2: invalid JSON" in error("squad", bad_squad(tmp_path, '{"data": [\n oops]}'))
    no_question = (
        '{"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [{"id": "1", "answers": []}]}]}]}'
    )
    assert "data[0].paragraphs[0].qas[0]: no question text" in error(
        "squad", bad_squad(tmp_path, no_question)
    )
    assert "not SQuAD JSON" in error("squad", bad_squad(tmp_path, "[]"))
    assert "unknown format 'sqaud' (did you mean 'squad'?)" in error("sqaud", str(tmp_path))

    root = beir(tmp_path)
    with (root / "qrels" / "test.tsv").open("a", encoding="utf-8") as handle:
        handle.write("0\tdoc99\t1\n")
    assert "test.tsv:10: corpus-id 'doc99' is not in corpus.jsonl" in error("beir", str(root))
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n77\tdoc1\t1\n", encoding="utf-8")
    assert "test.tsv:2: query-id '77' is not in queries.jsonl" in error("beir", str(root))
    assert "corpus.jsonl: file not found" in error("beir", str(tmp_path))

    table = tmp_path / "t.jsonl"
    table.write_text(
        '{"question": "q", "reference": "a"}\n{"question": "", "reference": "b"}\n', encoding="utf-8"
    )
    assert "row 2: no question" in error("ragas", str(table))
    assert "--test-fraction: must be in (0, 1]" in error("squad", str(tmp_path), "--test-fraction", "0")

    import datasets.config
    import huggingface_hub.constants

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    assert error("hf", "hf:someone/no-such-dataset").startswith(
        "error: hf:someone/no-such-dataset: cannot be loaded"
    )
