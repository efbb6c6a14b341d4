"""Training time of the offline profile's fine-tuning recipes on a 600-pair train split, 2 threads.

For each tuned system (systems/finetuned-minilm.yaml, systems/hybrid-minilm.yaml) it runs prepare()
with an empty cache (cold: every recipe trains) and again with a new system object on the same cache
(warm: the weights are reused, nothing trains), and prints the seconds of each recipe as recorded in its
training.json, plus wall and CPU seconds of both prepare() calls. The target is under 120 s per system
cold. On a shared machine other jobs stretch the wall time while the process CPU time barely changes,
so both are printed, with the load average before and after.

The train split is the first suite found among --suites (default support-docs, knowledge-refresh,
smoke), cycled with new ids until it holds --pairs pairs (the shipped suites have about 400).

    .venv/bin/python benchmarks/train_offline.py [--pairs 600] [--suites support-docs ...]
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from harness.cache import Cache
from harness.hashing import digest
from harness.suite import Suite, load_suite
from harness.system import build_system, load_system_spec
from harness.systems import training

ROOT = Path(__file__).resolve().parent.parent
SYSTEMS = ("finetuned-minilm", "hybrid-minilm")


def with_pairs(suite: Suite, pairs: int) -> Suite:
    """The suite with its train split cycled (ids made unique) or cut to exactly `pairs` cases."""
    cases = [
        case.model_copy(update={"id": f"{case.id}-r{number // len(suite.train)}"})
        for number, case in ((n, suite.train[n % len(suite.train)]) for n in range(pairs))
    ]
    return suite.model_copy(
        update={"train": tuple(cases), "train_hash": digest([c.model_dump() for c in cases])}
    )


def prepare_seconds(name: str, suite: Suite, cache: Cache) -> tuple[float, float]:
    """Wall and process-CPU seconds of one prepare() (CPU time barely grows when others load the machine)."""
    system = build_system(load_system_spec(ROOT / "systems" / f"{name}.yaml"), cache)
    start, cpu = time.perf_counter(), time.process_time()
    system.prepare(suite)
    return time.perf_counter() - start, time.process_time() - cpu


def row(*cells: object) -> str:
    return f"{cells[0]!s:18} {cells[1]!s:10}" + "".join(
        f" {cell:>9.1f}" if isinstance(cell, float) else f" {cell!s:>9}" for cell in cells[2:]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=600)
    parser.add_argument("--suites", nargs="+", default=["support-docs", "knowledge-refresh", "smoke"])
    args = parser.parse_args()
    torch.set_num_threads(training.THREADS)
    found = [
        ROOT / "suites" / name for name in args.suites if (ROOT / "suites" / name / "suite.yaml").exists()
    ]
    suite = with_pairs(load_suite(found[0]), args.pairs)
    print(
        f"train split: {len(suite.train)} pairs cycled from {found[0].name}; torch threads {training.THREADS}"
    )
    print(f"{os.cpu_count()} cores visible, load average {os.getloadavg()[0]:.1f} at start\n")
    print(row("system", "recipe", "examples", "wall s", "cpu s"))
    for name in SYSTEMS:
        with tempfile.TemporaryDirectory() as tmp:
            cache = Cache(tmp)
            runs = training.runs
            cold = prepare_seconds(name, suite, cache)
            trained = training.runs - runs
            warm = prepare_seconds(name, suite, cache)
            if training.runs - runs != trained:
                raise SystemExit(f"{name}: the warm prepare() trained again; the cache was not used")
            for log in sorted(Path(tmp, "artifacts", "model").glob("*/training.json"), key=os.path.getmtime):
                info = json.loads(log.read_text(encoding="utf-8"))["info"]
                print(row(name, info["recipe"], info["examples"], info["seconds"], info["cpu_seconds"]))
            print(row(name, "prepare", "cold", *cold))
            print(row(name, "prepare", "warm", *warm))
            cache.close()
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end (2 = both cores busy with something)")


if __name__ == "__main__":
    main()
