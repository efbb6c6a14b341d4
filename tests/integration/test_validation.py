"""Bad suite and system files fail at load: one stderr line naming the file and the row or key, exit 2."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.suite import load_suite
from tests.conftest import RAG, ROOT

SUITE_YAML = """\
name: tiny
version: 1
corpus: corpus.jsonl
train: train.jsonl
test: test.jsonl
metrics:
  rouge_l: {max_drop: 0.05}
  hit_at_k: {}
"""

CORPUS = [
    {"id": "p1", "title": "Gate", "text": "The north gate opens at seven."},
    {"id": "p2", "title": "Bees", "text": "Four hives stand behind the orchard."},
    {"id": "p3", "title": "Water", "text": "Hoses may be used after six in the evening."},
]
TRAIN = [{"id": "tr1", "question": "When does the gate open?", "reference": "at seven", "gold_ids": ["p1"]}]
TEST = [
    {"id": "t1", "question": "How many hives are there?", "reference": "four", "gold_ids": ["p2"]},
    {"id": "t2", "question": "When may hoses be used?", "reference": "after six", "gold_ids": ["p3", "p1"]},
]

CSV_YAML = SUITE_YAML.replace("corpus.jsonl", "corpus.csv").replace("test.jsonl", "test.csv")
CORPUS_CSV = (
    "id,title,text\np1,Gate,The north gate opens at seven.\np2,Bees,Four hives stand behind the orchard.\n"
)
TEST_CSV = (
    "id,question,reference,gold_ids\nt1,How many hives?,four,p2\nt2,When does the gate open?,at seven,p1|p2\n"
)


def jsonl(*rows: dict[str, object]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def write_suite(folder: Path, changes: dict[str, str | bytes | None]) -> Path:
    """The tiny valid suite, with files replaced (str or bytes) or removed (None)."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, str | bytes | None] = {
        "suite.yaml": SUITE_YAML,
        "corpus.jsonl": jsonl(*CORPUS),
        "train.jsonl": jsonl(*TRAIN),
        "test.jsonl": jsonl(*TEST),
    }
    files.update(changes)
    for name, content in files.items():
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        elif content is not None:
            (folder / name).write_text(content, encoding="utf-8")
    return folder


def single_error(capsys: pytest.CaptureFixture[str], code: int) -> str:
    """Assert the CLI failed as a user-input error and return its one stderr line."""
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


