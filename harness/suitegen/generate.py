"""`harness suites generate`: ask a chat model for grounded questions, check them, split without leakage,
write train/test, review.csv and rejected.jsonl; `--apply-review` keeps what a person approved.

Over 300 lines for one reason: generation, the checks on each row, the leakage-free split and the review
round trip share the rows' format and the rejected-row reasons."""

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import InputError
from harness.privacy import scrub
from harness.suitegen.plan import Request, parse_mix, plan, read_corpus
from harness.suitegen.prompts import check_reply, supported
from harness.text import normalise

PURPOSE = "suitegen"
DEFAULT_OUTPUT_TOKENS = 1024  # room for a thinking model's thoughts before its short JSON reply
REVIEW_COLUMNS = (
    "id",
    "split",
    "type",
    "question",
    "answer",
    "gold_ids",
    "gold_passage_text",
    "check",
    "keep",
)
REASONS = (
    "call failed",
    "unparsable reply",
    "not multi-passage",
    "answer not found in its gold passage",
    "not enough passages",
    "duplicate",
    "near-duplicate across splits",
    "rejected in review",
)
Embed = Callable[[list[str]], np.ndarray]


@dataclass
class Options:
    folder: Path
    model: str | None = None
    n_test: int = 0
    n_train: int = 0
    mix: str | None = None
    seed: int = 0
    dry_run: bool = False
    apply_review: bool = False
    force: bool = False
    temperature: float = 0.0
    max_output_tokens: int = DEFAULT_OUTPUT_TOKENS


def _abstention(folder: Path) -> str:
    from harness.metrics.answer import DEFAULT_ABSTENTION
    from harness.yamlfile import read_yaml

    value = read_yaml(folder / "suite.yaml").get("abstention")
    return str(value) if value else DEFAULT_ABSTENTION


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _chat(options: Options, build: bool) -> tuple[Any, dict[str, Any]]:
    """The guarded chat model (None when `build` is off and it cannot be built without a key), and the
    parameters its cache keys are taken with."""
    from harness.cache import Cache
    from harness.llm.backends import CHAT_FAMILIES, chat, check_ref

    assert options.model is not None
    check_ref(options.model, CHAT_FAMILIES, "--model", "chat model")
    if build and options.model.startswith("hf:"):
        _check_local(options.model)
    params = {"temperature": options.temperature, "max_output_tokens": options.max_output_tokens}
    try:
        model = chat(
            options.model, PURPOSE, Cache(), options.temperature, options.max_output_tokens, where="--model"
        )
    except InputError:
        if build:
            raise
        return None, params  # a dry run needs no key: the cache is looked up with the parameters chat() sets
    return model, dict(model.params)


def _check_local(ref: str) -> None:
    """An hf: model must be a local folder or in the Hugging Face cache: nothing is downloaded."""
    name = ref.removeprefix("hf:")
    if Path(name).expanduser().exists():
        return
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(name, "config.json")
    except ValueError:  # HFValidationError: not a repository id either
        found = None
    if not isinstance(found, str):
        raise InputError("--model", f"'{ref}' is not a local folder nor in the Hugging Face cache")


def _cache_key(model: str, params: dict[str, Any], prompt: str) -> str:
    from harness.cache import Cache

    return Cache.key("llm-call", model, params, [("human", prompt)], None)  # as GuardedChat keys a call


def estimate(options: Options, requests: list[Request]) -> str:
    """The dry run's table: calls not already cached, their input tokens (measured on the real prompts,
    four characters a token) and output tokens (the reply cap, an upper bound), priced from the settings."""
    from harness.cache import Cache
    from harness.estimate import Line, render
    from harness.llm.guarded import estimate_tokens

    assert options.model is not None
    _, params = _chat(options, build=False)
    cache = Cache()
    line = Line(options.model, PURPOSE)
    cached = 0
    for request in requests:
        if cache.get(_cache_key(options.model, params, request.prompt)) is not None:
            cached += 1
            continue
        line.calls += 1
        line.input_tokens += estimate_tokens(request.prompt)
        line.output_tokens += options.max_output_tokens
    note = f"{len(requests)} questions to ask, {cached} already cached"
    return render([line]) + f"\n\n{note}; output tokens are the cap of {options.max_output_tokens} a reply"


def _ask(options: Options, requests: list[Request]) -> list[str | BaseException]:
    """One guarded call per request, the model's concurrency at once; a failure is returned, not raised."""
    from harness.llm.settings import settings

    assert options.model is not None
    model, _ = _chat(options, build=True)
    if not requests:
        return []
    concurrency = settings(options.model).concurrency
    print(f"asking {options.model} for {len(requests)} questions, up to {concurrency} at once", flush=True)
    replies = model.batch(
        [request.prompt for request in requests],
        config={"max_concurrency": concurrency},
        return_exceptions=True,
    )
    return [reply if isinstance(reply, BaseException) else str(reply.content) for reply in replies]


