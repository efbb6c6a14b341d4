"""`harness suites new` and `harness suites generate` end to end, in-process, against the local Gemini peer
(which answers the generation prompts from the passages they quote): documents -> corpus -> questions ->
a suite that validates and runs; the split does not leak; the cache, the dry run, faults and bad input."""

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.cli import main
from harness.llm import guarded
from harness.overlap import suite_overlap
from harness.suite import load_suite
from tests.conftest import ROOT
from tests.local_server import GeminiPeer

KEY = "AIzaSyC4suitegen-Test_key0987654321zyx"
FLASH = "gemini:gemini-2.5-flash"

GARDEN = """# Fernhollow garden

Fernhollow community garden opens at seven in the morning from April to October.
Members pay an annual fee of forty pounds, due every March.

The tool shed is locked at dusk by the volunteer on duty. Keys are kept in the green box by the gate.
"""
BEES = """# Beekeeping

The garden keeps four beehives behind the orchard. Two trained volunteers look after the colonies.
Honey is harvested once a year in late August and sold at the autumn fair.
"""
TRAMS = """<html><head><title>Harbour trams</title><style>p {color: red}</style></head><body>
<h1>Harbour trams</h1><p>The harbour tram line was opened in 1903 by the city council.</p>
<p>Trams run every twelve minutes between the ferry terminal and the old market.</p>
<script>var hidden = "never in the corpus";</script></body></html>
"""
PDF_LINES = [
    "The lighthouse at Karrow Point was built in 1871 from local granite.",
    "Its lamp is lit at dusk and can be seen from thirty kilometres away.",
]


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a text layer, written by hand (objects, xref table, trailer)."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = (
        "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({escape(x)}) Tj T*" for x in lines) + " ET"
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture(autouse=True)
def fresh_runtimes() -> Iterator[None]:
    guarded._RUNTIMES.clear()
    yield
    guarded._RUNTIMES.clear()


@pytest.fixture
def peer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiPeer]:
    with GeminiPeer(api_key=KEY, retry_delay_s=0.05) as server:
        monkeypatch.setenv("GOOGLE_API_KEY", KEY)
        monkeypatch.delenv("GEMINI_API_KEY", raising=False)
        monkeypatch.setenv("HARNESS_GEMINI_BASE_URL", server.url)
        models = {FLASH: {"rpm": None, "timeout_s": 2, "max_attempts": 3, "concurrency": 4}}
        path = tmp_path / "models.yaml"
        path.write_text(yaml.safe_dump({"models": models}), encoding="utf-8")
        monkeypatch.setenv("HARNESS_MODELS", str(path))
        yield server


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "garden.md").write_text(GARDEN, encoding="utf-8")
    (folder / "sub" / "bees.md").write_text(BEES, encoding="utf-8")
    (folder / "trams.html").write_text(TRAMS, encoding="utf-8")
    (folder / "lighthouse.pdf").write_bytes(minimal_pdf(PDF_LINES))
    (folder / "notes.bin").write_bytes(b"\x00\x01 not a document")  # not a known suffix: skipped
    return folder


def harness(*args: str | Path) -> int:
    return main([str(arg) for arg in args])


def new(tmp_path: Path, docs: Path, *extra: str) -> Path:
    # Small passages (characters) so each short document gives several, as a real corpus would.
    args = ("suites", "new", "mine", "--docs", docs, "--out", tmp_path / "suites", "--chunk-unit", "chars")
    assert harness(*args, "--chunk-size", "120", "--chunk-overlap", "0", *extra) == 0
    return tmp_path / "suites" / "mine"


def generate(folder: Path, *extra: str) -> int:
    return harness("suites", "generate", folder, "--model", FLASH, "--test", "4", "--train", "6", *extra)


