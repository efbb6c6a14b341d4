"""knowledge-refresh at a chosen size, run end to end by rag-minilm on one machine: cold, then warm.

    .venv/bin/python benchmarks/scale.py --passages 2000 --questions 200
    .venv/bin/python benchmarks/scale.py --passages 100000 --questions 10000   # the issue's size (#18)

1. Generates knowledge-refresh with exactly --passages passages and --questions test cases
   (suites/generator's ``build_sized``: the smallest ``--scale`` with enough of both, then cut) into
   ``--work`` (default /tmp/harness-scale/<P>x<Q>), never into suites/.
2. Cold run: ``harness run --suite <that folder> --system rag-minilm --no-mlflow`` in a child process with
   an empty answer/score cache (HARNESS_CACHE_DIR=<work>/cache). Weights that depend on no suite (the
   general reader, trained once per machine) come from the usual models folder (HARNESS_MODELS_DIR, else
   .cache/harness/models), as they would on any machine that has run the harness before.
3. Warm run: the same command on the same cache and reports folder.

For each run it records wall time; CPU time (user + sys) and peak RSS of the child's process tree
(``os.wait4``'s rusage of the child, which includes its waited-for descendants); the load average
before and after; the seconds per stage from run.json's ``timings``; and the time inside model calls,
measured in the child by wrapping them (lazily, when their modules are first imported, so a run that
never imports torch pays nothing):

- compute: ``SentenceTransformer.encode`` (tokenising included) and the outermost
  ``torch.nn.Module.__call__`` (a forward pass: the MiniLM span reader);
- load: ``SentenceTransformer.__init__`` and ``PreTrainedModel.from_pretrained``.

A call made while the same thread is already inside a wrapped call is not counted again. The CPU of a
category is the process's CPU (all threads, ``getrusage(RUSAGE_SELF)``) accumulated over the intervals in
which at least one call of that category is in flight, in any thread; its wall time is the union of those
intervals. **Harness time** = the child's total CPU minus the CPU inside model calls (compute + load): the
interpreter start, imports, loading and validating the suite, BM25, the dense top-k, the cache, the
metrics other than their encoder calls, writing the run folder and the report. With two answering
threads, harness work that runs while the other thread is inside a model call is charged to the model,
so harness time is a lower bound by at most the overlap (the reader and the encoder each hold a lock,
so most of the time one thread waits on the other).

Targets from issue #18 (at 100k passages / 10k questions): peak RSS <= 4 GiB, harness CPU <= 5% of
model CPU, warm wall <= 2% of cold wall. The result JSON goes to benchmarks/results/scale-<P>x<Q>.json.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.abc
import importlib.machinery
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SUITE = "knowledge-refresh"
TARGETS = {"peak_rss_gib": 4.0, "harness_cpu_over_model_cpu": 0.05, "warm_wall_over_cold_wall": 0.02}


# ---------------------------------------------------------------------------------------------- child


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Probe:
    """CPU and wall time inside model calls, by category; see the module docstring for the rules."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.active: dict[str, int] = {"compute": 0, "load": 0}
        self.started: dict[str, tuple[float, float]] = {}
        self.cpu: dict[str, float] = {"compute": 0.0, "load": 0.0}
        self.wall: dict[str, float] = {"compute": 0.0, "load": 0.0}
        self.calls: dict[str, int] = {}

    def wrap(self, category: str, label: str, function: Any) -> Any:
        probe = self

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if getattr(probe._local, "inside", False):
                return function(*args, **kwargs)
            probe._enter(category, label)
            try:
                return function(*args, **kwargs)
            finally:
                probe._leave(category)

        wrapped.__wrapped__ = function  # type: ignore[attr-defined]
        return wrapped

    def _enter(self, category: str, label: str) -> None:
        self._local.inside = True
        with self._lock:
            self.calls[label] = self.calls.get(label, 0) + 1
            if self.active[category] == 0:
                self.started[category] = (_process_cpu(), time.perf_counter())
            self.active[category] += 1

    def _leave(self, category: str) -> None:
        with self._lock:
            self.active[category] -= 1
            if self.active[category] == 0:
                cpu, wall = self.started.pop(category)
                self.cpu[category] += _process_cpu() - cpu
                self.wall[category] += time.perf_counter() - wall
        self._local.inside = False

    def result(self) -> dict[str, Any]:
        return {
            "cpu_s": {k: round(v, 3) for k, v in self.cpu.items()},
            "wall_s": {k: round(v, 3) for k, v in self.wall.items()},
            "calls": dict(sorted(self.calls.items())),
        }


