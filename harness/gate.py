"""The regression gate: the latest runs against their baselines, under suite.yaml's metric policies.

Over 300 lines for one reason: the policies, the per-metric paired check and the per-run outcome read one
another's types; split, each part would be under 150 lines that import the others."""

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from harness.baseline import Baseline, baseline_file, latest_runs, load_baseline, mlflow_baseline
from harness.errors import InputError
from harness.report import MetricSummary, Report, Run, format_value, load_run
from harness.stats import bootstrap_ci, concentrated_floor
from harness.suite import MetricPolicy, SuiteFile
from harness.yamlfile import explain, read_yaml

Verdict = Literal["pass", "fail", "info"]


class Check(BaseModel):
    """One metric of one (suite, system): baseline vs now, the paired drop with its interval, the verdict."""

    model_config = ConfigDict(frozen=True)
    metric: str
    verdict: Verdict
    why: str
    policy: MetricPolicy | None
    higher_is_better: bool | None
    baseline_mean: float | None
    mean: float | None
    drop: float | None  # mean over paired cases of how much worse each got (positive = worse)
    drop_low: float | None
    drop_high: float | None
    detectable: float | None
    n_paired: int
    newly_unscored: tuple[str, ...]
    newly_scored: int


class GateResult(BaseModel):
    """The gate's verdict on one (suite, system) run."""

    model_config = ConfigDict(frozen=True)
    suite: str
    version: int
    system: str
    run_id: str
    baseline: str
    n_cases: int
    notes: tuple[str, ...]
    checks: tuple[Check, ...]
    gated: bool = True  # False: no baseline to compare with, so no check ran
    required: bool = False  # a missing baseline fails (--require-baseline)

    @property
    def passed(self) -> bool:
        if not self.gated:
            return not self.required
        return all(check.verdict != "fail" for check in self.checks)


def load_policies(report: Report, suites_dir: Path) -> dict[str, MetricPolicy]:
    """The metric policies of the run's suite, from its suite.yaml as it is now (same version required)."""
    name, version = report.suite.name, report.suite.version
    candidates = [Path(report.suite.path) / "suite.yaml", suites_dir / name / "suite.yaml"]
    path = next((p for p in candidates if p.is_file()), candidates[-1])
    try:
        spec = SuiteFile.model_validate(read_yaml(path))
    except ValidationError as err:
        raise explain(path, err) from None
    if spec.name != name or spec.version != version:
        raise InputError(
            str(path),
            f"is {spec.name} v{spec.version} but run {report.run_id} is {name} v{version}: run it again",
        )
    return spec.metrics


