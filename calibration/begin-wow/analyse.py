"""Break a saved begin-wow calibration of minilm_faithfulness down by model, beside a lexical baseline.

    python calibration/begin-wow/analyse.py reports/calibration/runs/<stamp>_begin-wow

BEGIN's labels are confounded with the model that wrote the response (CTRL-Dialog's responses are mostly
attributable, GPT-2's mostly not), so a metric can rank well overall by telling the models apart. This
prints the metric's AUROC within each model, and the AUROC of a plain lexical score (the share of the
answer's word tokens that occur in the knowledge snippet), with the harness's item bootstrap (seed 0).
"""

import json
import re
import sys
from pathlib import Path

import numpy as np

from harness.calibration.figures import auroc, figure

HERE = Path(__file__).resolve().parent
WORD = re.compile(r"[a-z0-9]+")


def overlap(answer: str, context: str) -> float:
    words = WORD.findall(answer.lower())
    known = set(WORD.findall(context.lower()))
    return sum(word in known for word in words) / len(words) if words else 0.0


def shown(result: dict[str, object]) -> str:
    if result["value"] is None:
        return "undefined"
    low, high = result["ci_low"], result["ci_high"]
    interval = f" [{low:.2f}, {high:.2f}]" if low is not None else ""
    return f"{result['value']:.2f}{interval}"


def main(run: Path) -> None:
    rows = {
        row["id"]: row
        for row in map(json.loads, (HERE / "labels.jsonl").read_text(encoding="utf-8").splitlines())
    }
    items = [json.loads(line) for line in (run / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    metric = np.array([item["scores"]["minilm_faithfulness"][0][0] for item in items], dtype=float)
    lexical = np.array([overlap(rows[i["key"]]["answer"], rows[i["key"]]["contexts"][0]) for i in items])
    positive = np.array([item["labels"][0] == 1.0 for item in items])
    model = np.array([rows[item["key"]]["model"] for item in items])
    print("subset            items  attributable  minilm_faithfulness AUROC  lexical overlap AUROC")
    for name in ["all", *sorted(set(model))]:
        chosen = np.flatnonzero(model == name) if name != "all" else np.arange(len(items))
        groups = [np.array([row]) for row in chosen]
        results = [
            figure(groups, lambda r, s=scores: auroc(s[r], positive[r])) for scores in (metric, lexical)
        ]
        print(
            f"{name:<16} {len(chosen):>6}  {int(positive[chosen].sum()):>12}  "
            f"{shown(results[0]):>25}  {shown(results[1]):>21}"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
