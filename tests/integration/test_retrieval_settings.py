"""Retrieval settings and metrics that say what they measure: documents vs chunks, token vs character
chunks, fusion depth, indexed titles, long documents and answer spans. BM25 only (no model loads) except
where the tokenizer counts tokens; every example is small enough to check by hand."""

from pathlib import Path

import numpy as np
import pytest

from harness.errors import InputError
from harness.metrics import METRICS, build_metrics
from harness.metrics.retrieval import MRR, HitAtK, RecallAtK, SpanHitAtK
from harness.report import summarise_metric, summary_markdown
from harness.retrieval_settings import describe_retriever
from harness.suite import AnswerSpan, Case, Passage, load_suite
from harness.system import Answer, RetrieverSpec, load_system_spec
from harness.systems.retrieval import (
    Retriever,
    chunk,
    chunk_range,
    chunks_holding,
    count_tokens,
)

ROOT = Path(__file__).resolve().parents[2]


def bm25(**settings: object) -> RetrieverSpec:
    return RetrieverSpec(method="bm25", **settings)  # type: ignore[arg-type]


# ---- 1. distinct documents -------------------------------------------------------------------------------


def three_chunks_of_a_then_b() -> tuple[Passage, ...]:
    """What a generator read: three chunks of document a, then document b whole."""
    return (
        Passage(id="a#0-10", doc_id="a", text="a part one"),
        Passage(id="a#8-20", doc_id="a", text="a part two"),
        Passage(id="a#18-30", doc_id="a", text="a part three"),
        Passage(id="b", doc_id="b", text="b whole"),
    )


def test_documents_count_once_worked_by_hand() -> None:
    # Chunk ranks 1-3 are document a, rank 4 is b: as documents that is a at 1, b at 2.
    contexts = three_chunks_of_a_then_b()
    got = Answer(case_id="q", contexts=contexts)  # no ranking: the documents of the contexts
    wants_b = Case(id="q", question="?", gold_ids=("b",))
    # Counting chunks, b would be missed at k = 2 and MRR would be 1/4; counting documents:
    assert HitAtK(1).score(wants_b, got).value == 0.0
    assert HitAtK(2).score(wants_b, got).value == 1.0
    assert RecallAtK(2).score(wants_b, got).value == 1.0
    assert MRR().score(wants_b, got).value == pytest.approx(1 / 2)
    wants_a_and_c = Case(id="q", question="?", gold_ids=("a", "c"))
    assert HitAtK(1).score(wants_a_and_c, got).value == 1.0
    assert RecallAtK(2).score(wants_a_and_c, got).value == pytest.approx(1 / 2)  # a found, c never
    assert MRR().score(wants_a_and_c, got).value == 1.0
    score = HitAtK(2).score(wants_b, got)
    assert score.details == {"k": 2, "unit": "documents", "ranked_from": "contexts"}


def test_the_retrievers_ranking_is_scored_not_the_generators_chunks() -> None:
    # The generator read two chunks (both of a); the retriever ranked documents a, b, c beyond them.
    got = Answer(case_id="q", contexts=three_chunks_of_a_then_b()[:2], ranking=("a", "b", "c"))
    wants_c = Case(id="q", question="?", gold_ids=("c",))
    assert HitAtK(2, documents=3).score(wants_c, got).value == 0.0
    assert HitAtK(3, documents=3).score(wants_c, got).value == 1.0
    assert MRR(documents=3).score(wants_c, got).value == pytest.approx(1 / 3)
    assert MRR(depth=2, documents=3).score(wants_c, got).value == 0.0  # beyond MRR@2
    # A ranking shorter than the depth scored (and than the corpus) is not counted as misses.
    short = HitAtK(5, documents=10).score(wants_c, got)
    assert short.value is None and "rank_depth" in short.reason
    assert HitAtK(5, documents=3).score(wants_c, got).value == 1.0  # the corpus holds only 3
    # No gold ids, or a closed-book system: unscored with the reason, as before.
    assert MRR().score(Case(id="q", question="?"), got).reason.startswith("no gold passages")
    assert "closed-book" in HitAtK(5).score(wants_c, Answer(case_id="q")).reason
    # A retriever that found nothing is scored 0, not excused.
    assert HitAtK(5, documents=10).score(wants_c, Answer(case_id="q", contexts=(), ranking=())).value == 0.0


