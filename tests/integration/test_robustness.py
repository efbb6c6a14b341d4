"""Issue #13, one test (or table) per defect class: bad input and environment problems are one line with
exit 2, damaged or half-written run folders are skipped, a run that did nothing exits non-zero, concurrent
runs both finish, nothing is written outside the project and the cache folder, keys are redacted by shape."""

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.cache import Cache
from harness.cli import main
from harness.files import write_atomic
from harness.privacy import REDACTED, ScrubFilter, scrub
from harness.report import load_report
from tests.conftest import RAG, ROOT, SMOKE
from tests.integration.test_gate import base_values, write_run
from tests.integration.test_gate import write_suite as gate_suite
from tests.integration.test_validation import CORPUS, SUITE_YAML, TEST, jsonl, single_error, write_suite
from tests.local_server import GeminiPeer

# -- 1. table values: the type of every column value is checked, with file, row and column -----------

TEST_GOLD_INT = [{**row, "gold_ids": 3} for row in TEST]
TEST_TAGS_INT = [{**row, "tags": 5} for row in TEST]
TEST_QUESTION_OBJECT = [{**row, "question": {"text": row["question"]}} for row in TEST]
TEST_MIXED_GOLD = [TEST[0], {**TEST[1], "gold_ids": 3}]
TEST_GOLD_ITEM_OBJECT = [{**TEST[0], "gold_ids": [{"id": "p2"}]}, TEST[1]]

TABLE_CASES = [
    pytest.param(
        {"test.jsonl": jsonl(*TEST_GOLD_INT)},
        "test.jsonl",
        "row 1: column 'gold_ids' must be a list of ids, got int 3",
        id="gold-ids-int",
    ),
    pytest.param(
        {"test.jsonl": jsonl(*TEST_TAGS_INT)},
        "test.jsonl",
        "row 1: column 'tags' must be a list of ids, got int 5",
        id="tags-int",
    ),
    pytest.param(
        {"test.jsonl": jsonl(*TEST_QUESTION_OBJECT)},
        "test.jsonl",
        "row 1: column 'question' must be text, got an object",
        id="question-object",
    ),
    pytest.param(
        {"test.jsonl": jsonl(*TEST_MIXED_GOLD)},
        "test.jsonl:2",
        "column 'gold_ids' is a number here but a list at line 1",
        id="gold-ids-kind-changes",
    ),
    pytest.param(
        {"test.jsonl": jsonl(*TEST_GOLD_ITEM_OBJECT)},
        "test.jsonl",
        "row 1: column 'gold_ids' item 1 must be an id, got an object",
        id="gold-id-object",
    ),
    pytest.param(
        {"corpus.jsonl": jsonl(*({**row, "text": [row["text"]]} for row in CORPUS))},
        "corpus.jsonl",
        "row 1: column 'text' must be text, got a list",
        id="corpus-text-list",
    ),
]


TABLE_CASES += [
    pytest.param(
        {"test.jsonl": jsonl(*({**row, "id": True} for row in TEST))},
        "test.jsonl",
        "row 1: column 'id' must be text, got bool True",
        id="id-true",
    ),
    pytest.param(
        {
            "suite.yaml": SUITE_YAML.replace("test.jsonl", "test.csv"),
            "test.csv": "id,question,reference\nt1,How many hives?,four,p2,extra\n",
        },
        "test.csv:2",
        "5 fields, but the header has 3",
        id="csv-row-longer-than-header",
    ),
    pytest.param(
        {"suite.yaml": SUITE_YAML.replace("corpus: corpus.jsonl", "corpus: 5")},
        "suite.yaml",
        "key 'corpus': a file name or a mapping (path, split, columns), got int 5",
        id="source-not-a-name",
    ),
]


@pytest.mark.parametrize(("changes", "named", "what"), TABLE_CASES)
def test_bad_table_value_is_one_line_naming_file_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, str], named: str, what: str
) -> None:
    folder = write_suite(tmp_path / "tiny", changes)
    line = single_error(capsys, main(["suites", "validate", str(folder)]))
    assert line == f"error: {folder / named}: {what}"


