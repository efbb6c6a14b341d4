"""pytest plugin: `assert_no_regression(suite, system)` gates a team's latest run inside its own test suite.

Import the function (`from harness.pytest_plugin import assert_no_regression`), or list the module in a
conftest (`pytest_plugins = ["harness.pytest_plugin"]`) to get the `assert_no_regression` fixture. It is
not registered as a `pytest11` entry point on purpose: importing `harness` turns telemetry off and the
hub offline for the whole process, which a team's other tests should not get by installing the package.
Folders default to the project's (harness.toml or [tool.harness] found from the working directory).
"""

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.gate import GateResult


def assert_no_regression(
    suite: str,
    system: str,
    reports_dir: Path | str | None = None,
    baseline: str | None = None,
    suites_dir: Path | str | None = None,
) -> GateResult:
    """Fail (AssertionError with the gate's table) if the latest run of suite × system regressed.

    Args:
        baseline: as `harness gate --baseline`: None for reports_dir/baselines, a file or folder,
            `mlflow:<run id>`, or `mlflow`. A mismatched baseline raises InputError, as the CLI exits 2.
    """
    __tracebackhide__ = True  # pytest points at the test's call, not at this function
    from harness.gate import gate_latest
    from harness.gate_report import result_markdown
    from harness.project import find_project

    project = find_project()
    reports = Path(reports_dir) if reports_dir is not None else project.reports_dir
    suites = Path(suites_dir) if suites_dir is not None else project.suites_dir
    (result,) = gate_latest(reports, baseline, suite, system, suites)
    if not result.passed:
        failing = ", ".join(check.metric for check in result.checks if check.verdict == "fail")
        raise AssertionError(f"{suite} × {system} regressed ({failing}):\n{result_markdown(result)}")
    return result


@pytest.fixture(name="assert_no_regression")
def assert_no_regression_fixture() -> Callable[..., GateResult]:
    """The `assert_no_regression` function, for tests that prefer a fixture to an import."""
    return assert_no_regression
