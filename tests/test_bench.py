"""The benchmark command: it runs, reports every row, and refuses bad input."""

from __future__ import annotations

import pytest

from butler_testkit import InMemoryDatastore
from butler_testkit.bench import (
    BUILTIN_TARGETS,
    OPERATIONS,
    TRASH_AND_EMPTY,
    BenchTarget,
    BenchTargetError,
    format_report,
    resolve_target,
    run_bench,
)
from butler_testkit.cli import main


@pytest.fixture(scope="module")
def small_report():
    targets = [resolve_target(name) for name in ("ours-reference", "ours-copy", "upstream")]
    return run_bench(targets, n=200, rounds=1)


def test_every_operation_is_measured_for_every_target(small_report):
    assert small_report.labels == ["ours-reference", "ours-copy", "upstream"]
    for label in small_report.labels:
        for table in (small_report.seconds, small_report.small_seconds):
            assert set(table[label]) == {*OPERATIONS, TRASH_AND_EMPTY}
            assert all(seconds > 0 for seconds in table[label].values())
        assert small_report.memory[label] > 0


def test_report_shows_ratios_linearity_and_design_targets(small_report):
    text = format_report(small_report)
    for row in (*OPERATIONS, TRASH_AND_EMPTY, "retained bytes/dataset"):
        assert row in text
    assert "(1.00x)" in text
    assert "Linearity" in text
    assert "DESIGN.md targets" in text
    assert "n=200" in text and "n=20" in text


def test_design_targets_are_left_out_without_both_reference_targets():
    report = run_bench([resolve_target("ours-copy")], n=100, rounds=1)
    assert "DESIGN.md targets" not in format_report(report)


def test_copy_isolation_retains_the_copies(small_report):
    # The stored copies show up in the memory figure; references do not.
    assert small_report.memory["ours-copy"] > small_report.memory["ours-reference"]


@pytest.mark.parametrize("name", sorted(BUILTIN_TARGETS))
def test_builtin_targets_resolve(name):
    assert resolve_target(name) == BenchTarget(name, BUILTIN_TARGETS[name])


def test_class_path_and_config_file_targets(tmp_path):
    assert resolve_target("butler_testkit.InMemoryDatastore") == BenchTarget(
        "InMemoryDatastore", {"cls": "butler_testkit.InMemoryDatastore"}
    )
    config = tmp_path / "mine.yaml"
    config.write_text("cls: butler_testkit.InMemoryDatastore\nisolation: reference\n")
    target = resolve_target(str(config))
    assert target.label == "mine"
    assert target.config["isolation"] == "reference"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nonsense", "Unknown benchmark target 'nonsense'.*ours-reference"),
        ("missing.yaml", "'missing.yaml' does not exist"),
        ("elsewhere/config.json", "does not exist"),
        ("not-a.class path", "Unknown benchmark target"),
    ],
)
def test_unknown_targets_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        resolve_target(spec)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"n": 50}, "at least 100"), ({"rounds": 0}, "at least 1"), ({"labels": ["a", "a"]}, "distinct")],
)
def test_bad_parameters_are_refused(kwargs, message):
    labels = kwargs.pop("labels", ["a"])
    targets = [BenchTarget(label, BUILTIN_TARGETS["ours-copy"]) for label in labels]
    with pytest.raises(ValueError, match=message):
        run_bench(targets, **kwargs)


def test_cli_runs_the_benchmark(capsys):
    assert main(["bench", "--n", "100", "--rounds", "1", "--datastore", "ours-reference"]) == 0
    out = capsys.readouterr().out
    assert "ours-reference" in out and "put" in out


def test_cli_reports_bad_targets_with_status_2(capsys):
    assert main(["bench", "--datastore", "nonsense"]) == 2
    assert "Unknown benchmark target 'nonsense'" in capsys.readouterr().err


class BrokenDatastore(InMemoryDatastore):
    """Fails every get, as an author's datastore under development might."""

    def get(self, ref, parameters=None, storageClass=None):
        raise RuntimeError("get is not written yet")


def test_a_failing_target_is_named_with_its_operation(capsys):
    broken = f"{BrokenDatastore.__module__}.{BrokenDatastore.__qualname__}"
    with pytest.raises(BenchTargetError, match="'BrokenDatastore' failed in get: RuntimeError: get is not"):
        run_bench([resolve_target(broken)], n=100, rounds=1)
    assert main(["bench", "--n", "100", "--rounds", "1", "--datastore", broken]) == 1
    assert "'BrokenDatastore' failed in get" in capsys.readouterr().err


def test_a_target_that_cannot_be_built_is_named(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("cls: butler_testkit.InMemoryDatastore\nisolation: sideways\n")
    with pytest.raises(BenchTargetError, match=r"'bad' failed in construction.*sideways"):
        run_bench([resolve_target(str(config))], n=100, rounds=1)


def test_cli_needs_a_command(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main([])
    assert excinfo.value.code == 2
