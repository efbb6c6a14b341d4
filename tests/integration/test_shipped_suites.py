"""The shipped suites under suites/: each hand-written suite.yaml loads and declares what its suite needs,
the data is internally consistent, and the data files are exactly what suites/generate.py writes (so
nobody edits the data by hand, while the gate policies in suite.yaml stay a reviewer's to edit)."""

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from harness.overlap import suite_overlap
from harness.suite import MetricPolicy, Suite, load_suite
from harness.text import sentences

ROOT = Path(__file__).resolve().parents[2]
SUITES_DIR = ROOT / "suites"
GENERATOR = SUITES_DIR / "generate.py"
NAMES = ["smoke", "knowledge-refresh", "house-style", "support-docs"]
# what the generator writes; suite.yaml is written by hand (and only copied when --out is elsewhere)
DATA_FILES = ["corpus.jsonl", "train.jsonl", "test.jsonl"]
EXTRA_FILES = {"knowledge-refresh": ["corpus_old.jsonl"]}
ALL_METRICS = {
    "rouge_1",
    "rouge_2",
    "rouge_l",
    "exact_match",
    "token_f1",
    "hit_at_k",
    "recall_at_k",
    "mrr",
    "minilm_faithfulness",
    "minilm_answer_relevancy",
    "latency_s",
    "answer_recall",
    "answer_tokens",
}
# metrics only the suites about them declare
OWN_METRICS = {
    "smoke": set(),
    "knowledge-refresh": set(),
    "house-style": {"format_match"},
    "support-docs": {"abstain_correct", "abstain_false"},
}
# (passages, train, test) bounds per suite at the shipped size
SIZES = {
    "smoke": ((25, 40), (30, 50), (15, 25)),
    "knowledge-refresh": ((100, 400), (300, 600), (100, 300)),
    "house-style": ((100, 400), (300, 600), (100, 300)),
    "support-docs": ((100, 400), (300, 600), (100, 300)),
}
# tags each README promises and the data must carry
REQUIRED_TAGS = {
    "smoke": {"seen", "unseen"},
    "knowledge-refresh": {"changed", "unchanged", "seen", "unseen"},
    "house-style": {"canonical-spelling", "variant-spelling", "seen", "unseen"},
    "support-docs": {"single-hop", "multi-hop", "unanswerable", "seen", "unseen"},
}
VERSIONS = {"smoke": 2, "knowledge-refresh": 3, "house-style": 2, "support-docs": 3}
UNANSWERABLE = "The documents do not say."
HOUSE_FORMAT = re.compile(
    r"^Answer: (?P<core>.+?)\. Source: (?P<source>.+) "
    r"(?P<doc>Spec Sheet|Manual|Care Guide|Warranty Card)$"
)


def norm_loose(text: str) -> str:
    """Lower case, punctuation dropped, whitespace runs collapsed."""
    return " ".join(re.sub(r"[^\w\s]", "", text.lower()).split())


