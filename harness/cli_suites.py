"""`harness suites import`: its arguments and its handler (the work is in harness/importers/)."""

import argparse
import shlex
from pathlib import Path
from typing import Any

from harness.errors import InputError


def add_import_parser(actions: "argparse._SubParsersAction[Any]") -> None:
    """Add `import` beside `validate` under `harness suites`."""
    sub = actions.add_parser(
        "import",
        help="write a suite folder from SQuAD JSON, a BEIR folder, a Hugging Face dataset or a ragas table",
        description="Formats: squad (v1.1/v2.0 JSON), beir (a folder: corpus.jsonl, queries.jsonl, qrels/), "
        "hf (a save_to_disk folder, a data file or folder, or hf:<id>), ragas (CSV/JSONL/Parquet table).",
    )
    sub.add_argument("format", help="squad, beir, hf or ragas")
    sub.add_argument("source", help="the file, folder or hf:<dataset id> to read")
    sub.add_argument("--name", required=True, help="the suite's name and folder")
    sub.add_argument(
        "--out", type=Path, default=Path("suites"), help="where the folder goes (default suites/)"
    )
    sub.add_argument(
        "--test-fraction", type=float, default=0.3, help="share of questions in test (default 0.3)"
    )
    sub.add_argument("--seed", type=int, default=0, help="seed of the train/test split (default 0)")
    sub.add_argument(
        "--split-by",
        default="document",
        help="document (default: test passages are never gold in train) or question",
    )
    sub.add_argument(
        "--abstention", help="the answer of an unanswerable question (default 'The documents do not say.')"
    )
    sub.add_argument("--force", action="store_true", help="overwrite an existing suite folder")
    sub.add_argument("--split", help="hf: the dataset split to read (default: every split)")
    sub.add_argument("--subset", help="hf: the dataset configuration")
    sub.add_argument("--revision", help="hf: the dataset revision")
    sub.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="OURS=THEIRS",
        help="hf/ragas: read our field from their column (id, question, answers, context, gold_contexts, "
        "contexts, title); repeatable",
    )


def _command(args: argparse.Namespace) -> str:
    """The command as it could be typed again, for the suite's README."""
    parts = ["harness", "suites", "import", args.format, args.source, "--name", args.name]
    parts += ["--out", str(args.out), "--test-fraction", f"{args.test_fraction:g}", "--seed", str(args.seed)]
    parts += ["--split-by", args.split_by]
    for flag in ("abstention", "split", "subset", "revision"):
        if getattr(args, flag) is not None:
            parts += [f"--{flag}", getattr(args, flag)]
    for pair in args.column:
        parts += ["--column", pair]
    return " ".join(shlex.quote(part) for part in parts)


def suites_import(args: argparse.Namespace) -> int:
    from harness.importers import Options, import_suite

    columns: dict[str, str] = {}
    for pair in args.column:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise InputError("--column", f"'{pair}' is not OURS=THEIRS (e.g. question=query)")
        columns[ours.strip()] = theirs.strip()
    options = Options(
        name=args.name,
        out=args.out,
        test_fraction=args.test_fraction,
        seed=args.seed,
        split_by=args.split_by,
        abstention=args.abstention,
        force=args.force,
        split=args.split,
        subset=args.subset,
        revision=args.revision,
        columns=columns,
    )
    import_suite(args.format, args.source, options, command=_command(args))
    return 0
