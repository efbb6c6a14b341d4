"""The offline arms side by side, from the runs of a `harness bench` reports folder.

Per suite and system: token F1 and hit@k (run.json means), the share of "The documents do not say."
answers, and the share of answerable cases (reference not the abstention) given the most common answer
text: the collapse check (issue 12 asks that no offline system exceeds one half).

    .venv/bin/harness bench --no-mlflow --reports-dir /tmp/h4reports
    .venv/bin/python benchmarks/offline_arms.py /tmp/h4reports
"""

import json
import sys
from collections import Counter
from pathlib import Path

ABSTAIN = "The documents do not say."
SYSTEMS = ("rag-minilm", "finetuned-minilm", "hybrid-minilm")


def cell(summary: dict, metric: str) -> str:
    mean = summary.get(metric, {}).get("mean")
    return "n/a" if mean is None else f"{mean:.3f}"


def main() -> None:
    reports = Path(sys.argv[1] if len(sys.argv) > 1 else "reports")
    latest: dict[tuple[str, str], Path] = {}
    for folder in sorted((reports / "runs").iterdir()):  # names start with the time: the last one wins
        report = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        latest[(report["suite"]["name"], report["system"]["name"])] = folder
    print("| suite | system | token_f1 | hit_at_k | abstains | most common answer (answerable) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for suite in sorted({suite for suite, _ in latest}):
        for system in SYSTEMS:
            folder = latest.get((suite, system))
            if folder is None:
                continue
            summary = json.loads((folder / "run.json").read_text(encoding="utf-8"))["summary"]
            records = [json.loads(line) for line in (folder / "records.jsonl").open(encoding="utf-8")]
            answers = [r["answer"] for r in records]
            answerable = [r["answer"] for r in records if r["reference"] != ABSTAIN]
            text, count = Counter(answerable).most_common(1)[0] if answerable else ("", 0)
            abstains = sum(a == ABSTAIN for a in answers) / max(len(answers), 1)
            share = count / max(len(answerable), 1)
            print(
                f"| {suite} | {system} | {cell(summary, 'token_f1')} | {cell(summary, 'hit_at_k')} "
                f"| {abstains:.2f} | {share:.2f} ({text[:30]!r}, {count} of {len(answerable)}) |"
            )


if __name__ == "__main__":
    main()