# (files changed, file the message names (":<line>" when it gives one), fragments of what is wrong)
SUITE_CASES = [
    pytest.param({"test.jsonl": None}, "test.jsonl", ["file not found"], id="missing-test-file"),
    pytest.param({"corpus.jsonl": None}, "corpus.jsonl", ["file not found"], id="missing-corpus-file"),
    pytest.param(
        {"suite.yaml": SUITE_YAML.replace("corpus: corpus.jsonl", "corpus: corpus.jsonl: oops")},
        "suite.yaml:3",
        ["YAML syntax error", "mapping values are not allowed"],
        id="yaml-syntax",
    ),
    pytest.param(
        {"suite.yaml": SUITE_YAML.replace("name: tiny", "name: tiny\nnmae: typo")},
        "suite.yaml",
        ["unknown key 'nmae'", "did you mean 'name'"],
        id="unknown-key",
    ),
    pytest.param(
        {"suite.yaml": SUITE_YAML.replace("corpus: corpus.jsonl", "corpus: {path: corpus.jsonl, colums: x}")},
        "suite.yaml",
        ["unknown key 'corpus.colums'", "did you mean 'columns'"],
        id="unknown-nested-key",
    ),
    pytest.param(
        {"suite.yaml": SUITE_YAML.replace("test: test.jsonl\n", "")},
        "suite.yaml",
        ["missing key 'test'"],
        id="missing-key",
    ),
    pytest.param(
        {"suite.yaml": SUITE_YAML.replace("version: 1", "version: first")},
        "suite.yaml",
        ["key 'version'", "integer"],
        id="wrong-type",
    ),
    pytest.param(
        {"suite.yaml": SUITE_YAML.replace("rouge_l:", "rougel:")},
        "suite.yaml",
        ["unknown metric 'rougel'", "did you mean 'rouge_l'"],
        id="unknown-metric",
    ),
    pytest.param(
        {"test.jsonl": jsonl(*({k: v for k, v in row.items() if k != "question"} for row in TEST))},
        "test.jsonl",
        ["missing column 'question'"],
        id="missing-column",
    ),
    pytest.param(
        {"corpus.jsonl": jsonl(*({"id": row["id"], "body": row["text"]} for row in CORPUS))},
        "corpus.jsonl",
        ["missing column 'text'", "body"],
        id="missing-corpus-column",
    ),
    pytest.param(
        {"test.jsonl": jsonl(TEST[0], TEST[1], {**TEST[1], "id": "t1"})},
        "test.jsonl",
        ["row 3", "duplicate id 't1'", "first at row 1"],
        id="duplicate-test-id",
    ),
    pytest.param(
        {"corpus.jsonl": jsonl(*CORPUS, {**CORPUS[0], "text": "Again."})},
        "corpus.jsonl",
        ["row 4", "duplicate id 'p1'"],
        id="duplicate-corpus-id",
    ),
    pytest.param(
        {"test.jsonl": jsonl(TEST[0], {**TEST[1], "question": "   "})},
        "test.jsonl",
        ["row 2", "'t2'", "empty question"],
        id="empty-question",
    ),
    pytest.param(
        {"train.jsonl": jsonl({**TRAIN[0], "gold_ids": ["p1", "p9"]})},
        "train.jsonl",
        ["row 1", "gold id 'p9' is not in the corpus"],
        id="unknown-gold-id",
    ),
    pytest.param(
        {"corpus.jsonl": jsonl(CORPUS[0]).encode() + b'{"id": "p2", "text": "caf\xe9"}\n'},
        "corpus.jsonl:2",
        ["not valid UTF-8"],
        id="non-utf8-jsonl",
    ),
    pytest.param(
        {"suite.yaml": SUITE_YAML.encode().replace(b"tiny", b"t\xffny")},
        "suite.yaml",
        ["not valid UTF-8"],
        id="non-utf8-yaml",
    ),
    pytest.param({"corpus.jsonl": ""}, "corpus.jsonl", ["empty corpus"], id="empty-corpus"),
    pytest.param({"corpus.jsonl": "\n  \n"}, "corpus.jsonl", ["empty corpus"], id="blank-corpus"),
    pytest.param({"test.jsonl": ""}, "test.jsonl", ["no test cases"], id="empty-test"),
    pytest.param(
        {"test.jsonl": jsonl(TEST[0]) + '{"id": "t2", "question": "x",\n'},
        "test.jsonl:2",
        ["invalid JSON"],
        id="invalid-json-line",
    ),
    pytest.param(
        {"test.jsonl": jsonl(TEST[0]) + '["t2", "x"]\n'},
        "test.jsonl:2",
        ["JSON object"],
        id="json-line-not-object",
    ),
    # The same checks on CSV tables, where gold_ids are separated by '|'.
    pytest.param(
        {"suite.yaml": CSV_YAML, "corpus.csv": CORPUS_CSV, "test.csv": TEST_CSV + "t3,Who?,nobody,p1|p7\n"},
        "test.csv",
        ["row 3", "gold id 'p7' is not in the corpus"],
        id="csv-unknown-gold-id",
    ),
    pytest.param(
        {"suite.yaml": CSV_YAML, "corpus.csv": CORPUS_CSV, "test.csv": TEST_CSV + "t2,Again?,again,p1\n"},
        "test.csv",
        ["row 3", "duplicate id 't2'"],
        id="csv-duplicate-id",
    ),
    pytest.param(
        {"suite.yaml": CSV_YAML, "corpus.csv": CORPUS_CSV, "test.csv": TEST_CSV + "t3,,nothing,p1\n"},
        "test.csv",
        ["row 3", "empty question"],
        id="csv-empty-question",
    ),
    pytest.param(
        {"suite.yaml": CSV_YAML, "corpus.csv": CORPUS_CSV, "test.csv": "id,query,reference\nt1,How?,so\n"},
        "test.csv",
        ["missing column 'question'"],
        id="csv-missing-column",
    ),
    pytest.param(
        {
            "suite.yaml": CSV_YAML,
            "corpus.csv": CORPUS_CSV,
            "test.csv": TEST_CSV.encode() + b"t3,\xe9?,x,p1\n",
        },
        "test.csv:4",
        ["not valid UTF-8"],
        id="csv-non-utf8",
    ),
    pytest.param(
        {"suite.yaml": CSV_YAML, "corpus.csv": "", "test.csv": TEST_CSV},
        "corpus.csv",
        ["empty corpus"],
        id="csv-empty-corpus",
    ),
]


