"""`pivotal bench` runs and prints its table; `--write-docs` replaces the figures section."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pivotal_bench.cli import DOCS
from pivotal_bench.measure import Sample
from pivotal_bench.run import DOCS_BEGIN, DOCS_END, Options, Report, write_docs
from pivotal_bench.scenarios import NOOP

from tests.support.processes import VENV_BIN

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("h2load") is None,
                    reason="h2load missing: apt-get install -y nghttp2-client wrk")
def test_the_bench_measures_the_no_op_and_prints_its_row():
    docs_before = (REPOSITORY / DOCS).read_text()
    result = subprocess.run(
        [str(VENV_BIN / "pivotal"), "bench", "--only", "no-op", "--duration", "1",
         "--rounds", "1", "--postgres-url", ""],
        check=False, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    row = next(line for line in result.stdout.splitlines() if line.startswith(f"| {NOOP.name}"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "1"  # one process
    assert float(cells[2].replace(",", "")) > 0  # it answered
    assert cells[3] == "1.000"  # the baseline of the ratios
    assert cells[-1] == "0"  # no failed request
    assert (REPOSITORY / DOCS).read_text() == docs_before  # only --write-docs writes the page


def test_write_docs_replaces_only_the_figures_section(tmp_path):
    page = tmp_path / "performance.md"
    page.write_text(f"# Performance\nbefore\n{DOCS_BEGIN}\nold figures\n{DOCS_END}\nafter\n")
    sample = Sample(calls=500, seconds=1.0, server_cpu=0.1, wall=1.0, rss=[80.0], processes=1,
                    latencies_us=[1000] * 500)
    write_docs(Report(Options(), {NOOP.name: sample}), page, "pivotal bench")
    text = page.read_text()
    assert text.startswith("# Performance\nbefore\n") and text.endswith(f"{DOCS_END}\nafter\n")
    assert "old figures" not in text
    assert f"| {NOOP.name} | 1 | 500 | 1.000 | 1.00 | 1.00 |" in text
    assert "with `pivotal bench`" in text