def test_parquet_int_gold_ids_column_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_suite(tmp_path / "tiny", {"suite.yaml": SUITE_YAML.replace("test.jsonl", "test.parquet")})
    columns = {key: [row[key] for row in TEST] for key in ("id", "question", "reference")}
    pq.write_table(pa.table({**columns, "gold_ids": pa.array([2, 3], pa.int64())}), folder / "test.parquet")
    line = single_error(capsys, main(["suites", "validate", str(folder)]))
    assert (
        line == f"error: {folder / 'test.parquet'}: row 1: column 'gold_ids' must be a list of ids, got int 2"
    )


def test_a_lone_numeric_id_in_csv_is_still_an_id(tmp_path: Path) -> None:
    """CSV has no lists: `|`-separated ids, and one numeric id is read as a number: that stays valid."""
    corpus = "id,text\n7,The north gate opens at seven.\n8,Four hives stand behind the orchard.\n"
    test = "id,question,reference,gold_ids,tags\nt1,When does the gate open?,at seven,7,gate\n"
    yaml_text = SUITE_YAML.replace("corpus.jsonl", "corpus.csv").replace("test.jsonl", "test.csv")
    folder = write_suite(
        tmp_path / "tiny",
        {"suite.yaml": yaml_text.replace("train: train.jsonl\n", ""), "corpus.csv": corpus, "test.csv": test},
    )
    from harness.suite import load_suite

    suite = load_suite(folder)
    assert suite.test[0].gold_ids == ("7",) and suite.test[0].tags == ("gate",)


# -- 2 and 7. a damaged or half-written run folder is skipped with a warning, never a crash ----------


