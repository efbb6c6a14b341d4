"""The values at the bottom (harness.values): pure SystemSpec.hash; a train split read only when used."""

import builtins
import pathlib
from pathlib import Path

import pytest
import yaml

from harness.errors import InputError
from harness.suite import load_suite, read_all
from harness.system import SystemSpec, load_system_spec, resolve_spec
from harness.values import LazyCases, cases_hash

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "systems").glob("*.yaml")) + sorted((ROOT / "examples" / "systems").glob("*.yaml"))


def _no_files(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"read a file: {args[:1]}")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(pathlib.Path, "read_text", refuse)
    monkeypatch.setattr(pathlib.Path, "read_bytes", refuse)
    monkeypatch.setattr(pathlib.Path, "open", refuse)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_a_loaded_specs_hash_reads_no_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # python: targets resolve from the working folder, as `harness run` there
    spec = load_system_spec(path)
    expected = spec.hash
    _no_files(monkeypatch)
    assert spec.hash == expected
    assert spec.model_copy().hash == expected  # a copy carries what the loader read


def test_the_prompt_text_is_in_the_hash_and_read_at_load(tmp_path: Path) -> None:
    template = tmp_path / "mine.txt"
    template.write_text("Q: {question}\nC: {context}\nA:", encoding="utf-8")
    system = tmp_path / "rag-mine.yaml"
    raw = yaml.safe_load((ROOT / "systems" / "rag-gemini.yaml").read_text(encoding="utf-8"))
    raw["generator"]["prompt"] = str(template)
    system.write_text(yaml.safe_dump(raw), encoding="utf-8")
    spec = load_system_spec(system)
    before = spec.hash
    assert spec.prompt_text == "Q: {question}\nC: {context}\nA:"  # what the generator fills, as hashed
    template.write_text("Question: {question}\nContext: {context}\nAnswer:", encoding="utf-8")
    assert spec.hash == before  # the loaded spec keeps the text it was loaded with
    assert load_system_spec(system).hash != before  # a new load reads the edit


def test_a_spec_not_from_the_loader_is_resolved_before_its_hash(tmp_path: Path) -> None:
    loaded = load_system_spec(ROOT / "systems" / "rag-gemini.yaml")
    raw = SystemSpec.model_validate(loaded.model_dump(mode="json"))  # as a run folder's run.json holds it
    with pytest.raises(ValueError, match="not read"):
        _ = raw.hash
    with pytest.raises(ValueError, match="not read"):
        _ = raw.prompt_text
    assert resolve_spec(raw).hash == loaded.hash
    closed = loaded.model_copy(update={"retriever": None})  # another shipped template applies: read again
    with pytest.raises(ValueError, match="not read"):
        _ = closed.hash
    offline = load_system_spec(ROOT / "systems" / "rag-minilm.yaml")
    assert SystemSpec.model_validate(offline.model_dump(mode="json")).hash == offline.hash  # nothing to read


def test_what_a_spec_uses_of_the_suite() -> None:
    assert [
        load_system_spec(ROOT / "systems" / f"{name}.yaml").uses_train for name in ("rag-minilm", "base-qwen")
    ] == [
        False,
        False,
    ]
    tuned = load_system_spec(ROOT / "systems" / "finetuned-minilm.yaml")
    assert tuned.uses_train and not tuned.uses_corpus


