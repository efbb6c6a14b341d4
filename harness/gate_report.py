"""The gate's verdicts as files: gate.md, a table to paste into a pull request, and junit.xml for CI."""

from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

from harness.calibration.identity import suite_notes
from harness.files import write_atomic
from harness.gate import Check, GateResult
from harness.metrics import format_change
from harness.report import format_value

HOW_TO_READ = """\
How to read this: Δ is now − baseline. The drop is how much worse each case got (baseline − now, or now −
baseline for lower-is-better metrics such as latency_s), averaged over the cases scored in both runs and
matched by case id; its 95% interval comes from a paired bootstrap over those cases (2000 resamples, fixed
seed). A metric fails when its mean is below `min`, or when its drop exceeds `max_drop` *and* the interval
lies entirely above 0 (a real drop, not noise). A case scored in the baseline but unscored now also fails a
metric that has a policy: unscored cases could otherwise hide a regression. Metrics without a policy (by
default latency_s, which depends on the machine) are shown and never fail. "Detectable drop" is the larger
of `max_drop` and the half-width of the baseline's own 95% interval (or, where every baseline case scored
the same, the few-cases bound in the notes): a smaller drop cannot be told from case-to-case noise on this
many cases, so small suites need larger drops to fail.
"""


def _signed(value: float | None, name: str) -> str:
    if value is None:
        return "n/a"
    value = 0.0 if abs(value) < 1e-9 else value  # no "-0.000" from float noise
    return format_change(value, name)


def _row(c: Check) -> list[str]:
    delta = None if c.mean is None or c.baseline_mean is None else c.mean - c.baseline_mean
    drop = _signed(c.drop, c.metric)
    if c.drop is not None:
        drop += f" [{_signed(c.drop_low, c.metric)}, {_signed(c.drop_high, c.metric)}]"
    limits = (c.policy.model_dump() if c.policy else {}).items()
    policy = ", ".join(f"{key} {value:g}" for key, value in limits if value is not None) or "-"
    return [
        c.metric,
        "**FAIL**" if c.verdict == "fail" else c.verdict,
        format_value(c.baseline_mean, c.metric),
        format_value(c.mean, c.metric),
        _signed(delta, c.metric),
        drop,
        policy,
        format_value(c.detectable, c.metric),
        str(c.n_paired),
        c.why,
    ]


def _verdict(result: GateResult) -> str:
    if not result.gated:
        return "**FAIL** (not gated)" if result.required else "not gated"
    return "pass" if result.passed else "**FAIL**"


def result_markdown(result: GateResult) -> str:
    """One (suite, system): a heading with its verdict, its notes, and a table of checks."""
    if not result.gated:
        return (
            "\n".join(
                [
                    f"## {result.suite} v{result.version} × {result.system}: {_verdict(result)}",
                    "",
                    f"- run {result.run_id}",
                    *(f"- {note}" for note in result.notes),
                ]
            )
            + "\n"
        )
    header = ["metric", "verdict", "baseline", "now", "Δ", "drop [95% CI]", "policy", "detectable drop"]
    header += ["paired", "notes"]
    lines = [
        f"## {result.suite} v{result.version} × {result.system}: {_verdict(result)}",
        "",
        f"- baseline: `{result.baseline}`",
        *(f"- {note}" for note in result.notes),
        *(f"- {note}" for note in suite_notes(result.suite, [check.metric for check in result.checks])),
        "",
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
        *("| " + " | ".join(_row(check)) + " |" for check in result.checks),
    ]
    return "\n".join(lines) + "\n"


def gate_markdown(results: Sequence[GateResult]) -> str:
    """gate.md: a verdict line, one section per (suite, system), and how to read it."""
    failed = sum(not result.passed for result in results)
    head = f"# Regression gate: {'FAIL' if failed else 'pass'} ({failed} of {len(results)} runs regressed"
    ungated = sum(not result.gated for result in results)
    head += f"; {ungated} not gated: no baseline)" if ungated else ")"
    return "\n".join([head, "", *(result_markdown(result) for result in results), HOW_TO_READ])


def junit_xml(results: Sequence[GateResult]) -> str:
    """A test suite per (suite, system) and a test case per metric; a metric without a policy is skipped."""
    root = ET.Element("testsuites", name="harness gate")
    for result in results:
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"{result.suite} v{result.version} × {result.system}",
            tests=str(len(result.checks)),
            failures=str(sum(check.verdict == "fail" for check in result.checks)),
            skipped=str(sum(check.verdict == "info" for check in result.checks)),
            errors="0",
        )
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="baseline", value=result.baseline)
        ET.SubElement(properties, "property", name="run", value=result.run_id)
        if not result.gated:  # one test case stands for the missing baseline: skipped, or failed if required
            suite.set("tests", "1")
            case = ET.SubElement(suite, "testcase", classname=f"gate.{result.suite}.{result.system}")
            case.set("name", "baseline")
            if result.required:
                suite.set("failures", "1")
                ET.SubElement(case, "failure", message=result.notes[0])
            else:
                suite.set("skipped", "1")
                ET.SubElement(case, "skipped", message=result.notes[0])
        for check in result.checks:
            case = ET.SubElement(suite, "testcase", classname=f"gate.{result.suite}.{result.system}")
            case.set("name", check.metric)
            if check.verdict == "fail":
                ET.SubElement(case, "failure", message=check.why).text = result_markdown(result)
            elif check.verdict == "info":
                ET.SubElement(case, "skipped", message=check.why)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_gate_files(results: Sequence[GateResult], out: Path) -> tuple[Path, Path]:
    """Write gate.md and junit.xml into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    markdown, junit = out / "gate.md", out / "junit.xml"
    # Atomic, so a CI step reading them (or a gate running beside this one) never sees half a file.
    write_atomic(markdown, gate_markdown(results))
    write_atomic(junit, junit_xml(results))
    return markdown, junit