def norm_spaced(text: str) -> str:
    """Same, but punctuation becomes a space (so 'sign-on' and 'sign on' meet)."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


@pytest.fixture(scope="module")
def suites() -> dict[str, Suite]:
    return {name: load_suite(SUITES_DIR / name) for name in NAMES}


def run_generator(out: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(out), *args],
        check=True,
        capture_output=True,
        timeout=120,
    )


def core(reference: str) -> str:
    match = HOUSE_FORMAT.match(reference)
    assert match, reference
    return match.group("core")


# ---------------------------------------------------------------- loading and shape


@pytest.mark.parametrize("name", NAMES)
def test_suite_loads_and_has_expected_size(suites: dict[str, Suite], name: str) -> None:
    suite = suites[name]
    assert suite.name == name
    assert suite.version == VERSIONS[name]
    assert suite.k == 5
    judged = {
        "faithfulness",
        "answer_relevancy",
        "context_precision",
        "context_recall",
        "factual_correctness",
    }
    if name in ("knowledge-refresh", "support-docs"):
        assert set(suite.metrics) == ALL_METRICS | OWN_METRICS[name] | judged
        assert suite.judge is not None and suite.judge.model == "gemini:gemini-2.5-flash"
        assert suite.judge.temperature == 0
    else:
        assert set(suite.metrics) == ALL_METRICS | OWN_METRICS[name] and suite.judge is None
    assert suite.metrics["answer_tokens"] == MetricPolicy()  # no direction: never gated
    assert (suite.format is not None) == (name == "house-style")
    assert suite.abstention == (UNANSWERABLE if name == "support-docs" else None)
    (plo, phi), (trlo, trhi), (telo, tehi) = SIZES[name]
    assert plo <= len(suite.corpus) <= phi
    assert trlo <= len(suite.train) <= trhi
    assert telo <= len(suite.test) <= tehi


@pytest.mark.parametrize("name", NAMES)
def test_ids_unique_and_gold_ids_resolve(suites: dict[str, Suite], name: str) -> None:
    suite = suites[name]
    corpus_ids = [p.id for p in suite.corpus]
    assert len(corpus_ids) == len(set(corpus_ids))
    known = set(corpus_ids)
    for split in (suite.train, suite.test):
        ids = [c.id for c in split]
        assert len(ids) == len(set(ids))
        for c in split:
            assert set(c.gold_ids) <= known, c.id
            assert len(set(c.gold_ids)) == len(c.gold_ids), c.id
            assert c.tags, c.id
            assert c.question.strip() and c.reference.strip(), c.id
            if not c.gold_ids:
                assert c.reference == UNANSWERABLE and "unanswerable" in c.tags, c.id


@pytest.mark.parametrize("name", NAMES)
def test_passages_are_one_to_four_sentences_of_30_to_90_words(suites: dict[str, Suite], name: str) -> None:
    for p in suites[name].corpus:
        assert 1 <= len(sentences(p.text)) <= 4, p.id
        assert 30 <= len(p.text.split()) <= 90, p.id
        assert p.title, p.id


@pytest.mark.parametrize("name", NAMES)
def test_no_test_question_in_train(suites: dict[str, Suite], name: str) -> None:
    suite = suites[name]
    for norm in (norm_loose, norm_spaced):
        train = {norm(c.question) for c in suite.train}
        leaked = [c.question for c in suite.test if norm(c.question) in train]
        assert not leaked, leaked[:5]


@pytest.mark.parametrize("name", NAMES)
def test_readme_names_every_tag_and_required_tags_exist(suites: dict[str, Suite], name: str) -> None:
    readme = (SUITES_DIR / name / "README.md").read_text(encoding="utf-8")
    assert "python suites/generate.py" in readme
    assert re.search(r"^## Changelog", readme, re.M) and re.search(r"^- \*\*1\*\*", readme, re.M)
    tag_section = readme.split("## Tags", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([^`]+)`", tag_section))
    suite = suites[name]
    used = {t for c in suite.train + suite.test for t in c.tags}
    assert used <= documented, sorted(used - documented)
    test_tags = {t for c in suite.test for t in c.tags}
    assert REQUIRED_TAGS[name] <= test_tags
    assert REQUIRED_TAGS[name] <= documented


# ---------------------------------------------------------------- what the systems rely on


@pytest.mark.parametrize("name", ["smoke", "knowledge-refresh", "support-docs"])
def test_reference_sits_in_one_sentence_of_a_gold_passage(suites: dict[str, Suite], name: str) -> None:
    """rag answers with one sentence and hybrid extracts a span: the reference must be there.

    Measured when written: 100% of answerable test rows in all three suites; 100% of train rows
    in smoke and support-docs; 75.1% of knowledge-refresh train rows (272 of 362; the rest are the
    stale values of changed facts, whose gold passage is the current one).
    """
    suite = suites[name]
    text = {p.id: p.text for p in suite.corpus}

    def found(c) -> bool:
        return any(c.reference in s for g in c.gold_ids for s in sentences(text[g]))

    answerable_test = [c for c in suite.test if c.gold_ids]
    assert all(found(c) for c in answerable_test)
    train = [c for c in suite.train if c.gold_ids]
    share = sum(found(c) for c in train) / len(train)
    assert share >= (0.75 if name == "knowledge-refresh" else 1.0), share
    if name == "knowledge-refresh":
        assert all(found(c) for c in train if "unchanged" in c.tags)


def no_near_duplicates(texts: list[str]) -> np.ndarray:
    """A stand-in encoder for suite_overlap where only the embedding-free counts are checked."""
    return np.zeros((len(texts), 4))


@pytest.mark.parametrize("name", NAMES)
def test_most_test_answers_are_unseen_and_tagged_by_the_overlap_rule(
    suites: dict[str, Suite], name: str
) -> None:
    """At least half of the test answers never occur in train, and `seen` is exactly the set of test
    cases harness/overlap.py counts as sharing a reference with train."""
    suite = suites[name]
    overlap = suite_overlap(suite, no_near_duplicates)
    seen = {c.id for c in suite.test if "seen" in c.tags}
    unseen = {c.id for c in suite.test if "unseen" in c.tags}
    assert not seen & unseen and len(seen | unseen) == len(suite.test)
    assert seen == set(overlap.shared_references)
    assert len(unseen) >= len(suite.test) / 2, (len(unseen), len(suite.test))
    # no train row carries an unseen test answer, however it is spelled
    train_refs = {norm_loose(c.reference) for c in suite.train}
    assert not [c.id for c in suite.test if c.id in unseen and norm_loose(c.reference) in train_refs]


@pytest.mark.parametrize("name", NAMES)
def test_readme_states_the_overlap_computed_by_harness_overlap(suites: dict[str, Suite], name: str) -> None:
    """The README's overlap block is what suites/overlap_report.py writes from suite_overlap."""
    readme = (SUITES_DIR / name / "README.md").read_text(encoding="utf-8")
    lines = suite_overlap(suites[name], no_near_duplicates).lines()
    # the reference and gold-passage sentences do not depend on the encoder
    for line in (lines[0], lines[2]):
        assert f"- {line}." in readme, line
    assert f"Train/test overlap of v{suites[name].version} " in readme


