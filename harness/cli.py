"""The `harness` command: argument parsing and wiring only; the work happens in the other modules."""

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from harness.cli_suitegen import ACTIONS as SUITEGEN_ACTIONS
from harness.cli_suitegen import add_suitegen_parsers, suitegen_command
from harness.cli_suites import add_import_parser, suites_import
from harness.errors import InputError
from harness.privacy import ScrubFilter, scrub
from harness.yamlfile import did_you_mean

if TYPE_CHECKING:
    from harness.cache import Cache
    from harness.project import Project
    from harness.report import Report
    from harness.suite import Suite
    from harness.system import SystemSpec
    from harness.verdict import SuiteVerdict


class _Parser(argparse.ArgumentParser):
    """argparse with the house rule for a bad argument: one line naming the command and the option, exit 2
    (argparse's own error prints the whole usage block first). Sub-commands get the same class."""

    last_error: str | None = None

    def error(self, message: str) -> NoReturn:
        _Parser.last_error = f"{self.prog}: {message}"
        self.exit(2, f"error: {self.prog}: {message} (`{self.prog} --help` lists the options)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="harness",
        description="Evaluate RAG, fine-tuned and hybrid systems side by side.",
        epilog="Default folders (suites, systems, reports), the cache and the MLflow store are the "
        "project's: the nearest harness.toml (or pyproject.toml with [tool.harness]) from here up; "
        "`harness init` writes one. Every command and option: docs/cli.md.",
    )
    parser.add_argument("--version", action="version", version=f"harness {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_view_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--limit",
            type=_positive,
            metavar="N",
            help="only the first N test cases of each suite, for a quick look (recorded in run.json; "
            "the gate does not gate a limited run against a full baseline)",
        )
        sub.add_argument(
            "--metric",
            action="append",
            default=[],
            help="only this metric's column in the table (repeatable; every metric is still scored)",
        )
        sub.add_argument(
            "--json", action="store_true", help="one JSON document on stdout; the human text goes to stderr"
        )

    def add_run_options(sub: argparse.ArgumentParser) -> None:
        # default folders: the project's (harness.toml at the project root), whatever the working directory
        sub.add_argument("--suites-dir", type=Path, default=Path("suites"), help="where suites live")
        sub.add_argument("--systems-dir", type=Path, default=Path("systems"), help="where systems live")
        sub.add_argument("--reports-dir", type=Path, default=Path("reports"), help="where run folders go")
        sub.add_argument("--workers", type=int, default=2, help="threads answering and scoring (default 2)")
        sub.add_argument(
            "--no-cache", action="store_true", help="reuse no cached answers, scores or model calls"
        )
        sub.add_argument("--no-mlflow", action="store_true", help="do not log to MLflow")
        sub.add_argument(
            "--dry-run", action="store_true", help="estimate model calls, tokens and cost; send nothing"
        )
        judge = sub.add_mutually_exclusive_group()
        judge.add_argument(
            "--judge", action="store_true", help="run LLM-judged metrics even for offline-profile systems"
        )
        judge.add_argument(
            "--no-judge", action="store_true", help="leave out the LLM-judged metrics (e.g. without a key)"
        )

    bench = commands.add_parser("bench", help="run the profile's systems on every suite (the default matrix)")
    bench.add_argument("--profile", default="offline", help="which systems run (default: offline)")
    bench.add_argument("--suite", action="append", default=[], help="only this suite (repeatable)")
    bench.add_argument("--system", action="append", default=[], help="only this system (repeatable)")
    add_run_options(bench)
    add_view_options(bench)

    run = commands.add_parser("run", help="run one system on one suite")
    run.add_argument("--suite", required=True, help="suite name or folder")
    run.add_argument("--system", required=True, help="system name or YAML file")
    add_run_options(run)
    add_view_options(run)

    score = commands.add_parser(
        "score",
        help="re-score the answers of a run folder (another judge or metric; the system is not called)",
    )
    score.add_argument("run_folder", type=Path, help="reports/runs/<run id>")
    score.add_argument("--metric", action="append", default=[], help="only this metric (repeatable)")
    score.add_argument("--judge-model", help="grade with this chat model instead of the suite's judge")
    score.add_argument("--judge-embeddings", help="and this embedder (default: the suite judge's)")
    score.add_argument("--judge-temperature", type=float, default=0.0)
    add_run_options(score)

    suites = commands.add_parser("suites", help="suite commands")
    suites_commands = suites.add_subparsers(dest="action", required=True, metavar="ACTION")
    validate = suites_commands.add_parser(
        "validate", help="load and check suites; exit 2 on the first problem"
    )
    validate.add_argument("names", nargs="*", help="suite names or folders (default: all)")
    validate.add_argument("--suites-dir", type=Path, default=Path("suites"))
    add_import_parser(suites_commands)
    add_suitegen_parsers(suites_commands)
    validate.add_argument("--json", action="store_true", help="one JSON document on stdout")

    systems = commands.add_parser("systems", help="system commands")
    systems_commands = systems.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = systems_commands.add_parser("validate", help="load and check system files; exit 2 on a problem")
    check.add_argument("names", nargs="*", help="system names or YAML files (default: all)")
    check.add_argument("--systems-dir", type=Path, default=Path("systems"))

    gate = commands.add_parser(
        "gate", help="compare the latest runs with their baselines; exit 0 pass, 1 regression, 2 error"
    )
    gate.add_argument(
        "--baseline",
        help="a baseline file or folder, mlflow:<run id>, or mlflow (newest run tagged baseline=true); "
        "default: <reports-dir>/baselines",
    )
    gate.add_argument("--out", type=Path, help="folder for gate.md and junit.xml (default: reports/latest)")
    gate.add_argument("--suites-dir", type=Path, default=Path("suites"), help="where suite.yaml files are")
    gate.add_argument("--no-mlflow", action="store_true", help="do not tag the MLflow runs gate=pass/fail")
    gate.add_argument(
        "--require-baseline",
        action="store_true",
        help="fail a (suite, system) that has no baseline (default: reported as not gated)",
    )
    gate.add_argument("--json", action="store_true", help="one JSON document on stdout (gate.md to stderr)")
    promote = commands.add_parser("baseline", help="promote the latest runs to <reports-dir>/baselines/")
    promote.add_argument("--mlflow", action="store_true", help="tag their MLflow runs baseline=true instead")
    for sub in (gate, promote):
        sub.add_argument("--suite", help="only this suite")
        sub.add_argument("--system", help="only this system")
        sub.add_argument("--reports-dir", type=Path, default=Path("reports"), help="where run folders are")
    compare = commands.add_parser(
        "compare",
        help="the verdict: which system wins on which metric, by how much and how sure, per suite",
    )
    compare.add_argument(
        "run_folders",
        nargs="*",
        type=Path,
        help="run folders to compare (default: the latest of each system)",
    )
    compare.add_argument("--suite", action="append", default=[], help="only this suite (repeatable)")
    compare.add_argument("--reports-dir", type=Path, default=Path("reports"), help="where run folders are")
    compare.add_argument("--suites-dir", type=Path, default=Path("suites"), help="where suites live")
    compare.add_argument("--json", action="store_true", help="print the whole verdict as one JSON object")
    compare.add_argument("--brief", action="store_true", help="leave out the table of every comparison")
    compare.add_argument(
        "--no-overlap", action="store_true", help="skip the train/test overlap (no suite loading, no MiniLM)"
    )
    report = commands.add_parser("report", help="write index.html and index.md of the latest runs")
    report.add_argument("--reports-dir", type=Path, default=Path("reports"), help="where run folders are")
    report.add_argument("--out", type=Path, help="folder for the report (default: <reports-dir>/latest)")
    init = commands.add_parser(
        "init", help="start a project here: harness.toml, suites/ with a tiny example, systems/"
    )
    init.add_argument("folder", nargs="?", type=Path, default=Path("."), help="where (default: here)")
    init.add_argument(
        "--pyproject",
        action="store_true",
        help="put the settings in pyproject.toml's [tool.harness] table instead of harness.toml",
    )
    from harness.cli_calibrate import add_parser as add_calibrate

    add_calibrate(commands)
    return parser


