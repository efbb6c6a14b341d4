"""pytest plugin: `assert_no_regression(suite, system)` gates a team's latest run inside its own test suite.

Installed with the harness (entry point `pytest11`), so a test can take the `assert_no_regression`
fixture, or import the function: `from harness.pytest_plugin import assert_no_regression`.
"""

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.gate import GateResult


def assert_no_regression(
    suite: str,
    system: str,
    reports_dir: Path | str = "reports",
    baseline: str | None = None,
    suites_dir: Path | str = "suites",
) -> GateResult:
    """Fail (AssertionError with the gate's table) if the latest run of suite × system regressed.

    Args:
        baseline: as `harness gate --baseline`: None for reports_dir/baselines, a file or folder,
            `mlflow:<run id>`, or `mlflow`. A mismatched baseline raises InputError, as the CLI exits 2.
    """
    __tracebackhide__ = True  # pytest points at the test's call, not at this function
    from harness.gate import gate_latest
    from harness.gate_report import result_markdown

    (result,) = gate_latest(Path(reports_dir), baseline, suite, system, Path(suites_dir))
    if not result.passed:
        failing = ", ".join(check.metric for check in result.checks if check.verdict == "fail")
        raise AssertionError(f"{suite} × {system} regressed ({failing}):\n{result_markdown(result)}")
    return result


@pytest.fixture(name="assert_no_regression")
def assert_no_regression_fixture() -> Callable[..., GateResult]:
    """The `assert_no_regression` function, for tests that prefer a fixture to an import."""
    return assert_no_regression
