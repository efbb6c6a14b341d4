"""A bench: every (suite, system) run, then the tables, the verdict, MLflow and the report.

cli.py parses the command line and hands the parsed options here; this module decides whether the judged
metrics run (`use_judge`), runs the matrix (`execute`), prints usage totals and logs to MLflow. Re-scoring
a finished run (`harness score`) is in rescore.py. Heavy modules (torch, mlflow, ray) are imported where
they are needed, so `harness --help` and a cached bench start quickly and the default bench never imports
ray.
"""

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import InputError

if TYPE_CHECKING:
    from harness.cache import Cache
    from harness.report import Report, Run
    from harness.suite import Suite
    from harness.system import SystemSpec
    from harness.verdict import SuiteVerdict

# Judges that send the answers to a server (which may be a third party's, and may cost money).
HOSTED_JUDGES = ("gemini:", "openai:")
# Where the answers and scores of a bench are computed before the (unchanged) local run loop.
EXECUTORS = ("local", "ray")
EXECUTOR_SETTING = "HARNESS_EXECUTOR"


def executor(chosen: str | None) -> str:
    """--executor, else HARNESS_EXECUTOR, else local; an unknown name is an InputError naming its source."""
    if chosen is not None:
        where, name = "--executor", chosen
    else:
        where, name = EXECUTOR_SETTING, os.environ.get(EXECUTOR_SETTING, "").strip() or "local"
    if name not in EXECUTORS:
        raise InputError(where, f"unknown executor '{name}' (expected one of: {', '.join(EXECUTORS)})")
    return name


def use_judge(args: argparse.Namespace, suite: "Suite", specs: Sequence["SystemSpec"], named: bool) -> bool:
    """Whether the suite's LLM-judged metrics run, and a notice on stderr when they do not.

    A hosted judge sends the answers to a third party and costs money, so the offline profile never calls
    it unless asked (--judge). Without a key, an unnamed suite runs without its judged metrics; a suite
    named on the command line is an error instead (exit 2).
    """
    from harness.metrics.judged import JUDGED

    judged = [name for name in suite.metrics if name in JUDGED]
    if not judged or suite.judge is None or args.no_judge:
        return not args.no_judge
    hosted = [ref for ref in (suite.judge.model, suite.judge.embeddings) if ref.startswith(HOSTED_JUDGES)]
    if not hosted:
        return True
    left_out = f"{suite.name}: {', '.join(judged)} left out"
    if not args.judge and all(spec.profile == "offline" for spec in specs):
        print(
            f"{left_out}: the offline profile does not call {hosted[0]} (--judge to include)", file=sys.stderr
        )
        return False
    problem = None if args.dry_run else missing_key(hosted)  # an estimate sends nothing: no key needed
    if problem is not None:
        if named:
            raise InputError(f"{suite.path}/suite.yaml", problem)
        print(f"{left_out}: {problem}", file=sys.stderr)
        return False
    return True


def missing_key(refs: Sequence[str]) -> str | None:
    """What stops these hosted judge models from being called: a missing key (none needed for an openai:
    server named by its base URL), or None."""
    from harness.llm.backends import openai_endpoint
    from harness.llm.settings import settings
    from harness.privacy import api_key

    for ref in refs:
        if ref.startswith("gemini:") and api_key() is None:
            return f"the judge {ref} needs GOOGLE_API_KEY (or GEMINI_API_KEY); --no-judge runs without it"
        if ref.startswith("openai:"):
            try:
                openai_endpoint(ref, settings(ref), "judge")
            except InputError as err:
                return f"the judge {err.what}; --no-judge runs without it"
    return None


