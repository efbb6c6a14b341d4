"""The commands besides bench and score: what `harness compare`, `report`, `gate`, `baseline`, `init`,
`suites validate` and `systems validate` do with their parsed options (cli.py parses and dispatches;
bench.py runs a bench; rescore.py re-scores a run)."""

import argparse
import sys
from pathlib import Path

from harness.bench import execute, write_report
from harness.errors import InputError
from harness.yamlfile import did_you_mean


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


def compare(args: argparse.Namespace) -> int:
    from harness.baseline import latest_runs
    from harness.cache import Cache
    from harness.report import load_run
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
    verdicts = verdicts_for([load_run(folder) for folder in folders], Cache(), overlap=not args.no_overlap)
    if args.json:
        args.json_document = to_json(verdicts)
    else:
        print("\n\n".join(render_text(verdict, full=not args.brief) for verdict in verdicts))
    return 0


def report(args: argparse.Namespace) -> int:
    print(write_report(args.reports_dir, args.out))
    return 0


def bench(args: argparse.Namespace) -> int:
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
    return execute(args, suite_dirs, system_files, named=bool(args.suite))


def run(args: argparse.Namespace) -> int:
    return execute(
        args, [suite_path(args.suite, args.suites_dir)], [system_path(args.system, args.systems_dir)], True
    )


def suites_validate(args: argparse.Namespace) -> int:
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


def systems_validate(args: argparse.Namespace) -> int:
    from harness.system import load_system_spec

    paths = [system_path(name, args.systems_dir) for name in args.names] or sorted(
        args.systems_dir.glob("*.yaml")
    )
    for path in paths:
        spec = load_system_spec(path)
        print(f"ok  {spec.name} ({spec.kind}, profile {spec.profile}): {spec.label}")
    return 0


def gate(args: argparse.Namespace) -> int:
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


def baseline(args: argparse.Namespace) -> int:
    from harness.baseline import mark_in_mlflow, promote

    if args.mlflow:
        for run_id in mark_in_mlflow(args.reports_dir, args.suite, args.system):
            print(f"tagged baseline=true in MLflow: {run_id}")
        return 0
    for path in promote(args.reports_dir, args.suite, args.system):
        print(f"promoted {path}")
    print("review and commit them: later runs are gated against these", file=sys.stderr)
    return 0


def init(args: argparse.Namespace) -> int:
    from harness.project import init_project

    for line in init_project(args.folder, pyproject=args.pyproject):
        print(line)
    return 0
