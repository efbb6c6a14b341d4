"""The harness's own work per question, outside model calls: ROUGE and dense top-k (issue 18, part 1).

- ROUGE: one `evaluate` call per case (how scoring worked before) against one call for a run's pairs
  (`lexical.prefetch_rouge`), on 1,000 generated (answer, reference) pairs each; evaluate loaded first.
- Dense top-k: a stable full argsort of N similarity scores against `retrieval.top_indices` (partial sort),
  for N = 1k, 10k, 100k, keeping 20, 200 repetitions each.

CPU seconds of this process (the machine is shared: wall time is printed beside them).

    .venv/bin/python benchmarks/harness_overhead.py
"""

import os
import random
import time

import numpy as np


def cpu_and_wall(fn, repeat: int = 1) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.process_time() - cpu) / repeat, (time.perf_counter() - wall) / repeat


def main() -> None:
    from harness.metrics import lexical
    from harness.systems.retrieval import top_indices

    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    rng = random.Random(1)
    words = "the a cat dog sat ran on under mat rug red blue quickly km/h garden gate 1987".split()

    def sentence() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))

    pairs = [(sentence(), (sentence(),)) for _ in range(2000)]
    lexical._rouge()  # loading evaluate's module is a one-off cost, left out of both
    per_case, _ = cpu_and_wall(lambda: [lexical._rouge_batch([pair]) for pair in pairs[:1000]])
    batched, _ = cpu_and_wall(lambda: lexical.prefetch_rouge(pairs[1000:]))
    print("| ROUGE of 1,000 pairs | CPU ms per pair |")
    print("| --- | --- |")
    print(f"| one evaluate call per case | {per_case:.3f} |")
    print(f"| one evaluate call for the run | {batched:.4f} |")
    print()
    print("| passages | full argsort ms (CPU) | partial sort ms (CPU) |")
    print("| --- | --- | --- |")
    generator = np.random.default_rng(0)
    for n in (1_000, 10_000, 100_000):
        scores = generator.random(n).astype(np.float32)
        full, _ = cpu_and_wall(lambda s=scores: np.argsort(-s, kind="stable")[:20], repeat=200)
        partial, _ = cpu_and_wall(lambda s=scores: top_indices(s, 20), repeat=200)
        print(f"| {n:,} | {full * 1e3:.3f} | {partial * 1e3:.3f} |")
    print(f"load at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