def test_metric_descriptions_state_unit_and_depth(smoke_copy: Path) -> None:
    suite = load_suite(smoke_copy)
    metrics = {m.name: m for m in build_metrics(suite, names=["hit_at_k", "recall_at_k", "mrr", "mrr_at_k"])}
    assert "first 5 distinct documents" in metrics["hit_at_k"].description
    assert "first 5 distinct documents" in metrics["recall_at_k"].description
    assert metrics["mrr"].description.startswith("MRR@10")
    assert metrics["mrr_at_k"].description.startswith("MRR@5")
    assert "span_hit_at_k" in METRICS
    assert "chunks" in METRICS["span_hit_at_k"](suite).description


# ---- 2. chunk units ---------------------------------------------------------------------------------------

WORDS = "Tokenisation splits uncommonly long words like photosynthesis into several word pieces. " * 12


def test_token_chunks_are_measured_in_minilm_word_pieces_and_char_chunks_in_characters() -> None:
    doc = Passage(id="d", text=WORDS.strip())
    assert count_tokens("photosynthesis") > 1  # a word piece is not a word: the units differ
    by_tokens = chunk([doc], 40, 8, "tokens")
    by_chars = chunk([doc], 120, 16, "chars")
    assert len(by_tokens) > 1 and len(by_chars) > 1
    assert all(count_tokens(piece.text) <= 40 for piece in by_tokens)
    assert any(len(piece.text) > 120 for piece in by_tokens)  # 40 tokens are more than 120 characters here
    assert all(len(piece.text) <= 120 for piece in by_chars)
    for piece in (*by_tokens, *by_chars):
        start, end = chunk_range(piece) or (-1, -1)
        assert doc.text[start:end] == piece.text and piece.doc_id == "d" and piece.source_id == "d"
    # Short passages stay whole, with their own id: the shipped suites' passages are all under 192 tokens.
    short = Passage(id="s", text="A short passage.")
    assert chunk([short], 192, 32, "tokens")[0].id == "s"
    assert chunk_range(chunk([short], 192, 32, "tokens")[0]) == (0, len(short.text))


def test_shipped_suites_keep_their_passages_whole_under_the_default() -> None:
    spec = RetrieverSpec()
    for name in ("smoke", "support-docs", "knowledge-refresh", "house-style"):
        corpus = load_suite(ROOT / "suites" / name).corpus
        chunks = chunk(corpus, spec.chunk_size, spec.chunk_overlap, spec.chunk_unit)
        assert [c.id for c in chunks] == [p.id for p in corpus], name


def test_a_token_chunk_longer_than_minilm_reads_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nkind: rag\nretriever: {chunk_size: 512}\ngenerator: {model: extractive}\n")
    with pytest.raises(InputError, match="chunk_size 512 tokens is more than MiniLM embeds"):
        load_system_spec(path)
    chars = "{chunk_size: 512, chunk_unit: chars}"
    path.write_text(f"name: s\nkind: rag\nretriever: {chars}\ngenerator: {{model: extractive}}\n")
    assert load_system_spec(path).retriever == RetrieverSpec(chunk_size=512, chunk_unit="chars")
    path.write_text(
        "name: s\nkind: rag\nretriever: {method: bm25, chunk_size: 512}\ngenerator: {model: extractive}\n"
    )
    assert load_system_spec(path).retriever.chunk_size == 512  # BM25 embeds nothing: no window to fit


# ---- 3. fusion depth ------------------------------------------------------------------------------------


def order(fusion_depth: int, top_k: int, lists: list[list[int]]) -> list[int]:
    """The fused chunk order of one question, from lists given by hand (no index needed)."""
    retriever = Retriever.__new__(Retriever)
    retriever.spec = RetrieverSpec(method="hybrid", top_k=top_k, fusion_depth=fusion_depth)
    return retriever._order(lists)[0]


