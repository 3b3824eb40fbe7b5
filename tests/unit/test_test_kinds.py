"""The kinds of tests (tests/conftest.py): given by the folder, and `-m <kind>` does not even
import the folders of other kinds. Run on a scratch suite with this suite's conftest."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makeini("[pytest]\naddopts = --strict-markers -p no:cacheprovider\nmarkers =\n"
                     "    unit\n    contracts\n    integration\n    e2e\n    slow\n")
    for folder, source in {
        "unit": "def test_pure():\n    pass\n",
        "integration": "def test_database():\n    pass\n",
        "e2e": "raise ImportError('an e2e module was imported')\n",
    }.items():
        (pytester.path / folder).mkdir()
        (pytester.path / folder / f"test_{folder}.py").write_text(source)
    return pytester


def test_a_kind_runs_only_its_folders_and_imports_no_other(suite):
    result = suite.runpytest("-m", "unit")
    result.assert_outcomes(passed=1)
    result = suite.runpytest("-m", "integration and not slow")
    result.assert_outcomes(passed=1)


def test_without_a_selection_every_folder_is_collected(suite):
    result = suite.runpytest()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*an e2e module was imported*"])


def test_a_folder_without_a_kind_is_refused(suite):
    (suite.path / "misc").mkdir()
    (suite.path / "misc" / "test_misc.py").write_text("def test_x():\n    pass\n")
    result = suite.runpytest("misc")
    result.stderr.fnmatch_lines(["*tests/misc/ has no kind*"])


def test_a_marker_of_another_kind_is_refused(suite):
    (suite.path / "unit" / "test_wrong.py").write_text(
        "import pytest\n\n@pytest.mark.e2e\ndef test_x():\n    pass\n")
    result = suite.runpytest("unit")
    result.stderr.fnmatch_lines(["*test_x is marked *e2e* but tests/unit/ holds *unit* tests*"])


def test_a_feature_folder_test_may_declare_a_kind_its_folder_allows(suite):
    (suite.path / "identity").mkdir()
    (suite.path / "identity" / "test_feature.py").write_text(
        "import pytest\n\ndef test_default():\n    pass\n\n"
        "@pytest.mark.e2e\ndef test_declared():\n    pass\n")
    suite.makeconftest(CONFTEST.read_text().replace(
        '"identity": ("integration",)', '"identity": ("integration", "e2e")'))
    suite.runpytest("identity", "-m", "integration").assert_outcomes(passed=1, deselected=1)
    suite.runpytest("identity", "-m", "e2e").assert_outcomes(passed=1, deselected=1)