PROBE = Probe()


def _patch_torch(module: Any) -> None:
    cls = module.Module
    cls.__call__ = PROBE.wrap("compute", "torch.nn.Module.__call__", cls.__call__)


def _patch_sentence_transformers(module: Any) -> None:
    cls = module.SentenceTransformer
    cls.encode = PROBE.wrap("compute", "SentenceTransformer.encode", cls.encode)
    cls.__init__ = PROBE.wrap("load", "SentenceTransformer.__init__", cls.__init__)


def _patch_transformers(module: Any) -> None:
    cls = module.PreTrainedModel
    original = cls.from_pretrained.__func__
    cls.from_pretrained = classmethod(PROBE.wrap("load", "PreTrainedModel.from_pretrained", original))


PATCHES = {
    "torch.nn.modules.module": _patch_torch,
    "sentence_transformers.sentence_transformer.model": _patch_sentence_transformers,
    "transformers.modeling_utils": _patch_transformers,
}


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches a module of PATCHES right after it is first executed, so nothing is imported early."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        loader, patch = spec.loader, PATCHES[fullname]
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            patch(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def child(probe_out: Path, argv: list[str]) -> int:
    """Run `harness <argv>` in this process with the model calls wrapped; write the probe's figures."""
    sys.meta_path.insert(0, _PatchOnImport())
    start_cpu, start = _process_cpu(), time.perf_counter()
    import harness
    from harness.cli import main

    code = main(argv)
    figures = {
        "harness": str(Path(harness.__file__).parent),
        **PROBE.result(),
        "in_process": {
            "cpu_s": round(_process_cpu() - start_cpu, 3),
            "wall_s": round(time.perf_counter() - start, 3),
        },
        "exit_code": code,
    }
    probe_out.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return code


# --------------------------------------------------------------------------------------------- parent


def generate(folder: Path, passages: int, questions: int, seed: int) -> dict[str, int]:
    """Write knowledge-refresh at the given size into `folder` (with its hand-written suite.yaml)."""
    sys.path.insert(0, str(ROOT / "suites"))
    from generator import build_sized  # type: ignore[import-not-found]
    from generator.common import write_jsonl  # type: ignore[import-not-found]

    data = build_sized(SUITE, seed, passages, questions)
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "corpus.jsonl", data["corpus"])
    write_jsonl(folder / "train.jsonl", data["train"])
    write_jsonl(folder / "test.jsonl", data["test"])
    for filename, rows in sorted(data["extra"].items()):
        write_jsonl(folder / filename, rows)
    shutil.copyfile(ROOT / "suites" / SUITE / "suite.yaml", folder / "suite.yaml")
    return {"passages": len(data["corpus"]), "train": len(data["train"]), "test": len(data["test"])}