def _version() -> str:
    from harness import __version__

    return __version__


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every subcommand's parser, nested ones included."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += [sub, *_subparsers(sub)]
    return found


def _add_verbosity(parser: argparse.ArgumentParser) -> None:
    """-q / -v, before or after the subcommand (every subcommand, including ones added later)."""
    for number, sub in enumerate([parser, *_subparsers(parser)]):
        group = sub.add_mutually_exclusive_group()
        # the subcommands' copies default to SUPPRESS, so they do not undo a -v given before the command
        default = 0 if number == 0 else argparse.SUPPRESS
        group.add_argument(
            "-v", "--verbose", action="count", default=default, help="library logs and bars too (-vv: debug)"
        )
        group.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            default=False if number == 0 else argparse.SUPPRESS,
            help="no stage lines: results, warnings and errors only",
        )


def _project_defaults(parser: argparse.ArgumentParser, project: "Project") -> None:
    """Default folders (and the bench profile) come from the project root, not the working directory."""
    defaults = {
        "suites_dir": project.suites_dir,
        "systems_dir": project.systems_dir,
        "reports_dir": project.reports_dir,
        "profile": project.profile,
    }
    for sub in _subparsers(parser):
        for action in sub._actions:
            if action.dest in defaults and action.default is not None:
                action.default = defaults[action.dest]


