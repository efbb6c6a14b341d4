"""`harness suites import`: SQuAD JSON, BEIR folders, Hugging Face datasets and ragas tables as suites.

Each reader returns an `Imported` (corpus, cases with every accepted answer, notes); `common.write_suite`
splits it (seeded, by document by default), writes the suite folder and prints the overlap report.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.importers.common import Imported, Options, check_options, write_suite


def _readers() -> dict[str, Callable[[str, Options], Imported]]:
    from harness.importers.beir import read_beir
    from harness.importers.hf import read_hf
    from harness.importers.ragas import read_ragas
    from harness.importers.squad import read_squad

    return {"squad": read_squad, "beir": read_beir, "hf": read_hf, "ragas": read_ragas}


FORMATS = ("squad", "beir", "hf", "ragas")


def import_suite(
    fmt: str,
    source: str,
    options: Options,
    command: str = "harness suites import",
    print_line: Callable[[str], None] = print,
    embed: Callable[[list[str]], Any] | None = None,
) -> Path:
    """Read `source` in format `fmt`, write the suite folder options.out / options.name, return it."""
    from harness.yamlfile import did_you_mean

    if fmt not in FORMATS:
        raise InputError(
            "format",
            f"unknown format '{fmt}'{did_you_mean(fmt, list(FORMATS))} (formats: {', '.join(FORMATS)})",
        )
    check_options(options)
    data = _readers()[fmt](source, options)
    return write_suite(data, options, command, print_line, embed)


__all__ = ["FORMATS", "Imported", "Options", "import_suite"]
