"""Bad input to the commands and files added in session 4 (suites import/new/generate, calibrate, python:,
http: and openai: systems, harness.toml), as a new user would give it: each is one line on stderr naming
the file, row, key or option, exit code 2, no traceback; a user's code that calls sys.exit fails its case
instead of ending the harness. Fast: no training, no MiniLM."""

import json
import math
from pathlib import Path

import pytest
import yaml

from harness.cli import main
from harness.errors import InputError
from harness.importers.common import Options
from harness.importers.squad import read_squad
from harness.project import find_project
from harness.suite import load_suite
from harness.system import load_system_spec
from tests.conftest import ROOT

SMOKE = ROOT / "suites" / "smoke"


def one_line(capsys: pytest.CaptureFixture[str], code: int, *fragments: str) -> str:
    """The command failed with exit 2 and one line on stderr holding every fragment."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def harness(*args: object) -> int:
    return main([str(arg) for arg in args])


# ---- harness suites import -------------------------------------------------------------------------------


def beir(folder: Path, corpus: bytes, queries: str, qrels: str) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_bytes(corpus)
    (folder / "queries.jsonl").write_text(queries, encoding="utf-8")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("corpus", "queries", "qrels", "fragments"),
    [
        (
            b'{"_id": "d1", "text": "caf\xe9"}\n',
            '{"_id": "q1", "text": "hi"}\n',
            "q1\td1\t1\n",
            ["corpus.jsonl:1", "UTF-8"],
        ),
        (
            b'{"_id": "d1", "text": "hello"}\n',
            '{"_id": "q1", "text": "hi"}\n{"_id": "q1", "text": "again"}\n',
            "q1\td1\t1\n",
            ["queries.jsonl:2", "duplicate _id 'q1'"],
        ),
        (
            b'{"_id": "d1", "text": "hello"}\n',
            '{"_id": "q1", "text": "hi"}\n',
            "q1\td1\tnan\n",
            ["test.tsv:2", "'nan'"],
        ),
    ],
    ids=["not-utf8", "duplicate-query", "nan-score"],
)
def test_beir_bad_files(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    corpus: bytes,
    queries: str,
    qrels: str,
    fragments: list[str],
) -> None:
    source = beir(tmp_path / "beir", corpus, queries, qrels)
    code = harness("suites", "import", "beir", source, "--name", "b", "--out", tmp_path / "out")
    one_line(capsys, code, *fragments)
    assert not (tmp_path / "out" / "b").exists()


def test_ragas_context_that_is_not_text_names_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps({"question": "q?", "answer": "x", "context": 5}) + "\n", encoding="utf-8")
    code = harness("suites", "import", "ragas", table, "--name", "r", "--out", tmp_path / "out")
    one_line(capsys, code, str(table), "row 1", "'context'", "int")


def test_ragas_without_passages_writes_nothing_so_a_retry_is_not_blocked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps({"question": "q?", "answer": "x"}) + "\n", encoding="utf-8")
    code = harness("suites", "import", "ragas", table, "--name", "r", "--out", tmp_path / "out")
    one_line(capsys, code, str(table), "no passages")
    assert not (tmp_path / "out" / "r").exists()


def test_ragas_header_only_csv_says_no_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "t.csv"
    table.write_text("question,answer\n", encoding="utf-8")
    code = harness("suites", "import", "ragas", table, "--name", "r", "--out", tmp_path / "out")
    one_line(capsys, code, str(table), "no rows")


def test_squad_with_a_byte_order_mark_reads(tmp_path: Path) -> None:
    data = {
        "data": [
            {
                "title": "t",
                "paragraphs": [
                    {
                        "context": "alpha beta",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "what?",
                                "answers": [{"text": "alpha", "answer_start": 0}],
                            }
                        ],
                    }
                ],
            }
        ]
    }
    path = tmp_path / "s.json"
    path.write_text("\ufeff" + json.dumps(data), encoding="utf-8")
    imported = read_squad(str(path), Options(name="s"))
    assert [case.id for case in imported.cases] == ["q1"]


@pytest.mark.parametrize("flag", ["--seed", "--test-fraction"])
def test_a_bad_argument_is_one_line_and_json_still_one_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    argv = ["suites", "import", "ragas", str(tmp_path / "x.csv"), "--name", "x", flag, "abc"]
    with pytest.raises(SystemExit) as done:
        main(argv)
    one_line(capsys, done.value.code, "harness suites import", flag, "'abc'")
    with pytest.raises(SystemExit) as done:
        main(["bench", "--limit", "0", "--json"])
    captured = capsys.readouterr()
    assert done.value.code == 2 and len(captured.err.strip().splitlines()) == 1
    document = json.loads(captured.out)
    assert document["exit_code"] == 2 and "--limit" in document["error"]


# ---- harness suites new / generate -----------------------------------------------------------------------


def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "my docs"  # a path with a space
    folder.mkdir()
    (folder / "garden.md").write_text(
        "\ufeff# Fernhollow garden\n\nThe garden opens at seven in the morning from April to October.\n",
        encoding="utf-8",
    )
    return folder


def new(tmp_path: Path, *extra: object) -> int:
    args = ["suites", "new", "mine", "--docs", docs(tmp_path), "--out", tmp_path / "suites"]
    return harness(*args, "--chunk-unit", "chars", *extra)


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--chunk-size", "0"], ["--chunk-size", "at least 1"]),
        (["--chunk-size", "-5"], ["--chunk-size", "at least 1"]),
        (["--chunk-size", "120", "--chunk-overlap", "-1"], ["--chunk-overlap", "negative"]),
    ],
)
def test_new_refuses_bad_chunking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], fragments: list[str]
) -> None:
    one_line(capsys, new(tmp_path, *extra), *fragments)


def test_new_reads_a_markdown_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    assert new(tmp_path, "--chunk-size", "400", "--chunk-overlap", "0") == 0
    row = json.loads(
        (tmp_path / "suites" / "mine" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[0]
    )
    assert row["title"] == "Fernhollow garden" and not row["text"].startswith("\ufeff")


def generated_suite(tmp_path: Path) -> Path:
    """A suite as `suites generate` leaves it, by hand: corpus, one generated row, suite.yaml."""
    folder = tmp_path / "gen"
    folder.mkdir()
    (folder / "suite.yaml").write_text("name: gen\nversion: 1\ncorpus: corpus.jsonl\ntest: test.jsonl\n")
    (folder / "corpus.jsonl").write_text(
        json.dumps({"id": "p1", "text": "The garden opens at seven."}) + "\n"
    )
    row = {"id": "test-0001", "question": "When?", "answer": "at seven", "gold_ids": ["p1"], "type": "single"}
    (folder / "generated.jsonl").write_text(json.dumps(row) + "\n")
    return folder


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--mix", "single=nan"], ["--mix", "finite"]),
        (["--mix", "single=inf,multi=1"], ["--mix", "finite"]),
        (["--temperature", "-1"], ["--temperature"]),
        (["--temperature", "nan"], ["--temperature"]),
        (["--test", "100000000"], ["--test", "at most"]),
        (["--train", "100000000"], ["--train", "at most"]),
    ],
)
def test_generate_refuses_non_finite_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], fragments: list[str]
) -> None:
    folder = generated_suite(tmp_path)
    code = harness(
        "suites", "generate", folder, "--model", "gemini:gemini-2.5-flash", "--test", "2", "--dry-run", *extra
    )
    one_line(capsys, code, *fragments)


def test_review_csv_not_utf8_and_with_a_bom(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = generated_suite(tmp_path)
    review = folder / "review.csv"
    review.write_bytes(b"id,question,answer,keep\n\xff\xfe,q,a,yes\n")
    one_line(capsys, harness("suites", "generate", folder, "--apply-review"), str(review), "UTF-8")
    # Saved by a spreadsheet as "CSV UTF-8": the BOM is not part of the first column's name, so the sheet
    # is read and its real problem (an id that was never generated) is the one reported.
    review.write_text("\ufeffid,question,answer,keep\nzzz,q,a,yes\n", encoding="utf-8")
    one_line(
        capsys, harness("suites", "generate", folder, "--apply-review"), "row 2", "'zzz' was not generated"
    )


# ---- harness calibrate -----------------------------------------------------------------------------------


def labels(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def calibrate(tmp_path: Path, path: Path, *extra: object) -> int:
    common = ["--no-mlflow", "--reports-dir", tmp_path / "reports", "--metric", "token_f1"]
    return harness("calibrate", path, *common, *extra)


POINT = {"question": "q?", "answer": "a", "reference": "a", "label": 1}


@pytest.mark.parametrize(
    ("rows", "fragments"),
    [
        (
            [POINT, {"question": "q2?", "answer_a": "x", "answer_b": "y", "preference": "a"}],
            ["row 1", "pointwise row"],
        ),
        (
            [{"question": "q?", "answer_a": "x", "answer_b": None, "preference": "a"}],
            ["row 1", "no answer_b"],
        ),
        ([{**POINT, "label": math.nan}, POINT], ["row 1", "NaN"]),
    ],
    ids=["mixed-kinds", "pair-without-b", "nan-label"],
)
def test_calibrate_bad_label_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: list[dict], fragments: list[str]
) -> None:
    path = labels(tmp_path, rows)
    one_line(capsys, calibrate(tmp_path, path), str(path), *fragments)


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--metric", "tokn_f1"], ["--metric", "'tokn_f1'", "token_f1"]),
        (["--threshold", "nan"], ["--threshold"]),
        (["--label-max", "inf"], ["--label-min/--label-max", "finite"]),
        (["--judge-temperature", "-1"], ["--judge-temperature"]),
    ],
)
def test_calibrate_bad_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], fragments: list[str]
) -> None:
    line = one_line(capsys, calibrate(tmp_path, labels(tmp_path, [POINT]), *extra), *fragments)
    assert not line.startswith(f"error: {tmp_path}:")  # the option is at fault, not the label file's folder


# ---- system YAMLs: python:, http:, openai: ---------------------------------------------------------------


def system(folder: Path, name: str, generator: dict, **extra: object) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "kind": "base", "generator": generator, **extra}))
    return path


def test_python_module_calling_sys_exit_on_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "h9_exits_on_import.py").write_text("import sys\nsys.exit(4)\n")
    (tmp_path / "h9_bad_syntax.py").write_text("def f(:\n")
    path = system(tmp_path, "exits", {"model": "python:h9_exits_on_import:f"})
    one_line(capsys, harness("systems", "validate", path), str(path), "generator.model", "SystemExit")
    path = system(tmp_path, "syntax", {"model": "python:h9_bad_syntax:f"})
    one_line(capsys, harness("systems", "validate", path), "h9_bad_syntax.py:1", "SyntaxError")


def test_python_callable_calling_sys_exit_fails_its_case(tmp_path: Path) -> None:
    from harness.system import build_system

    (tmp_path / "h9_exits_when_asked.py").write_text("import sys\n\ndef answer(question):\n    sys.exit(3)\n")
    spec = load_system_spec(system(tmp_path, "exits", {"model": "python:h9_exits_when_asked:answer"}))
    suite = load_suite(SMOKE)
    built = build_system(spec)
    built.prepare(suite)
    (answer,) = built.answer(suite.test[:1])
    assert answer.error is not None and "sys.exit(3)" in answer.error


@pytest.mark.parametrize(
    ("generator", "extra", "fragments"),
    [
        ({"model": "http://127.0.0.1:99999/ask"}, {"http": {"answer": "a"}}, ["generator.model", "99999"]),
        ({"model": "openai:m", "base_url": "not a url"}, {}, ["generator.base_url", "'not a url'"]),
        ({"model": "openai:m", "api_key_env": "my key"}, {}, ["generator.api_key_env", "'my key'"]),
        (
            {"model": "http://127.0.0.1:1/ask"},
            {"http": {"answer": "a", "headers": {"Authorization": "Bearer sk-h9literal0123456789"}}},
            ["http.headers.Authorization", "${ENV_VAR}"],
        ),
    ],
    ids=["http-port", "openai-base-url", "openai-key-env", "literal-secret"],
)
def test_system_keys_refused_at_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], generator: dict, extra: dict, fragments: list[str]
) -> None:
    path = system(tmp_path, "s", generator, **extra)
    line = one_line(capsys, harness("systems", "validate", path), str(path), *fragments)
    assert "h9literal" not in line  # a secret never reaches the message


# ---- harness.toml ----------------------------------------------------------------------------------------


def test_harness_toml_with_a_bom_reads(tmp_path: Path) -> None:
    (tmp_path / "harness.toml").write_text('\ufeffsuites = "my-suites"\n', encoding="utf-8")
    assert find_project(tmp_path).suites_dir == tmp_path.resolve() / "my-suites"


def test_suites_validate_with_no_suite_is_not_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "harness.toml").write_text('suites = "harness.toml"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    one_line(capsys, harness("suites", "validate"), "harness.toml", "not a folder")
    (tmp_path / "harness.toml").write_text('suites = "empty"\n', encoding="utf-8")
    (tmp_path / "empty").mkdir()
    one_line(capsys, harness("suites", "validate"), "empty", "no suites found")


def test_calibrate_given_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one_line(capsys, calibrate(tmp_path, tmp_path), str(tmp_path), "is a folder")


def test_openai_base_url_variable_that_is_not_a_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.llm.backends import openai_endpoint
    from harness.llm.settings import ModelSettings

    monkeypatch.setenv("HARNESS_OPENAI_BASE_URL", "not a url")
    with pytest.raises(InputError) as raised:
        openai_endpoint("openai:m", ModelSettings(), "system 's'")
    assert raised.value.where == "HARNESS_OPENAI_BASE_URL" and "'not a url'" in raised.value.what
    monkeypatch.setenv("HARNESS_OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    assert openai_endpoint("openai:m", ModelSettings(), "system 's'")[0] == "http://127.0.0.1:8000/v1"


def test_an_empty_mix_and_a_bad_models_file_are_named(tmp_path, monkeypatch) -> None:
    """`--mix ""` is refused (it used to mean the default mix); a bad HARNESS_MODELS entry names its block."""
    import pytest

    from harness.errors import InputError
    from harness.llm.settings import settings
    from harness.suitegen.plan import parse_mix

    with pytest.raises(InputError, match="--mix: empty"):
        parse_mix("  ")
    models = tmp_path / "models.yaml"
    models.write_text("models:\n  gemini:my-model: {rpm: -5}\n", encoding="utf-8")
    monkeypatch.setenv("HARNESS_MODELS", str(models))
    with pytest.raises(InputError, match=r"key 'models\.gemini:my-model\.rpm': Input should be greater"):
        settings("gemini:my-model")
