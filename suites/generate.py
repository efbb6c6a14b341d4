#!/usr/bin/env python3
"""Deterministic generator of the shipped suites' data files.

Usage:
    python suites/generate.py [--out DIR] [--seed 13] [--scale N] [--suite NAME ...]

Writes, for each selected suite, ``DIR/<suite>/{corpus.jsonl,train.jsonl,test.jsonl}`` (knowledge-refresh
also gets ``corpus_old.jsonl``). The builders live in ``suites/generator/``, one module per suite.

Only data is generated. Each suite's ``suite.yaml`` (metrics and their gates, judge, format, abstention,
version) is written by hand in ``suites/<suite>/``, as is its README, except the README's train/test
overlap section, which ``suites/overlap_report.py`` writes with harness/overlap.py. When ``--out`` is
another folder (a ``--scale N`` suite for performance work, say), the hand-written ``suite.yaml`` is
copied next to the generated data, so the folder loads as a suite.

Every suite holds answers out of its train split (``hold_out``): at least 60% of its test references
never occur among its train references, and each test case is tagged ``seen`` or ``unseen``.

All content is fictional and original to this project. Standard library only; the output is
byte-identical for the same ``--seed`` and ``--scale``. ``--scale N`` multiplies the number of fictional
entities (gardens, companies, products, apps) while keeping the templates, so the character of a suite
does not change.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from generator import BUILDERS, DEFAULT_SEED, build
from generator.common import write_jsonl

SUITES_DIR = Path(__file__).resolve().parent


def write(name: str, data: dict, out_dir: Path) -> None:
    """Write the data files of suite ``name``; beside them, a copy of its hand-written suite.yaml when
    ``out_dir`` is not the shipped folder."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(out_dir / "corpus.jsonl", data["corpus"])
    write_jsonl(out_dir / "train.jsonl", data["train"])
    write_jsonl(out_dir / "test.jsonl", data["test"])
    for filename, rows in sorted(data["extra"].items()):
        write_jsonl(out_dir / filename, rows)
    policy = SUITES_DIR / name / "suite.yaml"
    target = out_dir / "suite.yaml"
    if not (target.exists() and target.samefile(policy)):
        shutil.copyfile(policy, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=SUITES_DIR,
        help="output folder (default: the suites/ folder next to this script)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 13)")
    parser.add_argument(
        "--scale", type=int, default=1, help="multiply the number of fictional entities (1 = shipped size)"
    )
    parser.add_argument(
        "--suite", nargs="+", choices=sorted(BUILDERS), default=None, help="suites to write (default: all)"
    )
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be >= 1")
    for name in args.suite or list(BUILDERS):
        data = build(name, args.seed, args.scale)
        write(name, data, args.out / name)
        print(
            f"{name}: {len(data['corpus'])} passages, {len(data['train'])} train, "
            f"{len(data['test'])} test -> {args.out / name}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
