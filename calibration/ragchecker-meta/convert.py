"""Rebuild pairs.jsonl from RAGChecker's data/meta_evaluation/human_labeled_data.json (Apache-2.0).

    python calibration/ragchecker-meta/convert.py path/to/human_labeled_data.json

Each upstream row is one annotator's judgement of one pair of responses (model1, model2) to a query; the
two annotators of a pair are consecutive rows. RAGChecker's labels run from -2 to 2 with a positive label
meaning model2's response is better (its meta_eval.py correlates them with model2 - model1). Here
answer_a is model1's response, answer_b model2's, so each preference is the label negated and halved:
+1 means answer_a is clearly better, +0.5 somewhat better, 0 a tie. Pairs whose two responses are the
same text are left out: there is nothing to prefer.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def convert(source: Path) -> list[dict[str, object]]:
    rows = json.loads(source.read_text(encoding="utf-8"))
    out = []
    for position, row in enumerate(rows):
        if row["instance_id"] != position // 2:
            raise SystemExit(f"{source}: row {position} is not the expected annotator of a pair")
        first, second = row["model1"]["response"], row["model2"]["response"]
        if first.strip() == second.strip():
            continue
        out.append(
            {
                "id": str(row["instance_id"]),
                "annotator": str(position % 2 + 1),
                "dataset": row["dataset"],
                "question": row["query"],
                "reference": row["gt_answer"],
                "answer_a": first,
                "answer_b": second,
                "model_a": row["model1"]["model_name"],
                "model_b": row["model2"]["model_name"],
                "preference": -row["overall_label"] / 2,
                "correctness": -row["correctness_label"] / 2,
                "completeness": -row["completeness_label"] / 2,
            }
        )
    return out


if __name__ == "__main__":
    kept = convert(Path(sys.argv[1]))
    target = HERE / "pairs.jsonl"
    target.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in kept), encoding="utf-8")
    print(f"{len(kept)} rows ({len({row['id'] for row in kept})} pairs) -> {target}")