def _runs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two finished runs of tiny × sys (an older and a newer one), with their suite."""
    suite = gate_suite(tmp_path / "tiny")
    reports = tmp_path / "reports"
    older = write_run(reports, "20260101T000000", base_values(), suite)
    newer = write_run(reports, "20260102T000000", base_values(), suite)
    return reports, older, newer


DAMAGES = {
    "truncated-run-json": lambda folder: (folder / "run.json").write_text(
        (folder / "run.json").read_text(encoding="utf-8")[:200], encoding="utf-8"
    ),
    "broken-record-line": lambda folder: (folder / "records.jsonl").write_text(
        (folder / "records.jsonl").read_text(encoding="utf-8").replace('"case_id"', '"case_', 1),
        encoding="utf-8",
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_run_folder_is_skipped_by_gate_and_named_by_score(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    reports, older, newer = _runs(tmp_path)
    assert main(["baseline", "--reports-dir", str(reports)]) == 0
    capsys.readouterr()
    DAMAGES[damage](newer)
    gate = ["gate", "--reports-dir", str(reports), "--suites-dir", str(tmp_path), "--no-mlflow"]
    assert main(gate) == 0, "the older run is gated; the damaged newer one is passed over"
    out, err = capsys.readouterr()
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and str(newer) in warnings[0] and "damaged" in warnings[0], err
    assert f"run {older.name}" in out and "Traceback" not in err
    assert main(["report", "--reports-dir", str(reports), "--out", str(tmp_path / "site")]) == 0
    err = capsys.readouterr().err
    assert (tmp_path / "site" / "index.html").is_file() and f"skipped damaged run folder {newer}" in err
    # `harness score` names the folder it was given: one line, exit 2.
    line = single_error(capsys, main(["score", str(newer), "--reports-dir", str(reports), "--no-mlflow"]))
    assert str(newer) in line and "damaged" in line


def test_a_run_killed_before_it_finished_leaves_nothing_that_breaks_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports, older, _ = _runs(tmp_path)
    assert main(["baseline", "--reports-dir", str(reports)]) == 0
    half = reports / "runs" / "20260103T000000_000000Z_tiny_sys"  # killed while scoring: no run.json
    half.mkdir()
    (half / "records.jsonl").write_text('{"case_id": "q00", "quest', encoding="utf-8")
    assert main(["gate", "--reports-dir", str(reports), "--suites-dir", str(tmp_path), "--no-mlflow"]) == 0
    out, err = capsys.readouterr()
    assert half.name not in out + err
    line = single_error(capsys, main(["score", str(half), "--reports-dir", str(reports), "--no-mlflow"]))
    assert line == f"error: {half}: not a run folder (no run.json)"


def test_atomic_write_leaves_the_old_file_whole_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "run.json"
    write_atomic(target, '{"old": true}\n')

    def fail(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_atomic(target, '{"new": true}\n')
    assert target.read_text(encoding="utf-8") == '{"old": true}\n'
    assert [path.name for path in tmp_path.iterdir()] == ["run.json"], "no temporary file is left behind"


# -- 3. environment problems: one line, exit 2 ---------------------------------------------------------


def _run_smoke(reports: Path, *extra: str) -> int:
    return main(
        [
            "run",
            "--suite",
            str(SMOKE),
            "--system",
            str(RAG),
            "--reports-dir",
            str(reports),
            "--no-mlflow",
            *extra,
        ]
    )


def test_a_reports_folder_that_cannot_be_written_fails_before_answering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "reports"
    blocked.write_text("a file where the reports folder should be", encoding="utf-8")
    line = single_error(capsys, _run_smoke(blocked))
    assert line.startswith(f"error: {blocked / 'runs'}: the reports folder is not writable")
    assert not (tmp_path / "cache" / "artifacts").exists(), "nothing was indexed or trained"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_a_read_only_reports_folder_fails_before_answering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    reports.chmod(0o555)
    try:
        line = single_error(capsys, _run_smoke(reports))
    finally:
        reports.chmod(0o755)
    assert "the reports folder is not writable" in line


def test_a_cache_folder_that_cannot_be_used_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(blocked))
    line = single_error(capsys, _run_smoke(tmp_path / "reports"))
    assert line.startswith(f"error: {blocked}: cache folder cannot be used")


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_cache_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    folder = tmp_path / "damaged-cache"
    cache = Cache(folder)
    for number in range(200):
        cache.put(Cache.key("filler", number), "x" * 500)
    cache.close()
    database = folder / "cache.db"
    data = database.read_bytes()
    database.write_bytes(os.urandom(4096) if damage == "garbage" else data[: len(data) // 2])
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(folder))
    line = single_error(capsys, _run_smoke(tmp_path / "reports"))
    assert line.startswith(f"error: {database}: the cache database is damaged")
    assert "delete the folder" in line


def test_an_unwritable_output_folder_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports, _, _ = _runs(tmp_path)
    blocked = tmp_path / "blocked"
    blocked.write_text("", encoding="utf-8")
    gate = ["gate", "--reports-dir", str(reports), "--suites-dir", str(tmp_path), "--no-mlflow"]
    line = single_error(capsys, main([*gate, "--out", str(blocked / "out")]))
    assert line.startswith(f"error: {blocked / 'out'}: ")


def test_harness_debug_shows_the_traceback_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_suite(tmp_path / "tiny", {"test.jsonl": jsonl(*TEST_GOLD_INT)})
    monkeypatch.setenv("HARNESS_DEBUG", "1")
    assert main(["suites", "validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error: ")


# -- 4. what can be checked without running is checked before any work starts --------------------------

SYSTEM_CASES = [
    pytest.param(
        "name: s\nkind: rag\nretriever: {method: bm25}\ngenerator: {model: 'hf:./models/absent'}\n",
        "key 'generator.model': no such model folder './models/absent'",
        id="hf-local-path-missing",
    ),
    pytest.param(
        "name: s\nkind: finetuned\ngenerator: {model: minilm}\nfinetune: {method: lora}\n",
        "key 'finetune.method': minilm trains with 'classifier' or 'reader', not 'lora'",
        id="minilm-lora",
    ),
    pytest.param(
        "name: s\nkind: hybrid\nretriever: {method: bm25}\ngenerator: {model: minilm}\n"
        "finetune: {method: reader}\n",
        "key 'finetune.freeze_layers': 6 leaves the reader nothing to tune",
        id="minilm-reader-all-frozen",
    ),
    pytest.param(
        "name: s\nkind: hybrid\nretriever: {method: bm25}\ngenerator: {model: minilm}\n"
        "finetune: {method: reader, freeze_layers: 3, tune_retriever: true}\n",
        "finetune.tune_retriever needs a dense encoder",
        id="minilm-tune-bm25",
    ),
    pytest.param(
        "name: s\nkind: finetuned\ngenerator: {model: 'hf:./x'}\nfinetune: {method: classifier}\n",
        "an hf: model trains with lora or full, not 'classifier'",
        id="hf-classifier",
    ),
    pytest.param(
        "name: s\nkind: finetuned\ngenerator: {model: 'gemini:gemini-2.5-flash'}\nfinetune: {method: lora}\n",
        "key 'finetune': the harness does not fine-tune gemini:gemini-2.5-flash",
        id="gemini-finetune",
    ),
    pytest.param(
        "name: s\nkind: rag\nretriever: {chunk_size: 512, chunk_unit: chars, chunk_overlap: 600}\n"
        "generator: {model: extractive}\n",
        "key 'retriever.chunk_overlap': 600 is more than half of chunk_size 512 (at most 256)",
        id="overlap-above-size",
    ),
    pytest.param(
        "name: s\nkind: base\ngenerator: {model: extractive}\n",
        "key 'retriever': the extractive reader picks a span from retrieved passages",
        id="extractive-closed-book",
    ),
    pytest.param(
        "name: s\nkind: hybrid\nretriever: {method: bm25}\ngenerator: {model: extractive}\n"
        "finetune: {method: reader}\n",
        "key 'finetune': the extractive reader does not train",
        id="extractive-finetune",
    ),
    pytest.param(
        "name: s\nkind: rag\nretriever: {method: bm25}\nretriever: {method: dense}\n"
        "generator: {model: extractive}\n",
        "duplicate key 'retriever' (first at line 3)",
        id="duplicate-key",
    ),
]


@pytest.mark.parametrize(("content", "what"), SYSTEM_CASES)
def test_system_checks_happen_at_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, what: str
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(content, encoding="utf-8")
    line = single_error(capsys, main(["systems", "validate", str(path)]))
    assert line.startswith(f"error: {path}") and what in line, line


def test_validation_refuses_every_system_its_family_would_refuse_to_build(tmp_path: Path) -> None:
    """The load-time checks repeat the families' build-time ones; this grid keeps the two from drifting:
    whatever `systems validate` accepts, the factory builds."""
    from harness.errors import InputError
    from harness.system import build_system, load_system_spec

    models = ["minilm", "hf:org/model", "gemini:gemini-2.5-flash", "extractive"]
    retrievers = [None, {"method": "bm25"}, {"method": "hybrid"}]
    finetunes = [None] + [
        {"method": method, "tune_retriever": tune, "freeze_layers": frozen}
        for method in ("classifier", "reader", "lora")
        for tune in (False, True)
        for frozen in (3, 6)
    ]
    accepted = refused_at_load = 0
    for number, (model, retriever, finetune, kind, tuned) in enumerate(
        (m, r, f, k, t)
        for m in models
        for r in retrievers
        for f in finetunes
        for k in ("base", "rag", "finetuned", "hybrid")
        for t in (False, True)
    ):
        spec: dict[str, object] = {"name": "s", "kind": kind, "generator": {"model": model, "tuned": tuned}}
        if retriever:
            spec["retriever"] = retriever
        if finetune:
            spec["finetune"] = finetune
        path = tmp_path / f"s{number}.yaml"
        path.write_text(json.dumps(spec), encoding="utf-8")
        try:
            loaded = load_system_spec(path)
        except InputError:
            refused_at_load += 1
            continue
        build_system(loaded)  # raises (and fails the test) if the factory refuses what validation let by
        accepted += 1
    assert accepted >= 20 and refused_at_load >= 100, (accepted, refused_at_load)


def test_duplicate_key_and_misspelt_required_key_in_suite_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_suite(
        tmp_path / "dup", {"suite.yaml": SUITE_YAML.replace("version: 1\n", "version: 1\nversion: 2\n")}
    )
    line = single_error(capsys, main(["suites", "validate", str(folder)]))
    assert line == f"error: {folder / 'suite.yaml'}:3: duplicate key 'version' (first at line 2)"
    folder = write_suite(tmp_path / "typo", {"suite.yaml": SUITE_YAML.replace("metrics:", "metrcs:")})
    line = single_error(capsys, main(["suites", "validate", str(folder)]))
    assert line == (
        f"error: {folder / 'suite.yaml'}: missing key 'metrics': "
        "unknown key 'metrcs' (did you mean 'metrics'?)"
    )


def test_workers_zero_fails_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = single_error(capsys, _run_smoke(tmp_path / "reports", "--workers", "0"))
    assert line == "error: --workers: must be at least 1, got 0"
    assert not (tmp_path / "reports").exists()


def test_every_input_of_a_bench_is_checked_before_its_first_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """rag-minilm could run on both suites, but the fine-tuned system cannot train on the suite without a
    train split, and an hf: hub model is not in the local cache: the bench stops before its first run."""
    no_train = write_suite(
        tmp_path / "suites" / "notrain", {"suite.yaml": SUITE_YAML.replace("train: train.jsonl\n", "")}
    )
    shutil.copytree(SMOKE, tmp_path / "suites" / "smoke")
    bench = ["bench", "--suites-dir", str(tmp_path / "suites"), "--reports-dir", str(tmp_path / "reports")]
    finetuned = str(ROOT / "systems" / "finetuned-minilm.yaml")
    line = single_error(capsys, main([*bench, "--system", str(RAG), "--system", finetuned, "--no-mlflow"]))
    assert (
        line == f"error: {no_train}/suite.yaml: system 'finetuned-minilm' fine-tunes, "
        "but the suite has no train split"
    )
    assert not list((tmp_path / "reports" / "runs").glob("*")), "no run started"
    absent = tmp_path / "absent.yaml"
    absent.write_text(
        "name: absent\nkind: base\ngenerator: {model: 'hf:nobody/not-cached-0'}\n", encoding="utf-8"
    )
    line = single_error(
        capsys,
        main([*bench, "--suite", "smoke", "--system", str(RAG), "--system", str(absent), "--no-mlflow"]),
    )
    assert "'hf:nobody/not-cached-0' is not a local folder nor in the Hugging Face cache" in line
    assert not list((tmp_path / "reports" / "runs").glob("*"))


# -- 5. a run whose every answer failed is not a success -----------------------------------------------


def test_a_run_whose_every_answer_failed_exits_1_and_keeps_its_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request answered 400 (a key the server does not accept): recorded, reported, exit 1."""
    system = tmp_path / "closed-gemini.yaml"
    system.write_text(
        "name: closed-gemini\nkind: base\nprofile: gemini\ngenerator: {model: 'gemini:gemini-2.5-flash'}\n",
        encoding="utf-8",
    )
    with GeminiPeer(api_key="the-right-key") as peer:
        monkeypatch.setenv("GOOGLE_API_KEY", "a-key-the-server-refuses")
        monkeypatch.setenv("HARNESS_GEMINI_BASE_URL", peer.url)
        code = main(
            [
                "run",
                "--suite",
                str(SMOKE),
                "--system",
                str(system),
                "--reports-dir",
                str(tmp_path / "r"),
                "--no-mlflow",
            ]
        )
        assert {request.status for request in peer.log()} == {400}
    err = capsys.readouterr().err
    assert code == 1
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith("error: 1 of 1 run(s) could not answer a single case: smoke × closed-gemini")
    )
    (folder,) = (tmp_path / "r" / "runs").iterdir()
    report, records = load_report(folder)
    assert len(records) == 20 and all(record.error for record in records), "failed cases are still recorded"
    assert report.n_errors == 20