def check_metric(
    name: str,
    policy: MetricPolicy | None,
    now: MetricSummary,
    then: MetricSummary | None,
    now_values: dict[str, float | None],
    then_values: dict[str, float | None],
) -> Check:
    """Compare one metric: the floor on the current mean, and the drop tested by a paired bootstrap."""
    if policy is not None and policy.min is None and policy.max_drop is None:
        policy = None  # `{}` in suite.yaml: reported, not gated
    if now.higher_is_better is None:  # no better direction (answer_tokens): a change is neither drop nor gain
        policy = None
    paired = [
        cid for cid, value in then_values.items() if value is not None and now_values.get(cid) is not None
    ]
    lost = tuple(
        cid for cid, value in then_values.items() if value is not None and now_values.get(cid) is None
    )
    gained = sum(1 for cid, value in then_values.items() if value is None and now_values.get(cid) is not None)
    sign = 1.0 if now.higher_is_better else -1.0
    diffs = [sign * (then_values[cid] - now_values[cid]) for cid in paired]  # type: ignore[operator]
    if now.higher_is_better is None:
        diffs = []
    drop = low = high = detectable = None
    if diffs:
        drop = float(np.mean(diffs))
        low, high = bootstrap_ci(diffs)
    if then is not None and then.mean is not None:
        noise = ((then.ci_high or 0.0) - (then.ci_low or 0.0)) / 2
        if noise == 0:  # every baseline case scored the same: only some cases changing can move the mean
            noise = concentrated_floor(len(paired) or then.n_scored)
        detectable = max(noise, policy.max_drop or 0.0) if policy else noise
    fails: list[str] = []
    notes: list[str] = []
    # Unscored everywhere (e.g. hit_at_k for a closed-book system) means "does not apply", not "below
    # the floor"; scores lost since the baseline are caught by the `lost` rule below.
    applicable = now.mean is not None or (then is not None and then.mean is not None)
    if not applicable:
        reason = next(iter(now.unscored_reasons), "no case scored")
        notes.append(f"not applicable: every case unscored ({reason})")
    if policy and applicable and policy.min is not None and (now.mean is None or now.mean < policy.min):
        fails.append(f"mean {format_value(now.mean, name)} is below the floor {policy.min:g}")
    if policy and policy.max_drop is not None and drop is not None and drop > policy.max_drop:
        if len(diffs) >= 2 and low is not None and low > 0:
            fails.append(f"drop {drop:.3f} > max_drop {policy.max_drop:g} and its 95% interval is above 0")
        else:
            notes.append(
                f"drop {drop:.3f} > max_drop {policy.max_drop:g} but within noise (interval reaches 0)"
            )
    if lost:
        shown = ", ".join(lost[:5]) + (", ..." if len(lost) > 5 else "")
        text = f"{len(lost)} case(s) scored in the baseline are unscored now ({shown})"
        (fails if policy else notes).append(text)
    if gained:
        notes.append(f"{gained} case(s) unscored in the baseline are scored now")
    if then is None:
        notes.append("not in the baseline")
    if now.higher_is_better is None:
        notes.append("no better direction: shown, never gated")
    elif policy is None:
        notes.append("no policy in suite.yaml: shown, never fails")
    verdict: Verdict = "fail" if fails else ("pass" if policy and applicable else "info")
    return Check(
        metric=name,
        verdict=verdict,
        why="; ".join(fails + notes),
        policy=policy,
        higher_is_better=now.higher_is_better,
        baseline_mean=then.mean if then else None,
        mean=now.mean,
        drop=drop,
        drop_low=low,
        drop_high=high,
        detectable=detectable,
        n_paired=len(paired),
        newly_unscored=lost,
        newly_scored=gained,
    )


def _few(ids: set[str]) -> str:
    return ", ".join(sorted(ids)[:3]) + (", ..." if len(ids) > 3 else "")


def gate(run: Run, baseline: Baseline, policies: dict[str, MetricPolicy]) -> GateResult:
    """Checks for one run against its baseline. Refuses (InputError) to compare what is not comparable."""
    report, records = run.report, run.records
    then = baseline.report
    where = baseline.source
    suite, version = report.suite.name, report.suite.version
    if then.suite.name != suite or then.system.name != report.system.name:
        raise InputError(
            where, f"is the baseline of {then.suite.name} × {then.system.name}, not of {report.run_id}"
        )
    if then.suite.version != version:
        raise InputError(
            where,
            f"baseline is {suite} v{then.suite.version}, the run is v{version}: results compare only "
            "within a suite version (promote a new baseline with `make baseline`)",
        )
    if sorted(then.judges) != sorted(report.judges):
        raise InputError(
            where,
            f"baseline was judged by [{', '.join(then.judges)}], the run by [{', '.join(report.judges)}]: "
            "scores from different judges do not compare (promote a new baseline with `make baseline`)",
        )
    if then.suite.limit != report.suite.limit:  # --limit: a quick look, not a measurement
        seen = [f"{r.n_cases} cases (--limit)" if r.suite.limit else "all" for r in (report, then)]
        raise InputError(
            where,
            f"the run saw {seen[0]} of {suite}'s test split, the baseline {seen[1]}: a limited run is "
            "not gated against a full one (run without --limit to gate)",
        )
    now_values = {record.case_id: {m: s.value for m, s in record.scores.items()} for record in records}
    missing, extra = set(baseline.cases) - set(now_values), set(now_values) - set(baseline.cases)
    if missing or extra:
        raise InputError(
            where,
            f"case ids differ: {len(missing)} only in the baseline ({_few(missing)}), {len(extra)} only in "
            f"the run ({_few(extra)}); bump the suite version when cases change",
        )
    notes = [
        f"run {report.run_id} (git {report.git.commit[:12]}) vs baseline run {then.run_id} "
        f"(git {then.git.commit[:12]})"
    ]
    if then.system.hash != report.system.hash:
        notes.append(f"system changed since the baseline: hash {then.system.hash} → {report.system.hash}")
    if then.suite.hash != report.suite.hash:
        notes.append(
            f"suite data changed without a version bump: hash {then.suite.hash} → {report.suite.hash}"
        )
    if dropped := sorted(set(then.summary) - set(report.summary)):
        notes.append(f"in the baseline but not run now: {', '.join(dropped)}")
    n = len(records)
    floor = concentrated_floor(n)
    notes.append(
        f"{n} cases: a drop carried by a few cases that fall from 1 to 0 must exceed {floor:.3f} "
        f"({math.floor(floor * n) + 1} of {n} cases) to be told from chance"
    )
    checks = tuple(
        check_metric(
            name,
            policies.get(name),
            summary,
            then.summary.get(name),
            {cid: values.get(name) for cid, values in now_values.items()},
            {cid: values.get(name) for cid, values in baseline.cases.items()},
        )
        for name, summary in report.summary.items()
    )
    return GateResult(
        suite=suite,
        version=version,
        system=report.system.name,
        run_id=report.run_id,
        baseline=where,
        n_cases=n,
        notes=tuple(notes),
        checks=checks,
    )


