"""Write each shipped suite's train/test overlap into its README, counted by harness/overlap.py.

Usage:
    python suites/overlap_report.py [--check] [NAME ...]

The numbers come from `suite_overlap`, the same code as the verdict's overlap warning, so a README can
never state an overlap the verdict would not. The block between the two markers below is replaced; the
rest of each README is written by hand. `--check` writes nothing and exits 1 when a README is stale.
"""

import argparse
import sys
from pathlib import Path

from harness.overlap import Embed, suite_overlap
from harness.suite import Suite, load_suite

SUITES_DIR = Path(__file__).resolve().parent
NAMES = ("smoke", "knowledge-refresh", "house-style", "support-docs")
BEGIN = "<!-- overlap: written by suites/overlap_report.py from harness/overlap.py; do not edit -->"
END = "<!-- /overlap -->"


def seen_counts(suite: Suite) -> str:
    """How the `seen` / `unseen` tags split the test cases."""
    seen = sum("seen" in case.tags for case in suite.test)
    return (
        f"Tags: {seen} test cases `seen` (reference among the train references), "
        f"{len(suite.test) - seen} `unseen`."
    )


def overlap_block(suite: Suite, embed: Embed | None = None) -> str:
    """The README block: markers, one bullet per kind of overlap, and the seen/unseen split."""
    overlap = suite_overlap(suite) if embed is None else suite_overlap(suite, embed)
    counts = overlap.counts()
    lines = [
        BEGIN,
        f"Train/test overlap of v{suite.version} ({counts['n_test']} test, {counts['n_train']} train cases):",
        "",
        *(f"- {line}." for line in overlap.lines()),
        "",
        seen_counts(suite),
        END,
    ]
    return "\n".join(lines)


def with_block(readme: str, block: str) -> str:
    """The README with its overlap block replaced (or added under its own heading, before the changelog)."""
    if BEGIN in readme and END in readme:
        head, rest = readme.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        return head + block + tail
    section = "## Train/test overlap\n\n" + block + "\n"
    if "\n## Changelog" in readme:
        head, tail = readme.split("\n## Changelog", 1)
        return head.rstrip("\n") + "\n\n" + section + "\n## Changelog" + tail
    return readme.rstrip("\n") + "\n\n" + section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=list(NAMES), help="suites (default: all shipped)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a README is stale; write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name in args.names:
        suite = load_suite(SUITES_DIR / name)
        path = SUITES_DIR / name / "README.md"
        old = path.read_text(encoding="utf-8")
        new = with_block(old, overlap_block(suite))
        if new == old:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(new, encoding="utf-8", newline="\n")
            print(f"{name}: overlap written to {path}", file=sys.stderr)
    if args.check and stale:
        print(f"stale overlap in README: {', '.join(stale)} (run suites/overlap_report.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
