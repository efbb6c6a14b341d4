"""Cold and warm `harness bench`: the default offline matrix (every shipped suite × the offline systems).

Cold: an empty cache and a fresh MLflow store, so every system trains, every answer and score is computed.
Warm: the same command again, everything from the cache. Targets on 2 cores: cold < 10 min, warm < 30 s.

    .venv/bin/python benchmarks/bench_matrix.py
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"cold": 600.0, "warm": 30.0}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "HARNESS_CACHE_DIR": f"{tmp}/cache",
            "MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/mlflow.db",
        }
        command = [sys.executable, "-m", "harness", "bench", "--reports-dir", f"{tmp}/reports"]
        print(f"harness bench (offline profile), {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
        print("| run | seconds | target |")
        print("| --- | --- | --- |")
        ok = True
        for label in ("cold", "warm"):
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
            seconds = time.perf_counter() - start
            ok &= seconds < TARGETS[label]
            print(f"| {label} | {seconds:.1f} | < {TARGETS[label]:.0f} |")
    print("targets:", "met" if ok else "NOT met")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