def test_fusion_depth_is_its_own_setting_not_derived_from_top_k() -> None:
    bm25_list, dense_list = [0, 1, 2, 3], [3, 1, 2, 0]
    # Depth 1 fuses only each list's first: 0 and 3 tie at 1/61 (ties by index); 1 and 2 follow.
    assert order(1, 1, [bm25_list, dense_list]) == [0, 3, 1, 2]
    # Depth 4 fuses everything: 1 is second in both (2/62 = 0.03226) and beats 0 and 3 (1/61 + 1/64).
    assert order(4, 1, [bm25_list, dense_list]) == [1, 0, 3, 2]
    # top_k changes how many chunks the generator reads, never the order they are ranked in.
    assert order(4, 4, [bm25_list, dense_list]) == order(4, 1, [bm25_list, dense_list])
    with pytest.raises(ValueError, match="fusion_depth 2 is less than top_k 5"):
        RetrieverSpec(method="hybrid", top_k=5, fusion_depth=2)


def test_top_k_cuts_the_generators_chunks_from_one_ranking() -> None:
    corpus = [Passage(id=f"p{i}", text=f"garden note {i} about compost and {'seeds ' * i}") for i in range(8)]
    question = ["which note is about seeds and compost"]
    few = Retriever(bm25(top_k=2), corpus).retrieve(question)[0]
    many = Retriever(bm25(top_k=6), corpus).retrieve(question)[0]
    assert [p.id for p in few.passages] == [p.id for p in many.passages][:2]
    assert few.ranking == many.ranking and len(few.ranking) == 8  # every document, whatever top_k


# ---- 4. titles --------------------------------------------------------------------------------------------


def test_index_titles_changes_the_bm25_ranking() -> None:
    corpus = [
        Passage(id="quiet", title="Volcano eruption of 1902", text="The mountain was quiet for many years."),
        Passage(id="tours", title="Walking tours", text="Tours of the volcano start at noon."),
        Passage(id="other", title="Library", text="The library opens at nine."),
    ]
    question = ["volcano eruption"]
    titled = Retriever(bm25(top_k=1), corpus).search(question)[0]
    untitled = Retriever(bm25(top_k=1, index_titles=False), corpus).search(question)[0]
    assert titled[0].id == "quiet"  # its title holds both words
    assert untitled[0].id == "tours"  # without titles only its text says "volcano"


# ---- 5. long documents and answer spans -----------------------------------------------------------------

ROOMS = ["amber", "birch", "cobalt", "dune", "ember", "fjord", "granite", "harbour", "indigo", "juniper"]


def long_document(words: int = 3000) -> Passage:
    """A report of several thousand words: numbered sections, each with one distinctive fact."""
    sentences = []
    number = 0
    while sum(len(s.split()) for s in sentences) < words:
        room = ROOMS[number % len(ROOMS)]
        sentences.append(
            f"Section {number} records that the {room} room stores crate {number * 7} and that the "
            f"inventory of shelf {number} was counted twice by the evening staff without any problem."
        )
        number += 1
    return Passage(id="report", title="Warehouse report", text=" ".join(sentences))


