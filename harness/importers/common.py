"""What every importer shares: the imported data, the seeded train/test split, writing the suite folder."""

import datetime as dt
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import InputError

SPLITS = ("document", "question")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class ImportedCase:
    """One question as an importer read it. `split_docs`: the corpus ids that tie it to documents for a
    split by document (its gold ids, or for an unanswerable question the passage it was asked about)."""

    id: str
    question: str
    references: list[str] = field(default_factory=list)
    answer_spans: list[dict[str, Any]] = field(default_factory=list)
    gold_ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    split_docs: list[str] = field(default_factory=list)
    unanswerable: bool = False


@dataclass
class Imported:
    """A data set read by an importer, before it is split and written."""

    format: str
    source: str
    corpus: list[dict[str, str]]
    cases: list[ImportedCase]
    abstention: str | None = None
    long_answers: bool = False  # references of several words (generative QA): add rouge_l
    notes: list[str] = field(default_factory=list)


@dataclass
class Options:
    """The command line's choices, shared by every format."""

    name: str
    out: Path = Path("suites")
    test_fraction: float = 0.3
    seed: int = 0
    split_by: str = "document"
    abstention: str | None = None
    force: bool = False
    split: str | None = None  # hf: which split(s) of a dataset to read
    subset: str | None = None
    revision: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # our name -> theirs


def slug(text: str, limit: int = 40) -> str:
    """A readable id fragment: letters, digits and '-' only."""
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")
    return cleaned[:limit].rstrip("-") or "doc"


def unique_id(base: str, taken: set[str]) -> str:
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    taken.add(candidate)
    return candidate


def locate(context: str, text: str, start: int | None) -> int | None:
    """Where an answer is in its context: at `start` if the text is there, else the occurrence nearest to
    it (annotators' offsets are sometimes a few characters off), else None."""
    if start is not None and context[start : start + len(text)] == text:
        return start
    found = [match.start() for match in re.finditer(re.escape(text), context)]
    if not found:
        return None
    return min(found, key=lambda at: abs(at - (start or 0)))


def check_options(options: Options) -> None:
    if not _NAME.match(options.name):
        raise InputError("--name", f"'{options.name}' is not a folder name (letters, digits, '.', '_', '-')")
    if not 0 < options.test_fraction <= 1:
        raise InputError("--test-fraction", f"must be in (0, 1], got {options.test_fraction:g}")
    if options.split_by not in SPLITS:
        raise InputError("--split-by", f"'{options.split_by}' is not one of {', '.join(SPLITS)}")
    if options.abstention is not None and not options.abstention.strip():
        raise InputError("--abstention", "must not be empty")
    folder = options.out / options.name
    if folder.exists() and any(folder.iterdir()) and not options.force:
        raise InputError(str(folder), "already exists: choose another --name, or --force to overwrite it")


def split(cases: list[ImportedCase], options: Options) -> tuple[set[str], str]:
    """The ids of the test cases, and a sentence saying how they were chosen.

    By document: documents joined by a question (its `split_docs`) form one group, and whole groups go to
    test, in a seeded order, until the test fraction of questions is reached; so every test question's
    documents are test documents and no test document is gold (or asked about) in train. By question:
    a seeded shuffle of the questions.
    """
    rng = random.Random(options.seed)
    target = max(1, round(options.test_fraction * len(cases)))
    if options.split_by == "question":
        order = [case.id for case in cases]
        rng.shuffle(order)
        how = f"by question: a seeded shuffle (seed {options.seed}), {target} of {len(cases)} to test"
        return set(order[:target]), how
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for case in cases:
        keys = case.split_docs or [f"\0{case.id}"]  # a question tied to no document is its own group
        for key in keys[1:]:
            parent[find(key)] = find(keys[0])
    groups: dict[str, list[str]] = {}
    for case in cases:
        groups.setdefault(find((case.split_docs or [f"\0{case.id}"])[0]), []).append(case.id)
    order = sorted(groups)  # sorted first: the seeded shuffle then gives the same split on every machine
    rng.shuffle(order)
    test: set[str] = set()
    for key in order:
        if len(test) >= target:
            break
        test.update(groups[key])
    how = (
        f"by document: {len(groups)} groups of documents joined by their questions, shuffled with seed "
        f"{options.seed}, whole groups to test until {options.test_fraction:g} of the questions "
        f"({len(test)} of {len(cases)})"
    )
    return test, how