def generations(peer: GeminiPeer) -> list[str]:
    return [r.prompt for r in peer.log() if r.method == "generateContent"]


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_documents_become_a_suite_with_their_positions(tmp_path: Path, docs: Path) -> None:
    folder = new(tmp_path, docs)
    rows = jsonl(folder / "corpus.jsonl")
    assert {row["doc_id"] for row in rows} == {"garden", "sub-bees", "trams", "lighthouse"}
    text = {row["doc_id"]: "" for row in rows}
    for row in rows:
        assert len(row["text"]) <= 120 and row["end"] - row["start"] == len(row["text"])
        text[row["doc_id"]] += row["text"] + " "
    # HTML: visible text only, title from <title>; PDF: its text layer; Markdown: its heading as title.
    assert "never in the corpus" not in text["trams"] and "color" not in text["trams"]
    assert "opened in 1903" in text["trams"] and "granite" in text["lighthouse"]
    titles = {row["doc_id"]: row["title"] for row in rows}
    assert titles["trams"] == "Harbour trams" and titles["garden"] == "Fernhollow garden"
    spec = yaml.safe_load((folder / "suite.yaml").read_text(encoding="utf-8"))
    assert spec["abstention"] == "The documents do not say." and "abstain_correct" in spec["metrics"]
    assert (folder / "README.md").is_file()