def suite_path(name: str, suites_dir: Path) -> Path:
    path = Path(name)
    if path.exists():
        return path
    candidate = suites_dir / name
    if not candidate.exists():
        known = [p.parent.name for p in sorted(suites_dir.glob("*/suite.yaml"))]
        raise InputError(
            str(candidate), f"no such suite{did_you_mean(name, known)} (available: {', '.join(known)})"
        )
    return candidate


def system_path(name: str, systems_dir: Path) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    candidate = systems_dir / f"{name}.yaml"
    if not candidate.exists():
        known = [p.stem for p in sorted(systems_dir.glob("*.yaml"))]
        raise InputError(
            str(candidate), f"no such system{did_you_mean(name, known)} (available: {', '.join(known)})"
        )
    return candidate


def all_suites(suites_dir: Path) -> list[Path]:
    return sorted(path.parent for path in suites_dir.glob("*/suite.yaml"))


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
    problem = None if args.dry_run else _missing_key(hosted)  # an estimate sends nothing: no key needed
    if problem is not None:
        if named:
            raise InputError(f"{suite.path}/suite.yaml", problem)
        print(f"{left_out}: {problem}", file=sys.stderr)
        return False
    return True


# Judges that send the answers to a server (which may be a third party's, and may cost money).
HOSTED_JUDGES = ("gemini:", "openai:")


def _missing_key(refs: Sequence[str]) -> str | None:
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


