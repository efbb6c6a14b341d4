"""The verdict in the static report: sentences, warnings, trade-off table and charts, in a real browser."""

import json
from pathlib import Path

from harness.site import write_site
from harness.verdict import compare_runs
from tests.integration.test_site import MEASURE, browse, check_png, chromium  # noqa: F401  (the fixture, reused)
from tests.unit.test_verdict import make_run, right_on


def test_verdict_section_and_tradeoff_chart_render(chromium: str, tmp_path: Path) -> None:  # noqa: F811
    n = 60
    runs = [
        make_run("base-x", "base", {"token_f1": right_on(0.1, n, 1), "latency_s": [0.02] * n}),
        make_run("rag-x", "rag", {"token_f1": right_on(0.7, n, 2), "latency_s": [0.05] * n}),
        make_run(
            "hybrid-x",
            "hybrid",
            {"token_f1": right_on(0.65, n, 3), "latency_s": [0.2] * n},
            answers=["The documents do not say."] * 40 + [f"a{i}" for i in range(20)],
        ),
    ]
    verdict = compare_runs(runs)
    site = tmp_path / "site"
    page_path = write_site(runs, site, tmp_path / "baselines", [verdict])
    page = page_path.read_text(encoding="utf-8")
    section = page.split('<div class="verdict">', 1)[1].split("</div>", 1)[0]
    assert "<h3>Verdict</h3>" in section
    assert "collapsed system: hybrid-x gives the same answer to 40 of 60 cases" in section
    assert "Pareto front" in section
    # base-x is fastest; rag-x beats hybrid-x on mean quality and is faster: the front is base-x, rag-x
    rows = {row.system: row.pareto for row in verdict.tradeoff}
    assert rows == {"base-x": True, "rag-x": True, "hybrid-x": False}
    assert (site / "chart__tiny__tradeoff_latency.png").is_file()
    assert not (site / "chart__tiny__tradeoff_cost.png").exists()  # no system has a cost
    check_png(site / "chart__tiny__tradeoff_latency.png")
    assert json.loads((site / "verdict.json").read_text())["tiny"]["systems"] == [
        "base-x",
        "rag-x",
        "hybrid-x",
    ]
    markdown = (site / "index.md").read_text(encoding="utf-8")
    assert (
        "### Verdict" in markdown
        and "![quality against latency](chart__tiny__tradeoff_latency.png)" in markdown
    )
    assert "| rag-x | hybrid-x |" in (site / "verdict_suite-tiny.md").read_text(encoding="utf-8") or (
        "| token_f1 | all | rag-x | hybrid-x |"
        in (site / "verdict_suite-tiny.md").read_text(encoding="utf-8")
    )
    (site / "measured.html").write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = browse(
        chromium,
        tmp_path / "profile",
        "--virtual-time-budget=5000",
        "--dump-dom",
        (site / "measured.html").as_uri(),
    )
    assert "Verdict" in dom and "collapsed system" in dom
    widths = dom.split('<pre id="widths">', 1)[1].split("</pre>", 1)[0].split()
    assert widths and all(int(width) > 0 for width in widths), (
        widths
    )  # every chart, the trade-off too, decodes
