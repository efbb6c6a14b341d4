"""`harness suites new` and `harness suites generate`: their arguments and handlers (the work is in
harness/suitegen/)."""

import argparse
import math
import shlex
from pathlib import Path
from typing import Any

from harness.errors import InputError

ACTIONS = ("new", "generate")
MAX_QUESTIONS = 100_000  # per split: a bigger --test or --train is a typo (and would exhaust memory planning)


def add_suitegen_parsers(actions: "argparse._SubParsersAction[Any]") -> None:
    """Add `new` and `generate` beside `validate` and `import` under `harness suites`."""
    from harness.metrics.answer import DEFAULT_ABSTENTION
    from harness.system import RetrieverSpec

    fields = RetrieverSpec.model_fields
    new = actions.add_parser(
        "new",
        help="build a suite's corpus from a folder of documents (.txt, .md, .html, .pdf)",
        description="Reads the documents, cuts them with the retriever's splitter (each passage keeps its "
        "document and character range) and writes corpus.jsonl, suite.yaml and README.md.",
    )
    new.add_argument("name", help="the suite's name and folder")
    new.add_argument("--docs", required=True, help="a folder (searched recursively), a file or a glob")
    new.add_argument(
        "--suites-dir",
        "--out",
        dest="suites_dir",
        type=Path,
        default=Path("suites"),
        help="where the suite folder goes (default suites/)",
    )
    new.add_argument(
        "--chunk-size",
        type=int,
        default=fields["chunk_size"].default,
        help="passage length, as the retriever's chunk_size (default %(default)s)",
    )
    new.add_argument(
        "--chunk-overlap", type=int, default=fields["chunk_overlap"].default, help="default %(default)s"
    )
    new.add_argument(
        "--chunk-unit",
        choices=("tokens", "chars"),
        default=fields["chunk_unit"].default,
        help="tokens: MiniLM word pieces (default), or chars",
    )
    new.add_argument(
        "--abstention",
        default=DEFAULT_ABSTENTION,
        help="the answer of an unanswerable question (default %(default)r)",
    )
    new.add_argument("--force", action="store_true", help="overwrite an existing suite folder")

    gen = actions.add_parser(
        "generate",
        help="generate train and test questions from a suite's corpus with a chat model",
        description="Single-passage, multi-passage and unanswerable questions, each checked against its gold "
        "passage, split by document, near-duplicates across splits removed; writes test.jsonl, train.jsonl, "
        "review.csv and rejected.jsonl (docs/generate.md).",
    )
    gen.add_argument("name", help="the suite (its name under --suites-dir, or its folder)")
    gen.add_argument("--suites-dir", "--out", dest="suites_dir", type=Path, default=Path("suites"))
    gen.add_argument("--model", help="the chat model that writes questions: gemini:<m>, openai:<m> or hf:<m>")
    gen.add_argument("--test", type=int, default=0, help="test questions to ask for")
    gen.add_argument("--train", type=int, default=0, help="train questions to ask for")
    gen.add_argument("--mix", help="shares of each kind (default single=0.6,multi=0.2,unanswerable=0.2)")
    gen.add_argument("--seed", type=int, default=0, help="seed of the document split and passage choice")
    gen.add_argument("--temperature", type=float, default=0.0)
    gen.add_argument("--max-output-tokens", type=int, default=1024, help="cap on each reply (default 1024)")
    gen.add_argument(
        "--dry-run", action="store_true", help="print the estimated calls, tokens and cost; send nothing"
    )
    gen.add_argument("--apply-review", action="store_true", help="keep only the rows review.csv approves")
    gen.add_argument("--force", action="store_true", help="generate anew even if review.csv has edits")


def _folder(name: str, suites_dir: Path) -> Path:
    path = Path(name)
    return path if (path / "suite.yaml").is_file() else suites_dir / name


def suitegen_command(args: argparse.Namespace) -> int:
    if args.action == "new":
        from harness.suitegen.documents import new_suite

        parts = ["harness", "suites", "new", args.name, "--docs", args.docs]
        folder, documents, passages = new_suite(
            args.name,
            args.docs,
            args.suites_dir,
            args.chunk_size,
            args.chunk_overlap,
            args.chunk_unit,
            args.abstention,
            args.force,
            " ".join(shlex.quote(part) for part in parts),
        )
        print(f"wrote {folder}: {documents} document{'s' * (documents != 1)}, {passages} passages")
        print(f"next: harness suites generate {args.name} --model <chat model> --test N --train M --dry-run")
        return 0
    from harness.suitegen.generate import Options, generate

    if args.apply_review and (args.model or args.test or args.train or args.dry_run):
        raise InputError(
            "--apply-review", "applies review.csv alone: no --model, --test, --train or --dry-run"
        )
    if not math.isfinite(args.temperature) or not 0 <= args.temperature <= 2:
        raise InputError("--temperature", f"must be a number from 0 to 2, got {args.temperature:g}")
    for flag, count in (("--test", args.test), ("--train", args.train)):
        if count > MAX_QUESTIONS:  # every question is a prompt planned in memory and a model call
            raise InputError(flag, f"at most {MAX_QUESTIONS:,} questions per split, got {count:,}")
    if not args.apply_review and args.test < 1:
        raise InputError("--test", f"must be at least 1, got {args.test}")
    options = Options(
        folder=_folder(args.name, args.suites_dir),
        model=args.model,
        n_test=args.test,
        n_train=args.train,
        mix=args.mix,
        seed=args.seed,
        dry_run=args.dry_run,
        apply_review=args.apply_review,
        force=args.force,
        temperature=args.temperature,
        max_output_tokens=args.max_output_tokens,
    )
    return generate(options, print)