def _execute(args: argparse.Namespace, suite_dirs: list[Path], system_files: list[Path], named: bool) -> int:
    """Run every (suite, system). `named`: the suites were named on the command line."""
    from harness.cache import Cache
    from harness.privacy import api_key
    from harness.progress import PROGRESS
    from harness.report import load_report
    from harness.runner import check_before_running, failed_runs, limited, run
    from harness.suite import load_suite
    from harness.system import load_system_spec

    # Validate everything before running anything: a typo in the last file should not cost a bench.
    suites = [load_suite(path) for path in suite_dirs]
    specs = [load_system_spec(path) for path in system_files]
    cache = Cache(enabled=not args.no_cache)
    judging = {suite.name: use_judge(args, suite, specs, named) for suite in suites}
    from harness.tables import check_metrics

    check_metrics([list(suite.metrics) for suite in suites], args.metric)  # before running, not after
    if args.dry_run:
        args.json_document = {"dry_run": True, "estimate": "printed as a table on stderr; nothing was sent"}
        return _dry_run([limited(suite, args.limit) for suite in suites], specs, cache, judging)
    for spec, path in zip(specs, system_files, strict=True):
        if spec.generator.model.startswith("gemini:") and api_key() is None:
            raise InputError(str(path), f"{spec.generator.model} needs GOOGLE_API_KEY (or GEMINI_API_KEY)")
    check_before_running(suites, specs, args.reports_dir)  # after the key checks: it creates the folder
    if not args.no_mlflow:  # a store that does not answer fails now, not after the whole bench
        from harness.tracking import check_store

        check_store()
    bench_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    runs = []
    PROGRESS.begin(len(suites) * len(specs))
    for suite in suites:
        for spec in specs:
            report, folder = run(
                suite,
                spec,
                cache,
                args.reports_dir,
                workers=args.workers,
                use_judge=judging[suite.name],
                limit=args.limit,
            )
            runs.append((report, load_report(folder)[1], folder))
            PROGRESS.say(f"saved {folder}")
    PROGRESS.after_runs()
    from harness.tables import comparison_tables

    print(comparison_tables([report for report, _, _ in runs], args.metric))
    print(
        "\n± is the half-width of the 95% bootstrap interval; "
        "* marks a metric with unscored cases (see summary.md)."
    )
    _print_usage([report for report, _, _ in runs])
    from harness.verdict import render_text, to_json, verdicts_for

    with PROGRESS.stage("verdict", "comparing the systems (paired tests, overlap)"):
        verdicts = verdicts_for([(report, records) for report, records, _ in runs], cache)
    logged = _log(args, runs, bench_id, verdicts)
    with PROGRESS.stage("report", "writing the report"):
        site = write_report(args.reports_dir, verdicts=verdicts)
    print(f"\nreport: {site}")
    # The answer to the question the bench was run for comes last, where the eye lands.
    print("\n" + "\n\n".join(render_text(verdict) for verdict in verdicts))
    print("\nEvery comparison with its interval and p-value: harness compare (or --json)")
    if PROGRESS.level and PROGRESS.summary():
        print("\n" + PROGRESS.summary_text(), file=sys.stderr)
    failed = failed_runs([report for report, _, _ in runs])
    args.json_document = {
        "bench_id": bench_id,
        "runs": [_run_json(report, folder) for report, _, folder in runs],
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


def _run_json(report: "Report", folder: Path) -> dict[str, object]:
    """One run for --json: where it is, what it saw, each metric's mean and interval, its stage times."""
    return {
        "suite": report.suite["name"],
        "suite_version": report.suite["version"],
        "system": report.system["name"],
        "kind": report.system["kind"],
        "run_id": report.run_id,
        "folder": str(folder),
        "n_cases": report.n_cases,
        "n_errors": report.n_errors,
        "limit": report.suite.get("limit"),
        "metrics": {
            name: summary.model_dump(
                mode="json", include={"mean", "ci_low", "ci_high", "n_scored", "n_unscored"}
            )
            for name, summary in report.summary.items()
        },
        "timings_s": report.timings,
    }


def _log(
    args: argparse.Namespace,
    runs: list,  # type: ignore[type-arg]
    bench_id: str,
    verdicts: Sequence["SuiteVerdict"] = (),
) -> dict[str, object] | None:
    if args.no_mlflow:
        return None
    from harness.progress import PROGRESS
    from harness.tracking import log_bench, tracking_uri
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
    from harness.tracking_store import shown

    return {"tracking_uri": shown(tracking_uri()), "runs": {str(k): run_id for k, run_id in run_ids.items()}}


def _print_usage(reports: Sequence["Report"]) -> None:
    """Tokens and cost per run, per metric and per system, and what was actually sent."""
    from harness.report import usage_rows

    lines = []
    spent = requests = limited = cached = 0.0
    for report in reports:
        for row in usage_rows(report):
            lines.append(
                f"  {report.suite['name']} × {report.system['name']}: {row[0]}: {row[1]} calls, "
                f"{row[2]} in / {row[3]} out tokens, {row[4]}"
            )
        sent = report.usage.get("sent_total") or {}
        spent += sent.get("cost_usd", 0)
        requests += sent.get("requests", 0)
        limited += sent.get("rate_limited", 0)
        cached += sent.get("cached", 0)
    if lines or requests or cached:
        print("\nTokens and cost (what producing these answers and scores costs, cached or not):")
        print("\n".join(lines))
        print(
            f"Sent this bench: {int(requests)} requests, {int(limited)} answered 429, "
            f"{int(cached)} calls from the cache; ${spent:.4f} spent."
        )


def _dry_run(
    suites: Sequence["Suite"], specs: Sequence["SystemSpec"], cache: "Cache", judging: dict[str, bool]
) -> int:
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


def _score(args: argparse.Namespace) -> int:
    from harness.cache import Cache
    from harness.metrics import build_metrics
    from harness.report import comparison_table, load_report
    from harness.runner import score_answers
    from harness.suite import JudgeSpec, load_suite
    from harness.system import Answer, SystemSpec

    previous, records = load_report(args.run_folder)
    suite = load_suite(previous.suite["path"])
    if suite.hash != previous.suite["hash"]:
        raise InputError(
            f"{suite.path}/suite.yaml",
            f"the suite changed since run {previous.run_id}: its answers no longer match",
        )
    spec = SystemSpec.model_validate(previous.system["spec"])
    if spec.hash != previous.system["hash"]:  # a prompt template or a python: system's code was edited
        raise InputError(
            str(args.run_folder),
            f"system '{spec.name}' changed since run {previous.run_id} (its prompt or code): "
            "its answers are not this system's; run it again instead",
        )
    judge = suite.judge
    if args.judge_model:
        embeddings = args.judge_embeddings or (judge.embeddings if judge else "offline:minilm")
        judge = JudgeSpec(model=args.judge_model, embeddings=embeddings, temperature=args.judge_temperature)
    elif args.judge_embeddings and judge is not None:
        judge = judge.model_copy(update={"embeddings": args.judge_embeddings})
    cache = Cache(enabled=not args.no_cache)
    metrics = build_metrics(suite, cache, judge, args.metric or None, use_judge=not args.no_judge)
    by_id = {record.case_id: record for record in records}
    answers = [
        Answer(
            case_id=case.id,
            text=by_id[case.id].answer,
            contexts=None if by_id[case.id].contexts is None else tuple(by_id[case.id].contexts or ()),
            latency_s=by_id[case.id].latency_s,
            usage=by_id[case.id].usage,
            error=by_id[case.id].error,
            ranking=by_id[case.id].ranking,
        )
        for case in suite.test
    ]
    if args.dry_run:
        from harness.estimate import estimate, render

        print(render(estimate(suite, spec, cache, metrics, {answer.case_id: answer for answer in answers})))
        print("\ndry run: estimates only, nothing was sent")
        return 0
    report, folder = score_answers(
        suite,
        spec,
        answers,
        metrics,
        cache,
        args.reports_dir,
        args.workers,
        stats={"answers_computed": 0, "answers_cached": len(answers)},
        training=previous.training,
    )
    print(f"re-scored {previous.run_id} -> {folder}", file=sys.stderr)
    print(comparison_table([report]))
    _print_usage([report])
    bench_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    _log(args, [(report, load_report(folder)[1], folder)], bench_id)
    return 0


def write_report(reports_dir: Path, out: Path | None = None, verdicts: Sequence["SuiteVerdict"] = ()) -> Path:
    """The static report of the latest run of each (suite, system): the same runs the gate compares.

    `verdicts` already computed for exactly these runs (a bench's) are reused; the others are computed.
    """
    from harness.baseline import latest_runs
    from harness.cache import Cache
    from harness.report import load_report
    from harness.site import write_site
    from harness.verdict import verdicts_for

    runs = [load_report(folder) for folder in latest_runs(reports_dir)]
    ready = {v.suite: v for v in verdicts}
    found = []
    for suite in dict.fromkeys(report.suite["name"] for report, _ in runs):
        group = [run for run in runs if run[0].suite["name"] == suite]
        if suite in ready and ready[suite].runs == {r.system["name"]: r.run_id for r, _ in group}:
            found.append(ready[suite])
        else:
            try:
                found += verdicts_for(group, Cache())
            except InputError as err:  # e.g. latest runs of two suite versions: the page says why
                print(f"{suite}: no verdict in the report: {err}", file=sys.stderr)
    return write_site(runs, out or reports_dir / "latest", reports_dir / "baselines", found)


def _compare(args: argparse.Namespace) -> int:
    from harness.baseline import latest_runs
    from harness.cache import Cache
    from harness.report import load_report
    from harness.verdict import render_text, to_json, verdicts_for

    if args.run_folders:
        if args.suite:
            raise InputError("--suite", "name run folders or --suite, not both")
        folders = list(args.run_folders)
    else:
        folders = []
        for name in args.suite or [None]:
            try:
                folders += latest_runs(args.reports_dir, name)
            except InputError:
                if name is None:
                    raise
                known = sorted({p.parent.name for p in args.suites_dir.glob("*/suite.yaml")})
                raise InputError(
                    "--suite",
                    f"no finished runs of suite '{name}'{did_you_mean(name, known)} in "
                    f"{args.reports_dir / 'runs'} (suites: {', '.join(known) or 'none'})",
                ) from None
    runs = [load_report(folder) for folder in folders]
    verdicts = verdicts_for(runs, Cache(), overlap=not args.no_overlap)
    if args.json:
        args.json_document = to_json(verdicts)
    else:
        print("\n\n".join(render_text(verdict, full=not args.brief) for verdict in verdicts))
    return 0


def _report(args: argparse.Namespace) -> int:
    print(write_report(args.reports_dir, args.out))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from harness.system import load_system_spec

    suite_dirs = [suite_path(name, args.suites_dir) for name in args.suite] or all_suites(args.suites_dir)
    if args.system:
        system_files = [system_path(name, args.systems_dir) for name in args.system]
    else:
        system_files = [
            path
            for path in sorted(args.systems_dir.glob("*.yaml"))
            if load_system_spec(path).profile == args.profile
        ]
    if not suite_dirs:
        raise InputError(str(args.suites_dir), "no suites found (expected <name>/suite.yaml)")
    if not system_files:
        raise InputError(str(args.systems_dir), f"no systems with profile '{args.profile}'")
    return _execute(args, suite_dirs, system_files, named=bool(args.suite))


def _run(args: argparse.Namespace) -> int:
    return _execute(
        args, [suite_path(args.suite, args.suites_dir)], [system_path(args.system, args.systems_dir)], True
    )


def _suites_validate(args: argparse.Namespace) -> int:
    from harness.suite import load_suite

    paths = [suite_path(name, args.suites_dir) for name in args.names] or all_suites(args.suites_dir)
    if not paths:  # nothing validated is not "valid": say where no suite was found
        folder = args.suites_dir
        what = "not a folder" if folder.exists() and not folder.is_dir() else "no suites found"
        raise InputError(str(args.suites_dir), f"{what} (expected <name>/suite.yaml)")
    found = []
    for path in paths:
        suite = load_suite(path)
        print(
            f"ok  {suite.name} v{suite.version}: {len(suite.corpus)} passages, "
            f"{len(suite.train)} train, {len(suite.test)} test"
        )
        found.append(
            {
                "name": suite.name,
                "version": suite.version,
                "path": str(path),
                "hash": suite.hash,
                "passages": len(suite.corpus),
                "train": len(suite.train),
                "test": len(suite.test),
            }
        )
    args.json_document = {"valid": True, "suites": found}
    return 0


def _systems_validate(args: argparse.Namespace) -> int:
    from harness.system import load_system_spec

    paths = [system_path(name, args.systems_dir) for name in args.names] or sorted(
        args.systems_dir.glob("*.yaml")
    )
    for path in paths:
        spec = load_system_spec(path)
        print(f"ok  {spec.name} ({spec.kind}, profile {spec.profile}): {spec.label}")
    return 0


def _gate(args: argparse.Namespace) -> int:
    from harness.gate import MissingBaseline, gate_latest, tag_runs
    from harness.gate_report import gate_markdown, write_gate_files

    missing: MissingBaseline = "fail" if args.require_baseline else "not gated"
    results = gate_latest(args.reports_dir, args.baseline, args.suite, args.system, args.suites_dir, missing)
    print(gate_markdown(results))
    paths = write_gate_files(results, args.out or args.reports_dir / "latest")
    print(f"wrote {paths[0]} and {paths[1]}", file=sys.stderr)
    if not args.no_mlflow:
        for problem in tag_runs(results):
            print(f"not tagged gate=pass/fail: {problem}", file=sys.stderr)
    passed = all(result.passed for result in results)
    args.json_document = {
        "passed": passed,
        "results": [{**result.model_dump(mode="json"), "passed": result.passed} for result in results],
        "files": [str(path) for path in paths],
    }
    return 0 if passed else 1


def _baseline(args: argparse.Namespace) -> int:
    from harness.baseline import mark_in_mlflow, promote

    if args.mlflow:
        for run_id in mark_in_mlflow(args.reports_dir, args.suite, args.system):
            print(f"tagged baseline=true in MLflow: {run_id}")
        return 0
    for path in promote(args.reports_dir, args.suite, args.system):
        print(f"promoted {path}")
    print("review and commit them: later runs are gated against these", file=sys.stderr)
    return 0


def _init(args: argparse.Namespace) -> int:
    from harness.project import init_project

    for line in init_project(args.folder, pyproject=args.pyproject):
        print(line)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from harness.progress import PROGRESS, quiet_libraries
    from harness.project import activate, find_project

    parser = _parser()
    _add_verbosity(parser)
    try:
        project = find_project()
    except InputError as err:  # a broken harness.toml: say so, and still parse (--help, --version work)
        project, broken = None, err
    if project is not None:
        _project_defaults(parser, project)
    raw = list(sys.argv[1:] if argv is None else argv)
    _Parser.last_error = None
    try:
        args = parser.parse_args(raw)
    except SystemExit as done:  # a bad argument: with --json the document still says so on stdout
        if done.code == 2 and "--json" in raw and _Parser.last_error:
            print(json.dumps({"error": scrub(_Parser.last_error), "exit_code": 2}))
        raise
    verbosity = 0 if args.quiet else 1 + args.verbose
    quiet_libraries(verbosity)
    PROGRESS.configure(verbosity)
    # A key in any library's log line is redacted, whichever handler prints it.
    for handler in [*logging.getLogger().handlers, logging.lastResort]:
        if handler is not None and not any(isinstance(f, ScrubFilter) for f in handler.filters):
            handler.addFilter(ScrubFilter())
    if project is None and args.command != "init":
        print(scrub(f"error: {broken}"), file=sys.stderr)
        return _json_error(args, str(broken), 2)
    if project is not None:
        activate(project)
    if not getattr(args, "json", False):
        return _dispatch(args)
    # --json: one JSON document on stdout; everything a command prints for people goes to stderr
    real_stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        code = _dispatch(args)
    document = getattr(args, "json_document", None)
    if document is None:
        return _json_error(args, "no result (see stderr)", code, real_stdout)
    print(json.dumps(document, indent=2, ensure_ascii=False), file=real_stdout)
    return code


def _json_error(args: argparse.Namespace, message: str, code: int, stream: TextIO | None = None) -> int:
    """With --json, a failed command still prints one JSON document: what went wrong and its exit code."""
    if getattr(args, "json", False):
        print(json.dumps({"error": scrub(message), "exit_code": code}), file=stream or sys.stdout)
    return code


def _calibrate(args: argparse.Namespace) -> int:
    from harness.cli_calibrate import run as calibrate

    return calibrate(args)


def _dispatch(args: argparse.Namespace) -> int:
    handlers = {
        "bench": _bench,
        "run": _run,
        "score": _score,
        "gate": _gate,
        "baseline": _baseline,
        "report": _report,
        "compare": _compare,
        "init": _init,
        "calibrate": _calibrate,
    }
    debug = os.environ.get("HARNESS_DEBUG") == "1"
    try:
        if getattr(args, "workers", 1) < 1:  # caught here, not after indexing and training
            raise InputError("--workers", f"must be at least 1, got {args.workers}")
        if args.command == "suites" and args.action in SUITEGEN_ACTIONS:
            return suitegen_command(args)
        if args.command == "suites":
            return suites_import(args) if args.action == "import" else _suites_validate(args)
        if args.command == "systems":
            return _systems_validate(args)
        return handlers[args.command](args)
    except InputError as err:
        if debug:
            traceback.print_exc()
        print(scrub(f"error: {err}"), file=sys.stderr)
        args.json_document = {"error": scrub(str(err)), "exit_code": 2}
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished cases are cached; run again to resume", file=sys.stderr)
        args.json_document = {"error": "interrupted", "exit_code": 130}
        return 130
    except OSError as err:  # the environment: a folder not writable, a disk full, a file vanished
        if debug:
            raise
        where = err.filename or type(err).__name__
        print(scrub(f"error: {where}: {err.strerror or err}"), file=sys.stderr)
        args.json_document = {"error": scrub(f"{where}: {err.strerror or err}"), "exit_code": 2}
        return 2
    except Exception as err:  # a bug: one line (HARNESS_DEBUG=1 shows the traceback), not 100
        if debug:
            raise
        detail = (str(err).strip().splitlines() or [""])[0][:300]
        print(
            scrub(f"error: unexpected {type(err).__name__}: {detail} (HARNESS_DEBUG=1 shows the traceback)"),
            file=sys.stderr,
        )
        args.json_document = {"error": scrub(f"unexpected {type(err).__name__}: {detail}"), "exit_code": 1}
        return 1


if __name__ == "__main__":
    sys.exit(main())
