"""Rebuild labels.jsonl from BEGIN's Wizard of Wikipedia test split (wow/begin_test_wow.tsv, CC-BY-4.0).

    python calibration/begin-wow/convert.py path/to/begin_test_wow.tsv

Each upstream row is one response of a dialogue model, the knowledge snippet it should be grounded in,
the previous dialogue turn, and the human BEGIN label: "Fully attributable", "Not fully attributable" or
"Generic". Here the previous turn is the question, the knowledge snippet the one context, the response
the answer, and the label 1 (fully attributable) or 0 (not fully attributable). Generic responses (no
claim to attribute) and repeats of an earlier row's (knowledge, message, response) are left out, then
SAMPLE rows are drawn with random.Random(SEED) and written in upstream order.
"""

import csv
import json
import random
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 0
SAMPLE = 400
LABELS = {"Fully attributable": 1, "Not fully attributable": 0}
COLUMNS = ["model_name", "data_source", "knowledge", "message", "response", "begin_label"]


def read(source: Path) -> list[dict[str, str]]:
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    for number, row in enumerate(rows, start=2):
        if list(row) != COLUMNS or None in row.values():
            raise SystemExit(f"{source}: line {number} does not have the six BEGIN columns")
    return rows


def convert(source: Path) -> tuple[list[dict[str, object]], Counter[str]]:
    dropped: Counter[str] = Counter()
    seen: set[tuple[str, str, str]] = set()
    eligible = []
    for number, row in enumerate(read(source), start=2):  # number: the upstream file's line
        texts = (row["knowledge"].strip(), row["message"].strip(), row["response"].strip())
        if row["begin_label"] not in LABELS:
            dropped[row["begin_label"]] += 1
        elif texts in seen:
            dropped["repeat of an earlier row"] += 1
        elif not all(texts):
            dropped["an empty text"] += 1
        else:
            seen.add(texts)
            eligible.append((number, row))
    chosen = sorted(random.Random(SEED).sample(eligible, SAMPLE), key=lambda pair: pair[0])
    out: list[dict[str, object]] = [
        {
            "id": f"wow-test-{number}",
            "question": row["message"].strip(),
            "contexts": [row["knowledge"].strip()],
            "answer": row["response"].strip(),
            "label": LABELS[row["begin_label"]],
            "model": row["model_name"],
        }
        for number, row in chosen
    ]
    dropped["eligible, not sampled"] = len(eligible) - SAMPLE
    return out, dropped


if __name__ == "__main__":
    kept, dropped = convert(Path(sys.argv[1]))
    target = HERE / "labels.jsonl"
    target.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in kept), encoding="utf-8")
    positive = sum(int(row["label"]) for row in kept)
    print(f"{len(kept)} rows ({positive} fully attributable, {len(kept) - positive} not) -> {target}")
    print("left out:", dict(dropped))
    print("by model:", dict(Counter((str(row["model"]), int(row["label"])) for row in kept)))
