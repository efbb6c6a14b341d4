"""A metric's identity (as the score cache knows it), and the latest calibration saved for it.

The verdict, the report and the gate ask `note(...)` what to print beside a judged metric: the headline
figure of the latest `harness calibrate` of that exact identity (name, version, judge, parameters), or
"not calibrated".
"""

import json
import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from harness.hashing import digest

SETTING = "HARNESS_CALIBRATION_DIR"
LABELS = {
    "auroc": "AUROC",
    "spearman": "Spearman",
    "agreement": "pairwise agreement",
}
_JUDGE = re.compile(r"^(?P<model>.+)@t=(?P<temperature>[0-9.e+-]+)\+(?P<embeddings>.+)$")


def calibration_dir(reports_dir: Path | None = None) -> Path:
    """Where calibrations are kept: <reports-dir>/calibration; readers without a reports folder use
    HARNESS_CALIBRATION_DIR, else the project's reports folder (harness.toml), else reports/ here."""
    if reports_dir is not None:
        return reports_dir / "calibration"
    if os.environ.get(SETTING):
        return Path(os.environ[SETTING])
    try:
        from harness.project import find_project

        return find_project().reports_dir / "calibration"
    except Exception:  # no project module, or a broken harness.toml (the command reports that itself)
        return Path("reports") / "calibration"


def identity(metric: Any) -> str:
    """The digest of what the score cache keys a metric's scores by (Metric.identity)."""
    return digest(metric.identity())


def describe(metric: Any) -> dict[str, Any]:
    name, version, judge, params = metric.identity()
    return {"name": name, "version": version, "judge": judge, "params": params}


def judge_spec(judge: str) -> Any:
    """The JudgeSpec behind a judge identity string (`model@t=0+embeddings`), or None if it is not one."""
    from harness.suite import JudgeSpec

    found = _JUDGE.match(judge)
    if found is None:
        return None
    try:
        return JudgeSpec(
            model=found["model"], embeddings=found["embeddings"], temperature=float(found["temperature"])
        )
    except ValueError:
        return None


def rebuild(name: str, judge: str, settings: dict[str, Any] | None = None) -> Any:
    """The metric a run of a suite with these suite.yaml `settings` (abstention, format, k) built for
    `name`, graded by `judge`; None for a name the harness does not know or a judge it cannot read."""
    from harness.metrics import METRICS
    from harness.metrics.judged import JUDGED, RagasMetric

    settings = settings or {}
    if name in JUDGED:
        spec = judge_spec(judge)
        return RagasMetric(name, spec, None) if spec is not None else None
    if name not in METRICS:
        return None
    suite = SimpleNamespace(
        k=settings.get("k", 5), abstention=settings.get("abstention"), format=settings.get("format")
    )
    try:
        return METRICS[name](suite)  # type: ignore[arg-type]
    except Exception:  # e.g. a format that no longer compiles: no identity, so no calibration
        return None


def suite_settings(suite_yaml: Path | None) -> dict[str, Any]:
    """The suite.yaml keys a metric's parameters come from; {} when the file cannot be read."""
    if suite_yaml is None or not suite_yaml.is_file():
        return {}
    try:
        import yaml

        raw = yaml.safe_load(suite_yaml.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {key: raw[key] for key in ("k", "abstention", "format") if key in raw}


def latest(metric: Any, reports_dir: Path | None = None) -> dict[str, Any] | None:
    """The latest calibration saved for this metric object's exact identity, or None."""
    path = calibration_dir(reports_dir) / "latest" / f"{metric.name}__{identity(metric)}.json"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def headline_text(entry: dict[str, Any]) -> str:
    """`pairwise agreement 0.55 [0.49, 0.61] on ragchecker-meta (280 items), agrees poorly`."""
    head = entry.get("headline") or {}
    label = LABELS.get(head.get("figure", ""), head.get("figure", "?"))
    value = head.get("value")
    if value is None:
        text = f"{label} undefined on {entry.get('labels', '?')}"
    else:
        low, high = head.get("ci_low"), head.get("ci_high")
        interval = f" [{low:.2f}, {high:.2f}]" if low is not None and high is not None else ""
        text = f"{label} {value:.2f}{interval} on {entry.get('labels', '?')} ({head.get('n_items', 0)} items)"
    return text + (", agrees poorly with people" if head.get("agrees_poorly") else "")


def note(
    name: str, judge: str, suite_yaml: Path | None = None, reports_dir: Path | None = None
) -> str | None:
    """What to print beside metric `name` graded by `judge` in a run of the suite at `suite_yaml`:
    its latest calibration, "not calibrated", or None for a metric without a judge (lexical metrics)."""
    if not judge:
        return None
    metric = rebuild(name, judge, suite_settings(suite_yaml))
    if metric is None or metric.judge != judge:
        return "not calibrated"
    entry = latest(metric, reports_dir)
    return headline_text(entry) if entry else "not calibrated"


def notes_for(
    summaries: dict[str, Any], suite_yaml: Path | None = None, reports_dir: Path | None = None
) -> dict[str, str]:
    """{metric: note} for every judged metric of a run summary ({name: MetricSummary or dict})."""
    found = {}
    for name, summary in summaries.items():
        judge = summary.get("judge", "") if isinstance(summary, dict) else getattr(summary, "judge", "")
        text = note(name, judge or "", suite_yaml, reports_dir)
        if text is not None:
            found[name] = text
    return found


def sentence(summaries: dict[str, Any], suite_yaml: Path | None = None) -> list[str]:
    """The verdict's calibration sentence (empty when no metric has a judge)."""
    found = notes_for(summaries, suite_yaml)
    if not found:
        return []
    return ["Calibration against human labels: " + "; ".join(f"{m}: {t}" for m, t in found.items()) + "."]


def suite_notes(suite: str, names: list[str], suites_dir: Path | None = None) -> list[str]:
    """For the gate, which knows a run's suite and metric names: one line naming the calibration of each
    judged metric (its judge read from the suite's suite.yaml), or [] when none has a judge."""
    from harness.metrics.judged import JUDGED, judge_identity

    if suites_dir is None:
        try:
            from harness.project import find_project

            suites_dir = find_project().suites_dir
        except Exception:  # a broken harness.toml: the command reports it; look in suites/ here
            suites_dir = Path("suites")
    suite_yaml = suites_dir / suite / "suite.yaml"
    found = {}
    for name in names:
        if name in JUDGED:
            spec = _judge_block(suite_yaml)
            judge = judge_identity(spec) if spec is not None else "unknown judge"
        else:
            metric = rebuild(name, "", suite_settings(suite_yaml))
            judge = getattr(metric, "judge", "") if metric is not None else ""
        text = note(name, judge, suite_yaml)
        if text is not None:
            found[name] = text
    if not found:
        return []
    return ["calibration against human labels: " + "; ".join(f"{m}: {t}" for m, t in found.items())]


def _judge_block(suite_yaml: Path) -> Any:
    from harness.suite import JudgeSpec

    try:
        import yaml

        raw = yaml.safe_load(suite_yaml.read_text(encoding="utf-8"))
        return JudgeSpec.model_validate(raw["judge"])
    except Exception:  # no file, no judge block, or one that does not validate: the judge is unknown
        return None