def execute(args: argparse.Namespace, suite_dirs: list[Path], system_files: list[Path], named: bool) -> int:
    """Run every (suite, system). `named`: the suites were named on the command line."""
    from harness.cache import Cache
    from harness.privacy import api_key
    from harness.progress import PROGRESS
    from harness.runner import check_before_running, failed_runs, limited, run
    from harness.suite import load_suite, read_all
    from harness.system import load_system_spec
    from harness.tables import check_metrics, comparison_tables
    from harness.verdict import render_text, to_json, verdicts_for

    # Validate everything before running anything: a typo in the last file should not cost a bench.
    where = executor(getattr(args, "executor", None))
    suites = [load_suite(path) for path in suite_dirs]
    specs = [load_system_spec(path) for path in system_files]
    if any(spec.uses_train for spec in specs):  # read (and check) the train splits now, not mid-bench
        suites = [read_all(suite) for suite in suites]
    cache = Cache(enabled=not args.no_cache)
    judging = {suite.name: use_judge(args, suite, specs, named) for suite in suites}
    check_metrics([list(suite.metrics) for suite in suites], args.metric)  # before running, not after
    if args.dry_run:
        args.json_document = {"dry_run": True, "estimate": "printed as a table on stderr; nothing was sent"}
        return dry_run([limited(suite, args.limit) for suite in suites], specs, cache, judging)
    for spec, path in zip(specs, system_files, strict=True):
        if spec.generator.model.startswith("gemini:") and api_key() is None:
            raise InputError(str(path), f"{spec.generator.model} needs GOOGLE_API_KEY (or GEMINI_API_KEY)")
    check_before_running(suites, specs, args.reports_dir)  # after the key checks: it creates the folder
    if not args.no_mlflow:  # a store that does not answer fails now, not after the whole bench
        from harness.tracking import check_store

        check_store()
    if where == "ray":  # answers and scores computed on Ray workers land in this cache; the loop finds them
        from harness.executors import prefill

        prefill(suites, specs, cache, use_judge=judging, limit=args.limit, workers=args.workers)
    bench_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    runs: list[Run] = []
    PROGRESS.begin(len(suites) * len(specs))
    for suite in suites:
        for spec in specs:
            done = run(
                suite,
                spec,
                cache,
                args.reports_dir,
                workers=args.workers,
                use_judge=judging[suite.name],
                limit=args.limit,
            )
            runs.append(done)
            PROGRESS.say(f"saved {done.folder}")
    PROGRESS.after_runs()
    reports = [done.report for done in runs]
    print(comparison_tables(reports, args.metric))
    print(
        "\n± is the half-width of the 95% bootstrap interval; "
        "* marks a metric with unscored cases (see summary.md)."
    )
    print_usage(reports)
    with PROGRESS.stage("verdict", "comparing the systems (paired tests, overlap)"):
        verdicts = verdicts_for(runs, cache)
    logged = log(args, runs, bench_id, verdicts)
    with PROGRESS.stage("report", "writing the report"):
        site = write_report(args.reports_dir, verdicts=verdicts)
    print(f"\nreport: {site}")
    # The answer to the question the bench was run for comes last, where the eye lands.
    print("\n" + "\n\n".join(render_text(verdict) for verdict in verdicts))
    print("\nEvery comparison with its interval and p-value: harness compare (or --json)")
    if PROGRESS.level and PROGRESS.summary():
        print("\n" + PROGRESS.summary_text(), file=sys.stderr)
    failed = failed_runs(reports)
    args.json_document = {
        "bench_id": bench_id,
        "runs": [run_json(done) for done in runs],
        "verdicts": to_json(verdicts),
        "report": str(site),
        "mlflow": logged,
        "time_per_stage_s": PROGRESS.summary(),
        "error": failed,
    }
    if failed:  # recorded, but nothing was measured: not a success
        print(f"error: {failed}", file=sys.stderr)
        return 1
    return 0


def run_json(run: "Run") -> dict[str, object]:
    """One run for --json: where it is, what it saw, each metric's mean and interval, its stage times."""
    report = run.report
    return {
        "suite": report.suite.name,
        "suite_version": report.suite.version,
        "system": report.system.name,
        "kind": report.system.kind,
        "run_id": report.run_id,
        "folder": str(run.folder),
        "n_cases": report.n_cases,
        "n_errors": report.n_errors,
        "limit": report.suite.limit,
        "metrics": {
            name: summary.model_dump(
                mode="json", include={"mean", "ci_low", "ci_high", "n_scored", "n_unscored"}
            )
            for name, summary in report.summary.items()
        },
        "timings_s": report.timings,
    }


