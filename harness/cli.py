"""The `harness` command: argument parsing and dispatch only; the work happens in the other modules.

Over 300 lines for one reason: the parser of every command and option (about 200 lines of
add_argument with their help texts) lives here, in one place, so `--help` and docs/cli.md have one
source. What each command does is in commands.py, bench.py, rescore.py, cli_suites.py, cli_suitegen.py
and cli_calibrate.py.
"""

import argparse
import contextlib
import json
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from harness import commands as handle
from harness.bench import EXECUTORS, HOSTED_JUDGES, use_judge, write_report
from harness.cli_suitegen import ACTIONS as SUITEGEN_ACTIONS
from harness.cli_suitegen import add_suitegen_parsers, suitegen_command
from harness.cli_suites import add_import_parser, suites_import
from harness.errors import InputError
from harness.privacy import ScrubFilter, scrub
from harness.rescore import score as rescore

if TYPE_CHECKING:
    from harness.project import Project

# Moved to harness/bench.py (#14 step 4); importable from here until the callers move.
__all__ = ["HOSTED_JUDGES", "main", "use_judge", "write_report"]


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

    def add_executor_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--executor",
            choices=EXECUTORS,
            help="where answers and scores are computed: local (this process, the default) or ray (Ray "
            "workers fill the cache first); default: $HARNESS_EXECUTOR, else local",
        )

    bench = commands.add_parser("bench", help="run the profile's systems on every suite (the default matrix)")
    bench.add_argument("--profile", default="offline", help="which systems run (default: offline)")
    bench.add_argument("--suite", action="append", default=[], help="only this suite (repeatable)")
    bench.add_argument("--system", action="append", default=[], help="only this system (repeatable)")
    add_run_options(bench)
    add_executor_option(bench)
    add_view_options(bench)

    run = commands.add_parser("run", help="run one system on one suite")
    run.add_argument("--suite", required=True, help="suite name or folder")
    run.add_argument("--system", required=True, help="system name or YAML file")
    add_run_options(run)
    add_executor_option(run)
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
        "bench": handle.bench,
        "run": handle.run,
        "score": rescore,
        "gate": handle.gate,
        "baseline": handle.baseline,
        "report": handle.report,
        "compare": handle.compare,
        "init": handle.init,
        "calibrate": _calibrate,
    }
    debug = os.environ.get("HARNESS_DEBUG") == "1"
    try:
        if getattr(args, "workers", 1) < 1:  # caught here, not after indexing and training
            raise InputError("--workers", f"must be at least 1, got {args.workers}")
        if args.command == "suites" and args.action in SUITEGEN_ACTIONS:
            return suitegen_command(args)
        if args.command == "suites":
            return suites_import(args) if args.action == "import" else handle.suites_validate(args)
        if args.command == "systems":
            return handle.systems_validate(args)
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