def test_a_long_document_is_chunked_and_scored_by_document_and_by_span() -> None:
    doc = long_document()
    assert len(doc.text.split()) >= 3000
    corpus = [
        doc,
        Passage(id="memo", text="A memo about the canteen menu."),
        Passage(id="note", text="Parking."),
    ]
    retriever = Retriever(bm25(top_k=1, chunk_size=120, chunk_overlap=20), corpus)
    pieces = [c for c in retriever.chunks if c.doc_id == "report"]
    assert len(pieces) > 20
    for piece in pieces:  # every chunk keeps its document and its character range in it
        start, end = chunk_range(piece) or (-1, -1)
        assert doc.text[start:end] == piece.text
    # A fact from deep inside the document; the gold id names the document, not a chunk.
    fact = "crate 420"  # section 60, about two thirds of the way in
    start = doc.text.index(fact)
    case = Case(
        id="q",
        question="Which section records crate 420?",
        reference=fact,
        gold_ids=("report",),
        answer_spans=(AnswerSpan(doc_id="report", start=start, text=fact),),
    )
    found = retriever.retrieve([case.question])[0]
    got = Answer(case_id="q", contexts=tuple(found.passages), ranking=found.ranking)
    assert found.ranking[0] == "report"
    assert len(set(found.ranking)) == len(found.ranking) == 3  # dozens of chunks, three documents
    assert HitAtK(1, documents=3).score(case, got).value == 1.0
    assert MRR(documents=3).score(case, got).value == 1.0
    holding = chunks_holding(case.answer_spans[0], retriever.chunks)
    assert holding and all(retriever.chunks[i].doc_id == "report" for i in holding)
    span_hit = SpanHitAtK(1).score(case, got)
    assert span_hit.value == 1.0 and span_hit.details["rank"] == 1
    # The right document but the wrong part of it: a document hit, not a span hit.
    elsewhere = next(
        p for p in pieces if p.id != found.passages[0].id and retriever.chunks.index(p) not in holding
    )
    wrong_part = Answer(case_id="q", contexts=(elsewhere,), ranking=("report", "memo", "note"))
    assert HitAtK(1, documents=3).score(case, wrong_part).value == 1.0
    assert SpanHitAtK(1).score(case, wrong_part).value == 0.0


def test_spans_map_to_the_chunks_that_hold_them() -> None:
    text = "x" * 100
    chunks = [
        Passage(id="d#0-50", doc_id="d", text=text[0:50]),
        Passage(id="d#40-90", doc_id="d", text=text[40:90]),
        Passage(id="e", doc_id="e", text="whole other document"),
        Passage(id="ctx1", text="a context a system returned with an id of its own"),
    ]
    assert chunks_holding(AnswerSpan(doc_id="d", start=10, text="xxx"), chunks) == [0]
    assert chunks_holding(AnswerSpan(doc_id="d", start=44, text="xxx"), chunks) == [0, 1]  # in the overlap
    assert chunks_holding(AnswerSpan(doc_id="d", start=48, text="xxxxx"), chunks) == [1]  # crosses 50
    assert chunks_holding(AnswerSpan(doc_id="d", start=88, text="xxxxx"), chunks) == []  # past both
    assert chunks_holding(AnswerSpan(doc_id="e", start=6, text="other"), chunks) == [2]  # a whole document
    assert chunks_holding(AnswerSpan(doc_id="ctx1", start=0, text="a"), chunks) == [3]
    assert chunk_range(Passage(id="d#x", doc_id="d", text="")) is None  # not the chunker's id
    no_spans = SpanHitAtK(5).score(
        Case(id="q", question="?", gold_ids=("d",)), Answer(case_id="q", contexts=())
    )
    assert no_spans.value is None and "no answer spans" in no_spans.reason


# ---- 6. recorded and shown -------------------------------------------------------------------------------


def test_settings_are_recorded_and_described() -> None:
    spec = load_system_spec(ROOT / "systems" / "rag-bm25.yaml")
    dense = load_system_spec(ROOT / "systems" / "rag-dense.yaml")
    fused = load_system_spec(ROOT / "systems" / "rag-minilm.yaml")
    assert spec.retriever and dense.retriever and fused.retriever
    # The three differ only in the method: the same chunks, the same reader.
    assert spec.retriever.model_copy(update={"method": "hybrid"}) == fused.retriever
    assert dense.retriever.model_copy(update={"method": "hybrid"}) == fused.retriever
    assert spec.generator == dense.generator == fused.generator
    dumped = fused.model_dump(mode="json")["retriever"]
    for key in ("chunk_size", "chunk_unit", "chunk_overlap", "fusion_depth", "index_titles", "rank_depth"):
        assert key in dumped
    said = describe_retriever(dumped)
    assert "RRF (k=60) over the top 20 of each" in said and "192 tokens" in said and "titles indexed" in said
    assert describe_retriever(None) == "closed-book (no retrieval)"