def log(
    args: argparse.Namespace, runs: Sequence["Run"], bench_id: str, verdicts: Sequence["SuiteVerdict"] = ()
) -> dict[str, object] | None:
    """Log the runs (and each suite's verdict) to MLflow unless --no-mlflow; what --json reports of it."""
    if args.no_mlflow:
        return None
    from harness.progress import PROGRESS
    from harness.tracking import log_bench, tracking_uri
    from harness.tracking_store import shown
    from harness.verdict import render_text

    def markdown(text: str) -> str:
        # MLflow renders verdict.md as Markdown: a hard break keeps each terminal line on its own line
        lines = text.splitlines()
        return "".join(line + ("  \n" if line and not line.startswith("|") else "\n") for line in lines)

    texts = {v.suite: (markdown(render_text(v, full=True)), v.model_dump(mode="json")) for v in verdicts}
    # reports_dir: finished run folders a killed bench never logged are logged now (recovered=true)
    with PROGRESS.stage("mlflow", f"logging {len(runs)} run(s) to MLflow"):
        run_ids = log_bench(runs, bench_id, verdicts=texts, reports_dir=args.reports_dir)
    print(f"\nMLflow ({tracking_uri()}), bench {bench_id}:")
    for key, run_id in run_ids.items():
        print(f"  {key}: {run_id}")
    return {"tracking_uri": shown(tracking_uri()), "runs": {str(k): run_id for k, run_id in run_ids.items()}}


def print_usage(reports: Sequence["Report"]) -> None:
    """Tokens and cost per run, per metric and per system, and what was actually sent."""
    from harness.report import usage_rows

    lines = []
    spent = 0.0
    requests = limited = cached = 0
    for report in reports:
        for row in usage_rows(report):
            lines.append(
                f"  {report.suite.name} × {report.system.name}: {row[0]}: {row[1]} calls, "
                f"{row[2]} in / {row[3]} out tokens, {row[4]}"
            )
        sent = report.usage.sent_total
        spent += sent.cost_usd
        requests += sent.requests
        limited += sent.rate_limited
        cached += sent.cached
    if lines or requests or cached:
        print("\nTokens and cost (what producing these answers and scores costs, cached or not):")
        print("\n".join(lines))
        print(
            f"Sent this bench: {requests} requests, {limited} answered 429, "
            f"{cached} calls from the cache; ${spent:.4f} spent."
        )


def dry_run(
    suites: Sequence["Suite"], specs: Sequence["SystemSpec"], cache: "Cache", judging: dict[str, bool]
) -> int:
    """Estimate the calls, tokens and cost of a bench; nothing is sent."""
    from harness.estimate import estimate, render
    from harness.metrics import build_metrics
    from harness.runner import cached_answers

    lines = []
    for suite in suites:
        metrics = build_metrics(suite, cache, use_judge=judging[suite.name])
        for spec in specs:
            lines += estimate(suite, spec, cache, metrics, cached_answers(suite, spec, cache))
    print(render(lines))
    print("\ndry run: estimates only, nothing was sent (cached answers and scores are not counted)")
    return 0


def write_report(reports_dir: Path, out: Path | None = None, verdicts: Sequence["SuiteVerdict"] = ()) -> Path:
    """The static report of the latest run of each (suite, system): the same runs the gate compares.

    `verdicts` already computed for exactly these runs (a bench's) are reused; the others are computed.
    """
    from harness.baseline import latest_runs
    from harness.cache import Cache
    from harness.report import load_run
    from harness.site import write_site
    from harness.verdict import verdicts_for

    runs = [load_run(folder) for folder in latest_runs(reports_dir)]
    ready = {v.suite: v for v in verdicts}
    found = []
    for suite in dict.fromkeys(run.report.suite.name for run in runs):
        group = [run for run in runs if run.report.suite.name == suite]
        if suite in ready and ready[suite].runs == {r.report.system.name: r.report.run_id for r in group}:
            found.append(ready[suite])
        else:
            try:
                found += verdicts_for(group, Cache())
            except InputError as err:  # e.g. latest runs of two suite versions: the page says why
                print(f"{suite}: no verdict in the report: {err}", file=sys.stderr)
    return write_site(runs, out or reports_dir / "latest", reports_dir / "baselines", found)