def test_smoke_readme_overlap_block_is_current(suites: dict[str, Suite]) -> None:
    """With the real MiniLM encoder the whole block matches (smoke is small enough to embed here)."""
    sys.path.insert(0, str(SUITES_DIR))
    try:
        from overlap_report import overlap_block
    finally:
        sys.path.remove(str(SUITES_DIR))
    readme = (SUITES_DIR / "smoke" / "README.md").read_text(encoding="utf-8")
    assert overlap_block(suites["smoke"]) in readme


def test_knowledge_refresh_changed_facts(suites: dict[str, Suite]) -> None:
    suite = suites["knowledge-refresh"]
    # a fact is identified by its gold passage plus its tags (attribute tag is unique per passage)
    train_refs: dict[tuple, set[str]] = {}
    for c in suite.train:
        train_refs.setdefault((c.gold_ids, frozenset(c.tags)), set()).add(c.reference)
    counts = Counter()
    for c in suite.test:
        status = "changed" if "changed" in c.tags else "unchanged"
        assert ("changed" in c.tags) != ("unchanged" in c.tags), c.id
        facts = frozenset(c.tags) - {"seen", "unseen"}
        refs = train_refs.get((c.gold_ids, facts))
        counts[status] += 1
        if refs is None:  # a held-out fact: never taught, so its answer is unseen
            assert "unseen" in c.tags or status == "changed", c.id
            continue
        assert len(refs) == 1, c.id  # a taught fact is taught with its old value
        (old,) = refs
        if status == "changed":
            assert old != c.reference, c.id
        else:
            assert old == c.reference and "seen" in c.tags, c.id
    share = counts["changed"] / len(suite.test)
    assert 0.2 <= share <= 0.3, share