@pytest.mark.parametrize(("changes", "names", "fragments"), SUITE_CASES)
def test_bad_suite_fails_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    changes: dict[str, str | bytes | None],
    names: str,
    fragments: list[str],
) -> None:
    folder = write_suite(tmp_path / "tiny", changes)
    line = single_error(capsys, main(["suites", "validate", str(folder)]))
    assert f"error: {folder / names}:" in line
    for fragment in fragments:
        assert fragment in line


def test_suite_folder_without_suite_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "bare"
    folder.mkdir()
    line = single_error(capsys, main(["suites", "validate", str(folder)]))
    assert f"{folder / 'suite.yaml'}: file not found" in line


def test_unknown_suite_name_suggests_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_suite(tmp_path / "suites" / "tiny", {})
    code = main(["suites", "validate", "tinny", "--suites-dir", str(tmp_path / "suites")])
    line = single_error(capsys, code)
    assert "no such suite" in line and "did you mean 'tiny'" in line


def test_valid_suite_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_suite(tmp_path / "tiny", {})
    assert main(["suites", "validate", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "ok  tiny v1: 3 passages, 1 train, 2 test"
    assert err == ""


def test_valid_csv_suite_splits_gold_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_suite(
        tmp_path / "tiny", {"suite.yaml": CSV_YAML, "corpus.csv": CORPUS_CSV, "test.csv": TEST_CSV}
    )
    assert main(["suites", "validate", str(folder)]) == 0
    assert "ok  tiny v1: 2 passages, 1 train, 2 test" in capsys.readouterr().out
    suite = load_suite(folder)
    assert [case.gold_ids for case in suite.test] == [("p2",), ("p1", "p2")]


SYSTEM_YAML = """\
name: tiny-rag
kind: rag
retriever: {method: bm25, top_k: 3}
generator: {model: extractive}
"""

SYSTEM_CASES = [
    pytest.param(
        SYSTEM_YAML.replace("kind: rag", "kind: rag: again"),
        ":2",
        ["YAML syntax error"],
        id="yaml-syntax",
    ),
    pytest.param(
        SYSTEM_YAML.replace("retriever:", "retreiver:"),
        "",
        ["unknown key 'retreiver'", "did you mean 'retriever'"],
        id="unknown-key",
    ),
    pytest.param(
        SYSTEM_YAML.replace("top_k", "topk"),
        "",
        ["unknown key 'retriever.topk'", "did you mean 'top_k'"],
        id="unknown-nested-key",
    ),
    pytest.param(
        SYSTEM_YAML.replace("{model: extractive}", "{model: extractive, temprature: 0}"),
        "",
        ["unknown key 'generator.temprature'"],
        id="unknown-generator-key",
    ),
    pytest.param(
        SYSTEM_YAML.replace("top_k: 3", "top_k: three"),
        "",
        ["key 'retriever.top_k'", "integer"],
        id="wrong-type",
    ),
    pytest.param(
        SYSTEM_YAML.replace("kind: rag", "kind: ragg"),
        "",
        ["key 'kind'"],
        id="unknown-kind",
    ),
    pytest.param(
        SYSTEM_YAML.replace("generator: {model: extractive}\n", ""),
        "",
        ["missing key 'generator'"],
        id="missing-generator",
    ),
    pytest.param(
        SYSTEM_YAML.replace("retriever: {method: bm25, top_k: 3}\n", ""),
        "",
        ["kind 'rag' contradicts", "needs a 'retriever' block"],
        id="rag-without-retriever",
    ),
    pytest.param(
        SYSTEM_YAML + "finetune: {method: classifier}\n",
        "",
        ["kind 'rag' contradicts", "'finetune'"],
        id="rag-with-finetune",
    ),
    pytest.param(
        SYSTEM_YAML.replace("kind: rag", "kind: finetuned") + "finetune: {method: classifier}\n",
        "",
        ["kind 'finetuned' contradicts", "remove 'retriever'"],
        id="finetuned-with-retriever",
    ),
    pytest.param(
        SYSTEM_YAML.replace("kind: rag", "kind: hybrid"),
        "",
        ["kind 'hybrid' contradicts", "needs a 'finetune' block"],
        id="hybrid-without-finetune",
    ),
    pytest.param(
        SYSTEM_YAML.replace("model: extractive", "model: extractiv"),
        "",
        ["unknown model 'extractiv'", "did you mean 'extractive'"],
        id="unknown-model",
    ),
    pytest.param(
        SYSTEM_YAML.replace("model: extractive", "model: 'nosuch:model-1'"),
        "",
        ["key 'generator.model'", "unknown model 'nosuch:model-1'"],
        id="unknown-model-family",
    ),
    pytest.param(
        SYSTEM_YAML.encode().replace(b"tiny", b"t\xe9ny"),
        "",
        ["not valid UTF-8"],
        id="non-utf8",
    ),
    pytest.param("- just\n- a list\n", "", ["mapping"], id="not-a-mapping"),
]


@pytest.mark.parametrize(("content", "line_suffix", "fragments"), SYSTEM_CASES)
def test_bad_system_fails_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | bytes,
    line_suffix: str,
    fragments: list[str],
) -> None:
    path = tmp_path / "tiny.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    line = single_error(capsys, main(["systems", "validate", str(path)]))
    assert f"error: {path}{line_suffix}: " in line
    for fragment in fragments:
        assert fragment in line


def test_missing_system_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "absent.yaml"
    line = single_error(capsys, main(["systems", "validate", str(path)]))
    assert line == f"error: {path}: file not found"


def test_valid_systems_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hybrid = tmp_path / "hybrid.yaml"
    # The extractive reader neither trains nor answers closed-book (refused at load); minilm does both.
    hybrid.write_text(
        SYSTEM_YAML.replace("kind: rag", "kind: hybrid").replace("extractive", "minilm")
        + "finetune: {method: reader, epochs: 1, freeze_layers: 3}\n",
        encoding="utf-8",
    )
    closed = tmp_path / "closed.yaml"
    closed.write_text(
        "name: closed\nkind: finetuned\ngenerator: {model: minilm}\nfinetune: {method: classifier}\n",
        encoding="utf-8",
    )
    assert main(["systems", "validate", str(RAG), str(hybrid), str(closed)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert [line.split()[1] for line in out.strip().splitlines()] == ["rag-minilm", "tiny-rag", "closed"]


def test_command_line_process_exits_2_without_traceback(tmp_path: Path) -> None:
    folder = write_suite(tmp_path / "tiny", {"suite.yaml": SUITE_YAML.replace("rouge_l:", "rougel:")})
    done = subprocess.run(
        [sys.executable, "-m", "harness", "suites", "validate", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: {folder / 'suite.yaml'}: metrics: unknown metric 'rougel' (did you mean 'rouge_l'?)"
    ]
    assert done.stdout == ""


def test_help_lists_the_commands() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for command in ("bench", "run", "suites"):
        assert re.search(rf"^\s+{command}\s", done.stdout, re.MULTILINE), done.stdout
