"""``butler-testkit check --coverage``: what of a datastore's own source the suite executed."""

from __future__ import annotations

import sys

import pytest

from butler_testkit import cli
from butler_testkit.conformance import (
    BUILTIN_TARGETS,
    CoverageUnavailableError,
    FunctionCoverage,
    TargetError,
    format_check,
    run_check,
    target_datastore_class,
)
from butler_testkit.conformance._coverage import measured_modules

# One cheap test: exists and put run, restore never does.
ONE_TEST = "test_a_stored_dataset_exists_and_is_known"
OURS = "butler_testkit.datastore._datastore"


def _functions(result, target="inmemory", module=OURS):
    (coverage,) = [coverage for coverage in result.coverage if coverage.target == target]
    (measured,) = [measured for measured in coverage.modules if measured.module == module]
    return measured, {function.name: function for function in measured.functions}


def test_coverage_is_tabulated_per_method_with_an_html_report(tmp_path):
    result = run_check(["inmemory"], keyword=ONE_TEST, coverage_html=tmp_path / "html")
    assert result.ok
    module, functions = _functions(result)
    state = functions["InMemoryDatastore._state"]
    # Every operation reaches the state through here, but the test does not
    # run the expiry it is not configured for.
    assert 0 < len(state.missed_statements) < state.statements
    restore = functions["InMemoryDatastore.restore"]
    assert len(restore.missed_statements) == restore.statements > 0
    # Measuring starts before the module is imported: every line outside
    # the functions (imports, definitions) was executed.
    assert module.missed_statements == sum(len(f.missed_statements) for f in module.functions)
    assert (tmp_path / "html" / "inmemory" / "index.html").is_file()
    text = format_check(result)
    assert f"coverage of inmemory: {OURS}" in text
    assert "function" in text and "| stmts | miss | branches | miss | cover | missed" in text
    assert "InMemoryDatastore.restore " in text


def test_coverage_combines_what_xdist_workers_measured():
    result = run_check(["upstream-inmemory"], keyword=ONE_TEST, workers="2", coverage=True)
    _, functions = _functions(
        result, target="upstream-inmemory", module="lsst.daf.butler.datastores.inMemoryDatastore"
    )
    # Only the workers ran tests: what they measured made it to the table.
    for name in ("InMemoryDatastore.exists", "InMemoryDatastore.put"):
        assert len(functions[name].missed_statements) < functions[name].statements, name


def test_a_chain_measures_the_modules_of_its_children():
    modules = measured_modules(BUILTIN_TARGETS["chained"])
    assert set(modules) == {
        "lsst.daf.butler.datastores.chainedDatastore",
        "lsst.daf.butler.datastores.fileDatastore",
        OURS,
    }
    assert all(path.endswith(".py") for path in modules.values())


def test_the_datastore_class_of_a_target():
    assert target_datastore_class("inmemory") == "butler_testkit.InMemoryDatastore"
    with pytest.raises(TargetError, match="say which class"):
        target_datastore_class("chained")


def test_without_coverage_py_the_error_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "coverage", None)
    with pytest.raises(CoverageUnavailableError, match=r"butler-testkit\[coverage\]"):
        run_check(["inmemory"], coverage=True)
    assert cli.main(["check", "--coverage", "inmemory"]) == 2
    assert "pip install 'butler-testkit[coverage]'" in capsys.readouterr().err


def test_missed_lines_are_ranges_then_branches_not_taken():
    function = FunctionCoverage(
        "Thing.method",
        10,
        statements=8,
        missed_statements=[12, 13, 14, 17],
        branches=4,
        missed_branches=[(11, 12), (15, 17), (16, -10)],
    )
    # A branch is listed when its start line ran, even if it leads to a missed line.
    assert function.missed() == "12-14, 17, 11->12, 15->17, 16->exit"
    assert function.percent == pytest.approx(100 * (12 - 7) / 12)