MissingBaseline = Literal["raise", "not gated", "fail"]


def gate_latest(
    reports_dir: Path,
    baseline: str | None = None,
    suite: str | None = None,
    system: str | None = None,
    suites_dir: Path = Path("suites"),
    missing_baseline: MissingBaseline = "raise",
) -> list[GateResult]:
    """Gate the newest run of each (suite, system) in reports_dir/runs.

    Args:
        baseline: None for reports_dir/baselines; a baseline file or folder; `mlflow:<run id>`; or `mlflow`
            for the newest MLflow run tagged baseline=true of the same suite and system.
        missing_baseline: what a (suite, system) without a file in the baselines folder gives: an
            InputError ("raise"), a result reported as not gated that passes ("not gated"), or one that
            fails ("fail", the CLI's --require-baseline).
    """
    chosen: Baseline | None = None
    if baseline and baseline.startswith("mlflow:"):
        chosen = mlflow_baseline(baseline.removeprefix("mlflow:"))
    elif baseline and baseline != "mlflow" and not Path(baseline).is_dir():
        chosen = load_baseline(Path(baseline))
    if chosen is not None:  # a single baseline is for one (suite, system): gate that one's latest run
        suite, system = chosen.report.suite.name, chosen.report.system.name
    results = []
    for folder in latest_runs(reports_dir, suite, system):
        run = load_run(folder)
        report = run.report
        names = report.suite.name, report.system.name
        if chosen is not None:
            base = chosen
        elif baseline == "mlflow":
            base = mlflow_baseline(None, *names)
        else:
            path = baseline_file(Path(baseline) if baseline else reports_dir / "baselines", *names)
            if not path.is_file() and missing_baseline != "raise":
                results.append(_not_gated(report, path, required=missing_baseline == "fail"))
                continue
            base = load_baseline(path)
        results.append(gate(run, base, load_policies(report, suites_dir)))
    return results


def _not_gated(report: Report, path: Path, required: bool) -> GateResult:
    why = f"not gated: no baseline at {path} (promote one with `make baseline`, review and commit it)"
    return GateResult(
        suite=report.suite.name,
        version=report.suite.version,
        system=report.system.name,
        run_id=report.run_id,
        baseline=str(path),
        n_cases=report.n_cases,
        notes=(why + ("; --require-baseline makes this a failure" if required else ""),),
        checks=(),
        gated=False,
        required=required,
    )


def tag_runs(results: Sequence[GateResult]) -> list[str]:
    """Tag each gated run in MLflow gate=pass or gate=fail; returns what could not be tagged and why."""
    from harness.tracking import tag_run

    skipped = []
    for result in results:
        verdict = "pass" if result.passed else "fail"
        if not result.gated and not result.required:
            verdict = "not-gated"
        if not tag_run(result.suite, result.run_id, "gate", verdict):
            skipped.append(f"{result.run_id}: not in the MLflow store (run with --no-mlflow?)")
    return skipped
