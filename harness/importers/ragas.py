"""A ragas-style table (CSV, JSONL, JSON or Parquet): user_input or question; reference, ground_truth or
ground_truths; reference_contexts (gold) and retrieved_contexts or contexts. Contexts become the corpus."""

from harness.importers.common import Imported, Options
from harness.importers.rows import from_rows, read_table_rows


def read_ragas(source: str, options: Options) -> Imported:
    where, rows = read_table_rows(source)
    return from_rows("ragas", source, where, rows, options)