def _row(request: Request, checked: Any) -> dict[str, Any]:
    return {
        "id": request.id,
        "split": request.split,
        "type": request.kind,
        "question": checked.question,
        "answer": checked.answer,
        "gold_ids": [] if request.kind == "unanswerable" else [p["id"] for p in request.passages],
        "asked_about": [p["id"] for p in request.passages],
        "answer_spans": checked.spans,
        "check": checked.check,
    }


def _rejected(row: dict[str, Any], reason: str, detail: str, stage: str) -> dict[str, Any]:
    keep = ("id", "split", "type", "question", "answer", "asked_about")
    return {**{k: row[k] for k in keep if k in row}, "reason": reason, "detail": detail, "stage": stage}


def deduplicate(
    rows: list[dict[str, Any]], threshold: float, embed: Embed
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(kept, rejected): a question equal to an earlier one after normalisation is a duplicate; a train
    question with a test question at MiniLM cosine >= threshold is dropped (the test one stays)."""
    kept: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: (r["split"] != "test", r["id"])):
        key = normalise(row["question"])
        if key in seen:
            rejected.append(_rejected(row, "duplicate", f"same question as {seen[key]}", "generation"))
            continue
        seen[key] = row["id"]
        kept.append(row)
    test = [row for row in kept if row["split"] == "test"]
    train = [row for row in kept if row["split"] == "train"]
    if test and train:
        vectors = embed([row["question"] for row in test + train])
        similarity = vectors[len(test) :] @ vectors[: len(test)].T
        for position, row in enumerate(train):
            nearest = int(similarity[position].argmax())
            if similarity[position, nearest] >= threshold:
                detail = (
                    f"cosine {similarity[position, nearest]:.3f} with test question {test[nearest]['id']}"
                )
                rejected.append(_rejected(row, "near-duplicate across splits", detail, "generation"))
                kept.remove(row)
    return kept, rejected


def _case(row: dict[str, Any]) -> dict[str, Any]:
    case = {"id": row["id"], "question": row["question"], "reference": row["answer"]}
    if row.get("answer_spans"):
        case["answer_spans"] = row["answer_spans"]
    return {**case, "gold_ids": row["gold_ids"], "tags": [row["type"], "generated"]}


def _write_review(path: Path, rows: list[dict[str, Any]], corpus: dict[str, str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REVIEW_COLUMNS)
        for row in rows:
            gold = "\n---\n".join(corpus[pid] for pid in row["asked_about"])
            values = [row["id"], row["split"], row["type"], row["question"], row["answer"]]
            writer.writerow([*values, "|".join(row["gold_ids"]), gold, row["check"], "yes"])


def _finish(
    folder: Path,
    rows: list[dict[str, Any]],
    rejected: list[dict[str, Any]],
    print_line: Callable[[str], None],
    embed: Embed | None,
    provenance: str,
) -> None:
    """Write train/test and rejected.jsonl, validate the suite, print the counts and the overlap report,
    and put the same in the README's Questions section after `provenance`."""
    from harness.overlap import suite_overlap
    from harness.suite import load_suite

    order = sorted(rows, key=lambda r: r["id"])
    _jsonl(folder / "test.jsonl", [_case(r) for r in order if r["split"] == "test"])
    _jsonl(folder / "train.jsonl", [_case(r) for r in order if r["split"] == "train"])
    _jsonl(folder / "rejected.jsonl", rejected)
    split_counts = Counter(r["split"] for r in rows)
    kinds = Counter(f"{r['split']} {r['type']}" for r in rows)
    reasons = Counter(r["reason"] for r in rejected)
    why = ", ".join(f"{reason} {reasons[reason]}" for reason in REASONS if reasons[reason])
    summary = [
        f"kept {len(rows)}: {split_counts['test']} test, {split_counts['train']} train ("
        + ", ".join(f"{key} {count}" for key, count in sorted(kinds.items()))
        + ")",
        f"rejected {len(rejected)}"
        + (f": {why}" if why else "")
        + " (each with its reason in rejected.jsonl)",
    ]
    for line in summary:
        print_line(line)
    if not split_counts["test"]:
        raise InputError(str(folder / "test.jsonl"), "no test question survived: see rejected.jsonl")
    suite = load_suite(folder)
    overlap = suite_overlap(suite) if embed is None else suite_overlap(suite, embed)
    lines = overlap.lines()
    summary.append("train/test overlap:" if lines else "train/test overlap: no train split")
    print_line(summary[-1])
    for line in lines:
        print_line(f"  {line}")
    summary[-1] += " " + "; ".join(lines) if lines else ""
    _readme(folder, [provenance, "", *(f"- {line}" for line in summary)])


def _provenance(meta: dict[str, Any], reviewed: bool) -> str:
    """The sentence opening the README's Questions section: who wrote the questions, how they were split."""
    import datetime as dt

    mix = ", ".join(f"{kind} {share:.0%}" for kind, share in (meta.get("mix") or {}).items())
    text = (
        f"Generated by `harness suites generate` with `{meta.get('model')}` (seed {meta.get('seed')}; asked "
        f"for {meta.get('test')} test and {meta.get('train')} train questions; {mix}), split by document "
        f"({len(meta.get('test_documents') or [])} test documents, {len(meta.get('train_documents') or [])} "
        f"train documents); train questions within MiniLM cosine {meta.get('near_duplicate_cosine')} of a "
        "test question removed; see docs/generate.md."
    )
    today = dt.date.today().isoformat()
    return text + (f" review.csv applied on {today}." if reviewed else f" On {today}; not reviewed yet.")


def _readme(folder: Path, lines: list[str]) -> None:
    """Replace the README's '## Questions' section (written by `suites new`) with `lines`."""
    path = folder / "README.md"
    text = path.read_text(encoding="utf-8") if path.is_file() else f"# {folder.name}\n"
    head, found, rest = text.partition("## Questions\n")
    after = rest[rest.find("\n## ") + 1 :] if found and "\n## " in rest else ""
    section = "## Questions\n\n" + "\n".join(lines) + "\n\n"
    path.write_text((head if found else text.rstrip() + "\n\n") + section + after, encoding="utf-8")


def _minilm(texts: list[str]) -> np.ndarray:
    from harness.models.minilm import embed

    return embed(texts)


def generate(options: Options, print_line: Callable[[str], None], embed: Embed | None = None) -> int:
    """Plan, estimate or ask, check, split, write. Returns the exit code."""
    from harness.overlap import NEAR_DUPLICATE_COSINE

    folder = options.folder
    if not (folder / "suite.yaml").is_file():
        raise InputError(str(folder), "no suite.yaml: build the suite with `harness suites new` first")
    if options.apply_review:
        return apply_review(folder, print_line, embed)
    if options.model is None:
        raise InputError(
            "--model", "name the chat model that writes the questions (e.g. gemini:gemini-2.5-flash)"
        )
    if options.max_output_tokens < 16:
        raise InputError("--max-output-tokens", f"must be at least 16, got {options.max_output_tokens}")
    rows = read_corpus(folder)
    mix = parse_mix(options.mix)
    requests, impossible, docs = plan(rows, options.n_test, options.n_train, mix, options.seed)
    print_line(
        f"split by document: {len(docs['test'])} test documents, {len(docs['train'])} train documents "
        f"(seed {options.seed}); {len(requests)} questions to ask"
    )
    if options.dry_run:
        print(estimate(options, requests))
        print("\ndry run: estimates only, nothing was sent")
        return 0
    review = folder / "review.csv"
    meta_path = folder / "generation.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    if review.is_file() and _sha(review) != meta.get("review_sha256") and not options.force:
        raise InputError(
            str(review),
            "has edits: apply them with --apply-review, or --force to generate anew and overwrite it",
        )
    abstention = _abstention(folder)
    replies = _ask(options, requests)
    kept: list[dict[str, Any]] = []
    rejected = [{**row, "asked_about": row.pop("passages"), "stage": "generation"} for row in impossible]
    for request, reply in zip(requests, replies, strict=True):
        if isinstance(reply, BaseException):
            # CallFailed says what failed after how many attempts (its text is already scrubbed of keys)
            what = scrub(f"{type(reply).__name__}: {reply}")[:300]
            row = {
                "id": request.id,
                "split": request.split,
                "type": request.kind,
                "asked_about": [p["id"] for p in request.passages],
            }
            rejected.append(_rejected(row, "call failed", str(what), "generation"))
            continue
        checked = check_reply(request.kind, reply, request.passages, abstention)
        row = _row(request, checked)
        if checked.reason is not None:
            rejected.append(
                {**_rejected(row, checked.reason, checked.detail, "generation"), "reply": reply[:500]}
            )
        else:
            kept.append(row)
    kept, dropped = deduplicate(kept, NEAR_DUPLICATE_COSINE, embed or _minilm)
    rejected += dropped
    _jsonl(folder / "generated.jsonl", kept)
    corpus = {row["id"]: str(row["text"]) for row in rows}
    _write_review(review, sorted(kept, key=lambda r: r["id"]), corpus)
    meta = {
        "model": options.model,
        "seed": options.seed,
        "test": options.n_test,
        "train": options.n_train,
        "mix": mix,
        "test_documents": docs["test"],
        "train_documents": docs["train"],
        "near_duplicate_cosine": NEAR_DUPLICATE_COSINE,
        "review_sha256": _sha(review),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    _finish(folder, kept, rejected, print_line, embed, _provenance(meta, reviewed=False))
    print_line(f"review {review} (keep: yes/no; question and answer may be edited), then --apply-review")
    return 0


def _keep(where: str, number: int, value: str) -> bool:
    word = value.strip().lower()
    if word in ("yes", "y", "true", "1"):
        return True
    if word in ("no", "n", "false", "0"):
        return False
    raise InputError(where, f"row {number}: keep must be yes or no, got '{value}'")


def apply_review(folder: Path, print_line: Callable[[str], None], embed: Embed | None = None) -> int:
    """Keep the rows of review.csv marked keep=yes (with a person's edits to question and answer, the
    answer checked again against its gold passage); the rest are rejected 'in review'."""
    from harness.overlap import NEAR_DUPLICATE_COSINE

    review = folder / "review.csv"
    generated = {row["id"]: row for row in _read_jsonl(folder / "generated.jsonl")}
    if not review.is_file() or not generated:
        raise InputError(str(review), "nothing to apply: run `harness suites generate` first")
    corpus = {row["id"]: str(row["text"]) for row in read_corpus(folder)}
    try:  # utf-8-sig: a spreadsheet saving "CSV UTF-8" starts the file with a byte-order mark
        with review.open(encoding="utf-8-sig", newline="") as handle:
            table = list(csv.DictReader(handle, restval=""))  # a short row's missing cells are empty
    except UnicodeDecodeError as err:
        raise InputError(str(review), f"not valid UTF-8 (byte {err.start}): save it as CSV UTF-8") from None
    missing = [c for c in ("id", "question", "answer", "keep") if table and c not in table[0]]
    if missing or not table:
        raise InputError(str(review), f"missing column '{missing[0]}'" if missing else "no rows")
    kept, rejected = [], [r for r in _read_jsonl(folder / "rejected.jsonl") if r.get("stage") == "generation"]
    seen: dict[str, int] = {}
    for number, line in enumerate(table, start=2):  # row 1 is the header
        row = generated.get(str(line["id"]).strip())
        if row is None:
            raise InputError(
                str(review), f"row {number}: id '{line['id']}' was not generated (generated.jsonl)"
            )
        if row["id"] in seen:
            raise InputError(
                str(review), f"row {number}: id '{row['id']}' again (first at row {seen[row['id']]})"
            )
        seen[row["id"]] = number
        row = {
            **row,
            "question": " ".join(line["question"].split()),
            "answer": " ".join(line["answer"].split()),
        }
        if not _keep(str(review), number, str(line["keep"])):
            rejected.append(_rejected(row, "rejected in review", f"review.csv row {number}", "review"))
            continue
        if row["type"] == "unanswerable":  # its answer is the suite's abstention, whatever the cell says
            row["answer"] = generated[row["id"]]["answer"]
        elif row["answer"] != generated[row["id"]]["answer"]:
            golds = [corpus[pid] for pid in row["gold_ids"] if pid in corpus]
            if not any(supported(row["answer"], text) for text in golds):
                detail = f"review.csv row {number}: the edited answer is not in {'|'.join(row['gold_ids'])}"
                rejected.append(_rejected(row, "answer not found in its gold passage", detail, "review"))
                continue
            row["check"] = "edited in review; answer found in its gold passage (normalised containment)"
            row["answer_spans"] = [
                {"doc_id": pid, "start": corpus[pid].find(row["answer"]), "text": row["answer"]}
                for pid in row["gold_ids"]
                if corpus[pid].find(row["answer"]) >= 0
            ][:1]
        if not row["question"]:
            raise InputError(str(review), f"row {number}: empty question")
        kept.append(row)
    for key in sorted(set(generated) - set(seen)):  # a row deleted from the sheet is a rejection too
        rejected.append(
            _rejected(generated[key], "rejected in review", "row removed from review.csv", "review")
        )
    kept, dropped = deduplicate(kept, NEAR_DUPLICATE_COSINE, embed or _minilm)
    rejected += [{**row, "stage": "review"} for row in dropped]
    meta_path = folder / "generation.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    _finish(folder, kept, rejected, print_line, embed, _provenance(meta, reviewed=True))
    return 0
