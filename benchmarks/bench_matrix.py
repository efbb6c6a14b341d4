"""Cold and warm `harness bench`: the default offline matrix (every shipped suite × the offline systems).

Cold: an empty cache, an empty models folder (the general reader trains too) and a fresh MLflow store,
so every system trains, every answer and score is computed. Warm: the same command again, everything
from the cache. Targets on 2 quiet cores: cold < 10 min, warm < 30 s. Other jobs on the machine stretch
the wall time, so the CPU seconds of the bench process and the load average are printed next to it.

    .venv/bin/python benchmarks/bench_matrix.py [--no-mlflow] [--reports-dir DIR]

Extra arguments go to `harness bench`; --reports-dir keeps the reports (default: a temporary folder).
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"cold": 600.0, "warm": 30.0}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "HARNESS_CACHE_DIR": f"{tmp}/cache",
            "HARNESS_MODELS_DIR": f"{tmp}/models",
            "MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/mlflow.db",
        }
        extra = sys.argv[1:]
        reports = [] if "--reports-dir" in extra else ["--reports-dir", f"{tmp}/reports"]
        command = [sys.executable, "-m", "harness", "bench", *reports, *extra]
        print(f"harness bench (offline profile), {os.cpu_count()} cores")
        print("| run | wall s | CPU s | load at start / end | target (wall) |")
        print("| --- | --- | --- | --- | --- |")
        ok = True
        for label in ("cold", "warm"):
            load, start, cpu = os.getloadavg()[0], time.perf_counter(), children_cpu()
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
            seconds, used = time.perf_counter() - start, children_cpu() - cpu
            ok &= seconds < TARGETS[label]
            end = os.getloadavg()[0]
            print(
                f"| {label} | {seconds:.1f} | {used:.1f} | {load:.1f} / {end:.1f} | < {TARGETS[label]:.0f} |"
            )
    print("targets:", "met" if ok else "NOT met (on a loaded machine, compare CPU s with 2 x the target)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