# -- 6. runs sharing a cache folder and a reports folder finish side by side ---------------------------

# The cheapest real system: MiniLM + BM25 retrieval read by the extractive reader (nothing to train).
EXTRACTIVE = """\
name: rag-extractive
kind: rag
retriever: {method: hybrid, top_k: 5, chunk_size: 192, chunk_overlap: 32}
generator: {model: extractive, max_sentences: 1}
"""


def test_three_runs_at_once_share_the_cache_and_reports_folders(tmp_path: Path) -> None:
    system = tmp_path / "rag-extractive.yaml"
    system.write_text(EXTRACTIVE, encoding="utf-8")
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "harness", "run", "--suite", str(SMOKE), "--system", str(system)]
    command += ["--reports-dir", str(tmp_path / "reports"), "--no-mlflow", "--workers", "1"]
    runs = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    results = [run.communicate(timeout=600) for run in runs]
    for run, (_, err) in zip(runs, results, strict=True):
        assert run.returncode == 0, err
        assert "Traceback" not in err
    folders = sorted((tmp_path / "reports" / "runs").iterdir())
    assert len(folders) == 3
    summaries = []
    for folder in folders:
        report, records = load_report(folder)
        assert len(records) == 20 and report.n_errors == 0
        summaries.append({name: s.mean for name, s in report.summary.items() if name != "latency_s"})
    assert summaries[0] == summaries[1] == summaries[2], "the same answers and scores, whoever cached them"