def _train_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every table the suite loader reads."""
    import harness.suite

    reads: list[str] = []
    real = harness.suite.read_rows

    def counting(source, base):  # type: ignore[no-untyped-def]
        reads.append(source.path)
        return real(source, base)

    monkeypatch.setattr(harness.suite, "read_rows", counting)
    return reads


def test_the_train_split_is_read_once_then_only_when_used(
    smoke_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _train_reads(monkeypatch)
    first = load_suite(smoke_copy)  # a cold cache: read now, to know its hash (and to validate it)
    assert isinstance(first.train, tuple) and reads.count("train.jsonl") == 1
    warm = load_suite(smoke_copy)
    assert isinstance(warm.train, LazyCases) and not warm.train.loaded
    assert reads.count("train.jsonl") == 1  # not read: its hash came from the cache
    assert warm.hash == first.hash and warm.train_hash == first.train_hash
    assert tuple(warm.train) == first.train and len(warm.train) == len(first.train) == 36
    assert cases_hash(warm.train) == first.train_hash
    assert reads.count("train.jsonl") == 2  # read on first use, once
    assert warm.train[0] == first.train[0] and bool(warm.train)
    assert (
        warm.train + warm.test == first.train + first.test
        and warm.test + warm.train == first.test + first.train
    )
    assert warm.train[1:3] == first.train[1:3] and warm.train == first.train
    assert reads.count("train.jsonl") == 2
    eager = load_suite(smoke_copy, read_train=True)
    assert isinstance(eager.train, tuple) and reads.count("train.jsonl") == 3


def test_a_limited_copy_shares_the_deferred_split(smoke_copy: Path) -> None:
    load_suite(smoke_copy)
    warm = load_suite(smoke_copy)
    limited = warm.model_copy(update={"test": warm.test[:2]})
    assert limited.train is warm.train and read_all(limited).train.loaded  # type: ignore[union-attr]
    assert warm.train.loaded  # type: ignore[union-attr]


def test_a_bad_train_row_is_one_line_at_load_and_an_edit_is_read_again(smoke_copy: Path) -> None:
    load_suite(smoke_copy)
    train = smoke_copy / "train.jsonl"
    rows = train.read_text(encoding="utf-8").splitlines()
    rows[2] = (
        rows[2]
        .replace('"question": "', '"question": "  ', 1)
        .replace('"gold_ids": ["', '"gold_ids": ["nope-', 1)
    )
    train.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_suite(smoke_copy)  # new bytes: not in the cache, so read and validated now
    assert err.value.where == str(train) and "row 3" in err.value.what and "gold id 'nope-" in err.value.what
    assert "\n" not in str(err.value)


def test_the_deferred_split_is_keyed_on_the_corpus_it_was_checked_against(smoke_copy: Path) -> None:
    load_suite(smoke_copy)
    corpus = smoke_copy / "corpus.jsonl"
    train_gold = (
        (smoke_copy / "train.jsonl").read_text(encoding="utf-8").split('"gold_ids": ["', 1)[1].split('"')[0]
    )
    kept = [line for line in corpus.read_text(encoding="utf-8").splitlines() if f'"{train_gold}"' not in line]
    corpus.write_text("\n".join(kept) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"gold id '{train_gold}' is not in the corpus"):
        load_suite(smoke_copy)  # the train split is validated again against the new corpus


def test_a_suite_with_a_deferred_split_pickles_and_reads_it_on_the_other_side(smoke_copy: Path) -> None:
    import pickle

    first = load_suite(smoke_copy)
    warm = load_suite(smoke_copy)
    copy = pickle.loads(pickle.dumps(warm))
    assert isinstance(copy.train, LazyCases) and not copy.train.loaded and not warm.train.loaded  # type: ignore[union-attr]
    assert tuple(copy.train) == first.train and copy.hash == first.hash
    again = pickle.loads(pickle.dumps(copy))
    assert again.train.loaded and tuple(again.train) == first.train  # type: ignore[union-attr]


def test_chunk_ranges_and_the_chunks_that_hold_a_span() -> None:
    from harness.values import AnswerSpan, Passage, chunk_range, chunks_holding

    whole = Passage(id="d", text="the kettle boils at 100 degrees", doc_id="d")
    head, tail = (
        Passage(id="d#0-17", text="the kettle boils ", doc_id="d"),
        Passage(id="d#11-31", text="", doc_id="d"),
    )
    foreign = Passage(id="their-id", text="boils at 100", doc_id="d")
    assert [chunk_range(p) for p in (whole, head, tail, foreign)] == [(0, 31), (0, 17), (11, 31), None]
    span = AnswerSpan(doc_id="d", start=20, text="100")  # "100" sits at 20..23
    assert chunks_holding(span, [head, whole, foreign, tail]) == [1, 3]
    assert chunks_holding(AnswerSpan(doc_id="e", start=0, text="the"), [whole, head]) == []


@pytest.mark.parametrize(("system", "reads"), [("rag-minilm", 0), ("finetuned-minilm", 1)])
def test_a_bench_reads_the_train_split_before_running_only_when_a_system_trains(
    smoke_copy: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, system: str, reads: int
) -> None:
    from harness.cli import main

    load_suite(smoke_copy)  # the train hash is cached: the split can wait
    counted = _train_reads(monkeypatch)
    args = ["run", "--suite", str(smoke_copy), "--system", str(ROOT / "systems" / f"{system}.yaml")]
    assert main([*args, "--dry-run", "--no-mlflow", "--reports-dir", str(tmp_path / "reports")]) == 0
    assert counted.count("train.jsonl") == reads