def test_knowledge_refresh_old_snapshot_matches_current_ids() -> None:
    import json

    folder = SUITES_DIR / "knowledge-refresh"
    current = [
        json.loads(line) for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    old = [
        json.loads(line) for line in (folder / "corpus_old.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [p["id"] for p in old] == [p["id"] for p in current]
    differ = sum(a["text"] != b["text"] for a, b in zip(old, current, strict=True))
    assert 0 < differ < len(current)


def test_house_style_references_follow_the_house_format(suites: dict[str, Suite]) -> None:
    suite = suites["house-style"]
    text = {p.id: p.text for p in suite.corpus}
    source_of: dict[str, str] = {}
    for c in suite.train + suite.test:
        match = HOUSE_FORMAT.match(c.reference)
        assert match, c.reference
        assert suite.format is not None and re.fullmatch(suite.format, c.reference), c.reference
        assert len(c.gold_ids) == 1, c.id
        (gold,) = c.gold_ids
        # the core answer (value with unit) is a span of one sentence of the gold passage
        assert any(match.group("core") in s for s in sentences(text[gold])), c.id
        assert re.search(r"\d", match.group("core")) and " " in match.group("core"), c.reference
        # one canonical source name per passage, whatever spelling the passage uses
        assert source_of.setdefault(gold, match.group("source")) == match.group("source"), c.id
    variants = [c for c in suite.test if "variant-spelling" in c.tags]
    for c in variants:
        source = HOUSE_FORMAT.match(c.reference).group("source")
        assert source not in text[c.gold_ids[0]], c.id


def test_support_docs_hop_structure(suites: dict[str, Suite]) -> None:
    suite = suites["support-docs"]
    text = {p.id: p.text for p in suite.corpus}
    for c in suite.train + suite.test:
        kinds = {"single-hop", "multi-hop", "unanswerable"} & set(c.tags)
        assert len(kinds) == 1, c.id
        (kind,) = kinds
        if kind == "single-hop":
            assert len(c.gold_ids) == 1, c.id
        elif kind == "multi-hop":
            assert len(c.gold_ids) == 2, c.id
            # the answer is in the second passage; the first is the bridge
            assert c.reference in text[c.gold_ids[1]], c.id
            assert c.reference not in text[c.gold_ids[0]], c.id
        else:
            assert c.gold_ids == () and c.reference == UNANSWERABLE, c.id
    counts = Counter(t for c in suite.test for t in c.tags)
    assert counts["multi-hop"] >= 20 and counts["unanswerable"] >= 20 and counts["single-hop"] >= 60


# ---------------------------------------------------------------- the generator


def test_generator_is_deterministic_and_matches_shipped_data(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    run_generator(first)
    run_generator(second, "--seed", "13", "--scale", "1")
    for name in NAMES:
        for filename in DATA_FILES + EXTRA_FILES.get(name, []):
            a = (first / name / filename).read_bytes()
            assert a == (second / name / filename).read_bytes(), f"{name}/{filename} not deterministic"
            assert a.endswith(b"\n")
            shipped = (SUITES_DIR / name / filename).read_bytes()
            assert a == shipped, (
                f"suites/{name}/{filename} differs from a fresh generation; rerun the generator"
            )
        # outside suites/ the hand-written suite.yaml is copied beside the data, so the folder loads
        written = {p.name for p in (first / name).iterdir()}
        assert written == set(DATA_FILES + EXTRA_FILES.get(name, [])) | {"suite.yaml"}
        assert (first / name / "suite.yaml").read_bytes() == (SUITES_DIR / name / "suite.yaml").read_bytes()


def test_no_suite_policy_is_authored_in_python() -> None:
    """Gates, judge and format live only in the hand-written suite.yaml files, not in the generator."""
    sources = [GENERATOR, *sorted((SUITES_DIR / "generator").glob("*.py"))]
    assert len(sources) > 2
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for word in ("max_drop", "gemini:", "metrics_block", "write_suite_yaml"):
            assert word not in text, f"{path.name} holds {word!r}"


def test_other_seed_changes_the_data(tmp_path: Path) -> None:
    run_generator(tmp_path, "--seed", "14", "--suite", "knowledge-refresh")
    fresh = (tmp_path / "knowledge-refresh" / "test.jsonl").read_bytes()
    assert fresh != (SUITES_DIR / "knowledge-refresh" / "test.jsonl").read_bytes()


def test_scaled_output_loads_and_keeps_the_shipped_content(tmp_path: Path) -> None:
    run_generator(tmp_path, "--scale", "3")
    for name in NAMES:
        scaled = load_suite(tmp_path / name)
        shipped = load_suite(SUITES_DIR / name)
        assert len(scaled.test) >= 3 * len(shipped.test) - 3
        assert len(scaled.corpus) == 3 * len(shipped.corpus)
        # the first unit of a scaled suite is the shipped suite
        assert {(p.id, p.text) for p in shipped.corpus} <= {(p.id, p.text) for p in scaled.corpus}
        test_q = {c.question for c in scaled.test}
        assert {c.question for c in shipped.test} <= test_q
        train_q = {norm_loose(c.question) for c in scaled.train}
        assert not [c for c in scaled.test if norm_loose(c.question) in train_q]
        # the policy is the shipped suite's own hand-written suite.yaml, copied
        for attr in ("name", "version", "metrics", "judge", "format", "abstention"):
            assert getattr(scaled, attr) == getattr(shipped, attr), (name, attr)
        if name == "knowledge-refresh":
            tags = Counter(t for c in scaled.test for t in c.tags)
            assert 0.2 <= tags["changed"] / len(scaled.test) <= 0.3