def run_once(label: str, argv: list[str], env: dict[str, str], work: Path, reports: Path) -> dict[str, Any]:
    """One `harness run` in a child process: rusage of its tree, probe figures, run.json timings."""
    probe_out = work / f"probe-{label}.json"
    probe_out.unlink(missing_ok=True)
    log = work / f"{label}.log"
    before = set((reports / "runs").glob("*")) if (reports / "runs").exists() else set()
    load_before = os.getloadavg()
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as stream:
        process = subprocess.Popen(
            [sys.executable, __file__, "--child", str(probe_out), "--", *argv],
            cwd=ROOT,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    load_after = os.getloadavg()
    if process.returncode != 0:
        raise SystemExit(f"{label} run failed (exit {process.returncode}); see {log}")
    probe = json.loads(probe_out.read_text(encoding="utf-8"))
    new = sorted(set((reports / "runs").glob("*")) - before)
    run_json = json.loads((new[-1] / "run.json").read_text(encoding="utf-8")) if new else {}
    cpu = usage.ru_utime + usage.ru_stime
    model_cpu = probe["cpu_s"]["compute"] + probe["cpu_s"]["load"]
    model_wall = probe["wall_s"]["compute"] + probe["wall_s"]["load"]
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "user_s": round(usage.ru_utime, 2),
        "sys_s": round(usage.ru_stime, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "stage_s": run_json.get("timings", {}),
        "model": probe,
        "model_cpu_s": round(model_cpu, 2),
        "harness_cpu_s": round(cpu - model_cpu, 2),
        "harness_wall_s": round(wall - model_wall, 2),
        "harness_cpu_over_model_cpu": round((cpu - model_cpu) / model_cpu, 4) if model_cpu else None,
        "run_folder": str(new[-1]) if new else None,
        "log": str(log),
    }


def main(argv: list[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["--child"]:
        return child(Path(raw[1]), raw[3:])
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--system", default="rag-minilm")
    parser.add_argument("--workers", type=int, default=2, help="harness run --workers (default 2)")
    parser.add_argument("--work", type=Path, default=None, help="default /tmp/harness-scale/<P>x<Q>")
    parser.add_argument(
        "--out", type=Path, default=None, help="default benchmarks/results/scale-<P>x<Q>.json"
    )
    parser.add_argument("--no-warm", action="store_true", help="cold run only")
    args = parser.parse_args(raw)
    if args.passages < 1 or args.questions < 1:
        parser.error("--passages and --questions must be >= 1")
    size = f"{args.passages}x{args.questions}"
    work = (args.work or Path("/tmp/harness-scale") / size).resolve()
    out = args.out or RESULTS / f"scale-{size}.json"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    suite_dir = work / "suites" / SUITE
    started = time.perf_counter()
    sizes = generate(suite_dir, args.passages, args.questions, args.seed)
    generate_s = time.perf_counter() - started
    print(f"generated {sizes} in {generate_s:.1f} s -> {suite_dir}", file=sys.stderr)

    default_models = ROOT / ".cache" / "harness" / "models"
    env = {
        **os.environ,
        "HARNESS_CACHE_DIR": str(work / "cache"),
        "HARNESS_MODELS_DIR": os.environ.get("HARNESS_MODELS_DIR") or str(default_models),
        # The harness measured is the one next to this script (a snapshot, say), not the installed one.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    reports = work / "reports"
    harness_args = [
        "run",
        "--suite",
        str(suite_dir),
        "--system",
        args.system,
        "--reports-dir",
        str(reports),
        "--workers",
        str(args.workers),
        "--no-mlflow",
    ]
    result: dict[str, Any] = {
        "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "machine": {
            "cores": os.cpu_count(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "suite": {**sizes, "seed": args.seed, "generate_s": round(generate_s, 2)},
        "system": args.system,
        "command": ["harness", *harness_args],
        "models_dir": env["HARNESS_MODELS_DIR"],
        "targets": TARGETS,
    }
    print("cold run ...", file=sys.stderr)
    result["cold"] = run_once("cold", harness_args, env, work, reports)
    print(json.dumps(result["cold"], indent=1), file=sys.stderr)
    if not args.no_warm:
        print("warm run ...", file=sys.stderr)
        result["warm"] = run_once("warm", harness_args, env, work, reports)
        print(json.dumps(result["warm"], indent=1), file=sys.stderr)
        result["warm_over_cold"] = {
            "wall": round(result["warm"]["wall_s"] / result["cold"]["wall_s"], 4),
            "cpu": round(result["warm"]["cpu_s"] / result["cold"]["cpu_s"], 4),
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"-> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