# -- 8. nothing is written outside the project folder and the cache folder ------------------------------


def test_a_bench_writes_nothing_in_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    systems = tmp_path / "systems"
    systems.mkdir()
    (systems / "rag-extractive.yaml").write_text(EXTRACTIVE, encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XDG_", "HF_", "MPLCONFIGDIR", "TORCH_HOME", "HARNESS_"))
    }
    env.update({"HOME": str(home), "HARNESS_CACHE_DIR": str(tmp_path / "cache")})
    project = tmp_path / "project"
    project.mkdir()
    command = [sys.executable, "-m", "harness", "bench", "--suite", "smoke", "--system", "rag-extractive"]
    command += ["--no-mlflow", "--suites-dir", str(ROOT / "suites"), "--systems-dir", str(systems)]
    done = subprocess.run(
        command,
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    written = sorted(str(path.relative_to(home)) for path in home.rglob("*"))
    assert written == [], written
    cache = tmp_path / "cache"
    assert list((cache / "datasets").iterdir()), "datasets' Arrow copies are in the harness cache"
    assert (cache / "hf-modules").exists(), "evaluate copied the ROUGE module into the harness cache"
    assert (cache / "hf-metrics").exists(), "and keeps its per-computation files there"


# -- 9. no baseline: not gated, unless required ---------------------------------------------------------


def test_a_run_without_a_baseline_is_not_gated_unless_required(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports, _, newer = _runs(tmp_path)
    out_dir = tmp_path / "out"
    gate = [
        "gate",
        "--reports-dir",
        str(reports),
        "--suites-dir",
        str(tmp_path),
        "--no-mlflow",
        "--out",
        str(out_dir),
    ]
    assert main(gate) == 0
    markdown = (out_dir / "gate.md").read_text(encoding="utf-8")
    assert "## tiny v1 × sys: not gated" in markdown and "1 not gated: no baseline" in markdown
    (case,) = ET.parse(out_dir / "junit.xml").iter("testcase")
    assert case.get("name") == "baseline" and case.find("skipped") is not None
    assert main([*gate, "--require-baseline"]) == 1
    (case,) = ET.parse(out_dir / "junit.xml").iter("testcase")
    assert case.find("failure") is not None
    assert "**FAIL** (not gated)" in (out_dir / "gate.md").read_text(encoding="utf-8")
    capsys.readouterr()
    assert newer.name in markdown


# -- 10. keys are redacted by their shape, not only by their exact value --------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "AIza" + "B" * 35,  # a Google key of today's length, not in the environment
        "AIza" + "c1_-" * 8,  # another length (36 after the prefix)
        "AIza" + "D" * 30,
        "sk-" + "e" * 48,
        "sk-proj-" + "F4" * 20,
        "hf_" + "g" * 34,
    ],
)
def test_a_key_shaped_string_is_redacted_without_being_in_the_environment(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    message = f"400 Bad Request: key {key} was refused (url ...?key={key}&alt=json)"
    cleaned = scrub(message)
    assert key not in cleaned and cleaned.count(REDACTED) == 2
    assert cleaned.startswith("400 Bad Request: key ")


def test_secret_named_variables_are_redacted_and_ordinary_words_are_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "correct horse battery")
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "login with %s failed", ("correct horse battery",), None
    )
    ScrubFilter().filter(record)
    assert record.getMessage() == f"login with {REDACTED} failed"
    plain = "task-list and skeleton keys: sk-short, AIza, hf_x"
    assert scrub(plain) == plain