def test_run_json_and_summary_carry_the_metric_descriptions(smoke_copy: Path) -> None:
    from harness.report import Record, Report, outcome

    suite = load_suite(smoke_copy)
    spec = load_system_spec(ROOT / "systems" / "rag-bm25.yaml")
    metric = METRICS["hit_at_k"](suite)
    case = suite.test[0]
    got = Answer(case_id=case.id, contexts=(), ranking=())
    record = Record.build(case, got, {"hit_at_k": metric.score(case, got)})
    assert summarise_metric(metric, [record]).description == metric.description
    report = Report(
        run_id="r",
        created="",
        harness_version="",
        suite={"name": suite.name, "version": suite.version},
        system={"name": spec.name, "kind": spec.kind, "label": spec.label, "spec": spec.model_dump()},
        judges=[],
        **outcome([record], [metric]),
    )
    assert report.model_dump(mode="json")["summary"]["hit_at_k"]["description"] == metric.description
    text = summary_markdown(report)
    assert "- retrieval: BM25; chunks of 192 tokens" in text
    assert f"- hit_at_k: {metric.description}" in text


def letter_counts(texts: list[str]) -> np.ndarray:
    """A toy dense encoder (unit vectors of letter counts): no model to load, same contract as MiniLM's."""
    vectors = np.zeros((len(texts), 26), dtype=np.float32)
    for row, text in enumerate(texts):
        for char in text.lower():
            if "a" <= char <= "z":
                vectors[row, ord(char) - ord("a")] += 1
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def test_hybrid_ranking_reaches_past_a_long_document_without_moving_the_generators_chunks() -> None:
    corpus = [
        long_document(1500),
        *(Passage(id=f"short{i}", text=f"Room {ROOMS[i]} notes.") for i in range(4)),
    ]
    spec = RetrieverSpec(
        method="hybrid", top_k=3, fusion_depth=4, chunk_size=60, chunk_overlap=10, rank_depth=5
    )
    retriever = Retriever(spec, corpus, embed=letter_counts, embed_id="letters")
    assert len(retriever.chunks) > 20  # the report's chunks alone fill both fused lists many times over
    found = retriever.retrieve(["which section records crate 420 in the amber room"])[0]
    assert len(found.ranking) == 5 and found.ranking[0] == "report"  # every document, the report once
    assert len(found.passages) == 3
    # The generator's chunks are the top of the fused ranking, as if nothing had been read deeper.
    fused_only = Retriever(
        spec.model_copy(update={"rank_depth": 1}), corpus, embed=letter_counts, embed_id="x"
    )
    again = fused_only.retrieve(["which section records crate 420 in the amber room"])[0]
    assert [p.id for p in again.passages] == [p.id for p in found.passages]
    assert again.ranking == found.ranking[:1]


def test_harness_score_rescores_the_same_ranking(tmp_path: Path) -> None:
    """Records keep the retriever's ranking, so re-scoring a run gives the same MRR@10, not one over the
    generator's five chunks; a run whose system changed since is refused rather than re-labelled."""
    import json

    from harness.cli import main
    from tests.external_helpers import quick_smoke

    suite = quick_smoke(tmp_path)
    reports = tmp_path / "reports"
    system = ROOT / "systems" / "rag-bm25.yaml"
    argv = ["--reports-dir", str(reports), "--no-mlflow", "-q"]
    assert main(["run", "--suite", str(suite), "--system", str(system), *argv]) == 0
    (first,) = (reports / "runs").iterdir()
    records = [json.loads(line) for line in (first / "records.jsonl").read_text().splitlines()]
    assert all(record["ranking"] for record in records)
    assert main(["score", str(first), "--metric", "mrr", "--metric", "hit_at_k", *argv]) == 0
    second = next(folder for folder in (reports / "runs").iterdir() if folder != first)
    before, after = (json.loads((f / "run.json").read_text())["summary"] for f in (first, second))
    assert after["mrr"]["mean"] == before["mrr"]["mean"] and after["hit_at_k"] == before["hit_at_k"]
