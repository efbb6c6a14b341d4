"""knowledge-refresh at a chosen size, run end to end by rag-minilm on one machine: cold, then warm.

    .venv/bin/python benchmarks/scale.py --passages 2000 --questions 200
    .venv/bin/python benchmarks/scale.py --passages 100000 --questions 10000   # the issue's size (#18)
    .venv/bin/python benchmarks/scale.py --table benchmarks/results/scale-*.json   # the README's table

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
import contextlib
import datetime
import importlib.abc
import importlib.machinery
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
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

    def cpu_now(self) -> float:
        """CPU inside model calls so far, the calls in flight included up to now."""
        with self._lock:
            total = sum(self.cpu.values())
            now = _process_cpu()
            return total + sum(now - cpu for cpu, _ in self.started.values())

    def result(self) -> dict[str, Any]:
        return {
            "cpu_s": {k: round(v, 3) for k, v in self.cpu.items()},
            "wall_s": {k: round(v, 3) for k, v in self.wall.items()},
            "calls": dict(sorted(self.calls.items())),
        }


PROBE = Probe()
STAGES: dict[str, dict[str, float]] = {}  # stage -> CPU s of the process and inside model calls


def _patch_progress(module: Any) -> None:
    """Per stage (prepare, answer, score, verdict, report), the process's CPU and the model-call CPU."""
    cls = module.Progress
    original = cls.stage

    @contextlib.contextmanager
    def stage(self: Any, name: str, *args: Any, **kwargs: Any) -> Iterator[None]:
        cpu, model = _process_cpu(), PROBE.cpu_now()
        try:
            with original(self, name, *args, **kwargs):
                yield
        finally:
            row = STAGES.setdefault(name, {"cpu_s": 0.0, "model_cpu_s": 0.0})
            row["cpu_s"] = round(row["cpu_s"] + _process_cpu() - cpu, 3)
            row["model_cpu_s"] = round(row["model_cpu_s"] + PROBE.cpu_now() - model, 3)

    cls.stage = stage


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
    "harness.progress": _patch_progress,
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
        "stages_cpu": STAGES,
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
        # The verdict and report stages are not in run.json (written before them): the printed summary.
        "stage_line": next(
            (
                line
                for line in log.read_text(encoding="utf-8").splitlines()
                if line.startswith("Time per stage")
            ),
            None,
        ),
        "model": probe,
        "model_cpu_s": round(model_cpu, 2),
        "harness_cpu_s": round(cpu - model_cpu, 2),
        "harness_wall_s": round(wall - model_wall, 2),
        "harness_cpu_over_model_cpu": round((cpu - model_cpu) / model_cpu, 4) if model_cpu else None,
        "run_folder": str(new[-1]) if new else None,
        "log": str(log),
    }


# ---------------------------------------------------------------------------------------------- table

STAGES_SHOWN = ("prepare", "answer", "score", "verdict", "report")


def _figures(result: dict[str, Any]) -> dict[str, float]:
    """The quantities the table shows and the fit extrapolates, from one result file."""
    cold = result["cold"]
    out = {
        "cold CPU s": cold["cpu_s"],
        "model CPU s": cold["model_cpu_s"],
        "harness CPU s": cold["harness_cpu_s"],
        "peak RSS MiB": cold["peak_rss_mib"],
    }
    for name in STAGES_SHOWN:
        row = cold["model"].get("stages_cpu", {}).get(name)
        if row is not None:
            out[f"{name} CPU s"] = row["cpu_s"]
            out[f"{name} harness CPU s"] = round(row["cpu_s"] - row["model_cpu_s"], 3)
    if "warm" in result:
        out["warm CPU s"] = result["warm"]["cpu_s"]
    return out


def table(paths: list[Path], target: int) -> str:
    """Markdown: each result's figures, then, from the two largest, a straight-line fit in the number of
    passages (questions grow with them in the measured files) extrapolated to `target` passages, and each
    quantity's growth exponent between the two sizes (1 = linear)."""
    results = sorted(
        (json.loads(p.read_text(encoding="utf-8")) for p in paths), key=lambda r: r["suite"]["passages"]
    )
    sizes = [r["suite"]["passages"] for r in results]
    figures = [_figures(r) for r in results]
    names = [n for n in figures[-1] if all(n in f for f in figures)]
    head = [f"{r['suite']['passages']:,} / {r['suite']['test']:,}" for r in results]
    lines = ["| passages / questions | " + " | ".join(head) + " |", "| --- |" + " --- |" * len(head)]
    fits: dict[str, tuple[float, float]] = {}
    if len(results) >= 2:
        (p1, f1), (p2, f2) = (sizes[-2], figures[-2]), (sizes[-1], figures[-1])
        lines[0] += f" growth exponent {p1:,} → {p2:,} | estimate at {target:,} (straight line) |"
        lines[1] += " --- | --- |"
        for name in names:
            slope = (f2[name] - f1[name]) / (p2 - p1)
            fits[name] = (slope, f2[name] + slope * (target - p2))
    for name in names:
        cells = [f"{f[name]:,.1f}" for f in figures]
        if name in fits:
            y1, y2 = figures[-2][name], figures[-1][name]
            exponent = (
                math.log(y2 / y1) / math.log(sizes[-1] / sizes[-2]) if y1 > 0 and y2 > 0 else float("nan")
            )
            cells += [f"{exponent:.2f}", f"{fits[name][1]:,.0f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    loads = [f"{r['cold']['load_before'][0]}–{r['cold']['load_after'][0]}" for r in results]
    lines.append("| load (1 min) cold, start–end | " + " | ".join(loads) + (" | | |" if fits else " |"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["--child"]:
        return child(Path(raw[1]), raw[3:])
    if raw[:1] == ["--table"]:
        print(table([Path(p) for p in raw[1:]], 100_000))
        return 0
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
    parser.add_argument("--note", default="", help="recorded in the result (e.g. what tree was measured)")
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
        "note": args.note,
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