def metrics_for(data: Imported) -> dict[str, dict[str, Any]]:
    """The metrics that fit what the data has: answers, gold documents, unanswerable questions."""
    names: list[str] = []
    if any(case.references and not case.unanswerable for case in data.cases):
        names += ["exact_match", "token_f1", "answer_recall"]
        names += ["rouge_l"] if data.long_answers else []
        names += ["answer_tokens"]
    if any(case.gold_ids for case in data.cases):
        names += ["hit_at_k", "recall_at_k", "mrr"]
    if data.abstention is not None:
        names += ["abstain_correct", "abstain_false"]
    return {name: {} for name in [*names, "latency_s"]}


def _case_row(case: ImportedCase) -> dict[str, Any]:
    row: dict[str, Any] = {"id": case.id, "question": case.question}
    if len(case.references) > 1:
        row["references"] = case.references
    row["reference"] = case.references[0] if case.references else ""
    if case.answer_spans:
        row["answer_spans"] = case.answer_spans
    row["gold_ids"] = case.gold_ids
    row["tags"] = case.tags
    return row


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def write_suite(
    data: Imported,
    options: Options,
    command: str,
    print_line: Callable[[str], None],
    embed: Callable[[list[str]], Any] | None = None,
) -> Path:
    """Split, write the suite folder (suite.yaml last: it marks the folder complete), validate it with
    load_suite, and print the overlap report."""
    from harness.files import write_atomic
    from harness.suite import load_suite

    if not data.cases:
        raise InputError(data.source, "no questions to import")
    if not data.corpus:  # refused before anything is written: a half-written folder would block a retry
        raise InputError(data.source, "no passages to import (no context or gold passage in any row)")
    test_ids, how = split(data.cases, options)
    folder = options.out / options.name
    folder.mkdir(parents=True, exist_ok=True)
    train = [_case_row(case) for case in data.cases if case.id not in test_ids]
    test = [_case_row(case) for case in data.cases if case.id in test_ids]
    _jsonl(folder / "corpus.jsonl", data.corpus)
    _jsonl(folder / "test.jsonl", test)
    if train:
        _jsonl(folder / "train.jsonl", train)
    else:
        (folder / "train.jsonl").unlink(missing_ok=True)  # a stale one from an overwritten import
    metrics = metrics_for(data)
    spec: dict[str, Any] = {
        "name": options.name,
        "version": 1,
        "description": f"Imported from {data.format} data ({Path(data.source).name or data.source}).",
        "corpus": "corpus.jsonl",
        **({"train": "train.jsonl"} if train else {}),
        "test": "test.jsonl",
        "k": 5,
        **({"abstention": data.abstention} if data.abstention is not None else {}),
        "metrics": metrics,
    }
    unanswerable = sum(case.unanswerable for case in data.cases)
    readme = [
        f"# {options.name}",
        "",
        f"Imported by `{command}` on {dt.date.today().isoformat()}.",
        "",
        "## Provenance",
        "",
        f"- Source: {data.format}, `{data.source}`",
        f"- {len(data.corpus)} corpus items, {len(data.cases)} questions ({unanswerable} unanswerable, "
        f"answered with the abstention {data.abstention!r})"
        if data.abstention is not None
        else f"- {len(data.corpus)} corpus items, {len(data.cases)} questions",
        f"- Split {how}: {len(train)} train, {len(test)} test.",
        *(f"- {note}" for note in data.notes),
        "",
        "## Licence",
        "",
        "TODO: the licence of the source data, and its citation, before this suite is shared.",
        "",
    ]
    (folder / "README.md").write_text("\n".join(readme), encoding="utf-8")
    write_atomic(folder / "suite.yaml", _yaml(spec))
    suite = load_suite(folder)
    print_line(f"wrote {folder}: {len(data.corpus)} corpus items, {len(train)} train, {len(test)} test")
    print_line(f"split {how}")
    for note in data.notes:
        print_line(note)
    from harness.overlap import suite_overlap

    # The same counts as the verdict's overlap warning; `embed` replaces MiniLM in tests.
    lines = (suite_overlap(suite) if embed is None else suite_overlap(suite, embed)).lines()
    print_line("train/test overlap:" if lines else "train/test overlap: no train split")
    for line in lines:
        print_line(f"  {line}")
    return folder


def _yaml(spec: dict[str, Any]) -> str:
    """suite.yaml in the shipped suites' layout: metrics one per line."""
    import yaml

    metrics = spec.pop("metrics")
    head = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=1000)
    return head + "metrics:\n" + "".join(f"  {name}: {{}}\n" for name in metrics)