def test_generate_runs_without_leakage_caches_and_its_dry_run_counts_the_calls(
    tmp_path: Path, docs: Path, peer: GeminiPeer, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = new(tmp_path, docs)
    capsys.readouterr()
    assert generate(folder, "--dry-run") == 0
    out = capsys.readouterr().out
    found = re.search(r"^gemini:gemini-2\.5-flash\s+suitegen\s+(\d+)", out, re.M)
    assert found is not None, out
    estimated = int(found.group(1))
    assert estimated == 10 and not generations(peer)  # the dry run sent nothing

    assert generate(folder) == 0
    out = capsys.readouterr().out
    assert len(generations(peer)) == estimated
    suite = load_suite(folder)
    kept = len(suite.test) + len(suite.train)
    rejected = jsonl(folder / "rejected.jsonl")
    assert kept + len(rejected) == 10 and len(suite.test) >= 1 and len(suite.train) >= 1
    assert {tag for case in suite.test + suite.train for tag in case.tags} >= {"single", "unanswerable"}
    # Split by document: no test document supplies a train question; no near-duplicate across splits.
    corpus = {row["id"]: row["doc_id"] for row in jsonl(folder / "corpus.jsonl")}
    asked = {row["id"]: row["asked_about"] for row in jsonl(folder / "generated.jsonl")}
    test_docs = {corpus[p] for case in suite.test for p in asked[case.id]}
    train_docs = {corpus[p] for case in suite.train for p in asked[case.id]}
    assert test_docs and train_docs and not test_docs & train_docs
    assert suite_overlap(suite).near_duplicate_questions == ()
    assert "train/test overlap:" in out and "near-duplicate train question" in out
    for case in suite.test + suite.train:
        if "unanswerable" in case.tags:
            assert case.reference == "The documents do not say." and not case.gold_ids
        else:  # the generator's claim is checked: its answer is in its gold passage
            assert case.gold_ids and case.answer_spans
    with (folder / "review.csv").open(encoding="utf-8", newline="") as handle:
        review = list(csv.DictReader(handle))
    assert len(review) == kept and all(row["keep"] == "yes" and row["gold_passage_text"] for row in review)
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert f"with `{FLASH}`" in readme and f"- kept {kept}: {len(suite.test)} test" in readme

    # A second generation is answered from the cache: zero requests, the same suite.
    before = len(peer.log())
    assert generate(folder) == 0
    assert len(peer.log()) == before and load_suite(folder).test_hash == suite.test_hash
    assert generate(folder, "--dry-run") == 0
    assert re.search(r"^gemini:gemini-2\.5-flash\s+suitegen\s+0\s", capsys.readouterr().out, re.M)

    # The suite runs offline with the BM25 + extractive reader system.
    reports = tmp_path / "reports"
    code = harness("run", "--suite", folder, "--system", ROOT / "systems" / "rag-bm25.yaml",
                   "--no-mlflow", "--reports-dir", reports)  # fmt: skip
    assert code == 0 and list(reports.glob("runs/*/run.json"))


def test_review_keeps_only_approved_rows_and_rechecks_edited_answers(
    tmp_path: Path, docs: Path, peer: GeminiPeer, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = new(tmp_path, docs)
    assert generate(folder) == 0
    path = folder / "review.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    answerable = [row for row in rows[2:] if row["type"] != "unanswerable"]
    rows[0]["keep"] = "no"
    removed = rows.pop(1)  # a row deleted from the sheet is rejected too, not lost
    answerable[-1]["answer"] = "purple elephants"  # not in its gold passage
    fixed = answerable[0]  # shortened by a person: still in its passage, so kept as edited
    fixed["answer"] = " ".join(fixed["answer"].split()[1:])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    # Generating again would lose the edits: refused, one line.
    capsys.readouterr()
    assert generate(folder) == 2
    assert "has edits" in capsys.readouterr().err
    assert harness("suites", "generate", folder, "--apply-review") == 0
    suite = load_suite(folder)
    ids = {case.id for case in suite.test + suite.train}
    assert rows[0]["id"] not in ids and answerable[-1]["id"] not in ids
    assert len(ids) == len(rows) - 2 and removed["id"] not in ids
    reasons = {row["id"]: row["reason"] for row in jsonl(folder / "rejected.jsonl")}
    assert reasons[rows[0]["id"]] == reasons[removed["id"]] == "rejected in review"
    assert reasons[answerable[-1]["id"]] == "answer not found in its gold passage"
    assert (
        next(case.reference for case in suite.test + suite.train if case.id == fixed["id"]) == fixed["answer"]
    )


def test_faults_end_with_every_row_generated_or_counted_with_its_reason(
    tmp_path: Path,
    docs: Path,
    peer: GeminiPeer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = new(tmp_path, docs)
    # One call at a time, so that the three 500s fall on one call's three attempts.
    serial = {FLASH: {"rpm": None, "timeout_s": 2, "max_attempts": 3, "concurrency": 1}}
    (tmp_path / "serial.yaml").write_text(yaml.safe_dump({"models": serial}), encoding="utf-8")
    monkeypatch.setenv("HARNESS_MODELS", str(tmp_path / "serial.yaml"))
    peer.fail("429", times=2)  # retried after the server's delay: these rows still come back
    peer.fail("malformed", times=1, match="[suite-generation:single]")
    # All 3 attempts of one call fail with a 500 whose message echoes the key (a careless proxy).
    peer.fail("leak", times=3, match="[suite-generation:unanswerable]")
    # A generator whose answer is not in the passage it was given.
    wrong = {"question": "What colour is the hive?", "answer": "purple", "uses": ["P1", "P2"]}
    peer.scripts["Honey is harvested"] = json.dumps(wrong)
    assert generate(folder, "--mix", "single=0.5,multi=0.2,unanswerable=0.3") == 0
    out = capsys.readouterr().out
    suite = load_suite(folder)
    rejected = jsonl(folder / "rejected.jsonl")
    assert len(suite.test) + len(suite.train) + len(rejected) == 10
    reasons = {row["reason"] for row in rejected}
    assert {"unparsable reply", "call failed"} <= reasons
    assert all(row["reason"] and row["id"] for row in rejected)
    assert re.search(r"rejected \d+: call failed 1, unparsable reply 1", out)
    failed = next(row for row in rejected if row["reason"] == "call failed")
    assert "server error (5xx) after 3 attempts" in failed["detail"]
    assert KEY not in (folder / "rejected.jsonl").read_text(encoding="utf-8") and KEY not in out
    assert any("Honey is harvested" in prompt for prompt in generations(peer))
    assert "answer not found in its gold passage" in reasons
    assert sum(r.status == 429 for r in peer.log()) == 2


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("empty", "no documents (.txt, .md, .markdown, .html, .htm, .pdf) in it"),
        ("bad-pdf", "broken.pdf: not a readable PDF"),
        ("model", "--model: chat model: unknown model 'nosuch:model'"),
        ("mix", "--mix: 'lots=1' is not KIND=SHARE"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, docs: Path, setup: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if setup in ("empty", "bad-pdf"):
        folder = tmp_path / setup
        folder.mkdir()
        if setup == "bad-pdf":
            (folder / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
        code = harness("suites", "new", "x", "--docs", folder, "--out", tmp_path / "suites")
    else:
        suite = new(tmp_path, docs)
        capsys.readouterr()
        model, mix = ("nosuch:model", "single=1") if setup == "model" else (FLASH, "lots=1")
        code = harness("suites", "generate", suite, "--model", model, "--test", "2", "--mix", mix)
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err, err
