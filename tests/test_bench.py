"""The benchmark command: it runs, reports every row, and refuses bad input."""

from __future__ import annotations

import pytest
from lsst.daf.butler.registry.bridge.ephemeral import EphemeralDatastoreRegistryBridge

from butler_testkit import InMemoryDatastore, InMemoryPersistentBridge
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
from butler_testkit.factories import installed_storage_classes


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
    assert "Performance targets" in text
    assert "n=200" in text and "n=20" in text


def test_snapshot_and_restore_are_timed_for_our_datastores_only(small_report):
    assert set(small_report.snapshot) == {"ours-reference", "ours-copy"}
    assert all(taken > 0 and restored > 0 for taken, restored in small_report.snapshot.values())
    text = format_report(small_report)
    assert "Snapshot and restore of the whole state holding n=200 datasets" in text
    assert "upstream: snapshot" not in text


def test_design_targets_are_left_out_without_both_reference_targets():
    report = run_bench([resolve_target("ours-copy")], n=100, rounds=1)
    assert "Performance targets" not in format_report(report)


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


# FileDatastore and the registry a target runs on


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("file", BenchTarget("file", BUILTIN_TARGETS["file"])),
        ("file@dummy", BenchTarget("file@dummy", BUILTIN_TARGETS["file"], "dummy")),
        ("file@fakes", BenchTarget("file@fakes", BUILTIN_TARGETS["file"], "fakes")),
        ("ours-copy@fakes", BenchTarget("ours-copy@fakes", BUILTIN_TARGETS["ours-copy"], "fakes")),
        (
            "butler_testkit.InMemoryDatastore@fakes",
            BenchTarget("InMemoryDatastore@fakes", {"cls": "butler_testkit.InMemoryDatastore"}, "fakes"),
        ),
    ],
)
def test_a_registry_suffix_chooses_the_bridge_manager(spec, expected):
    assert resolve_target(spec) == expected


def test_a_config_file_target_takes_a_registry_suffix(tmp_path):
    config = tmp_path / "mine.yaml"
    config.write_text("cls: butler_testkit.InMemoryDatastore\n")
    assert resolve_target(f"{config}@fakes") == BenchTarget(
        "mine@fakes", {"cls": "butler_testkit.InMemoryDatastore"}, "fakes"
    )


def test_an_at_sign_inside_a_path_is_not_a_registry(tmp_path):
    folder = tmp_path / "user@host"
    folder.mkdir()
    (folder / "store.yaml").write_text("cls: butler_testkit.InMemoryDatastore\n")
    assert resolve_target(str(folder / "store.yaml")).registry == "dummy"


def test_an_unknown_registry_is_refused():
    with pytest.raises(
        ValueError, match=r"Unknown registry 'sql' in benchmark target 'file@sql'.*dummy, fakes"
    ):
        resolve_target("file@sql")


@pytest.mark.parametrize(
    ("registry", "bridge_type"),
    [("fakes", InMemoryPersistentBridge), ("dummy", EphemeralDatastoreRegistryBridge)],
)
def test_each_registry_gives_the_file_datastore_its_bridge(tmp_path, registry, bridge_type):
    with installed_storage_classes():
        datastore = resolve_target(f"file@{registry}").create(str(tmp_path))
    assert type(datastore.bridge) is bridge_type
    assert datastore.root.ospath.rstrip("/") == str(tmp_path)


@pytest.fixture(scope="module")
def file_report():
    targets = [resolve_target(name) for name in ("file@fakes", "file@dummy")]
    # Every timed operation; tracemalloc would triple the cost of the file writes.
    return run_bench(targets, n=100, rounds=1, measure=OPERATIONS)


def test_every_operation_works_on_the_file_datastore(file_report):
    for label in ("file@fakes", "file@dummy"):
        assert set(file_report.seconds[label]) == {*OPERATIONS, TRASH_AND_EMPTY}
        assert all(seconds > 0 for seconds in file_report.seconds[label].values())
    assert file_report.memory == {}


def test_the_report_ends_with_the_registry_fakes_target(file_report):
    text = format_report(file_report)
    assert "Registry fakes target, file@fakes against file@dummy" in text
    assert text.count("(at least 3.0x)") == 1
    assert "Performance targets" not in text


def test_operations_can_be_left_out():
    report = run_bench([resolve_target("ours-reference")], n=100, rounds=1, measure=["emptyTrash"])
    assert report.measured == ("put", "trash", "emptyTrash")
    assert report.rows == ["put", "trash", "emptyTrash", TRASH_AND_EMPTY]
    assert set(report.seconds["ours-reference"]) == {"put", "trash", "emptyTrash", TRASH_AND_EMPTY}
    assert report.memory == {}
    text = format_report(report)
    assert "retained bytes" not in text
    assert "getURI" not in text


def test_design_targets_show_only_what_was_measured():
    targets = [resolve_target(name) for name in ("ours-reference", "upstream")]
    text = format_report(run_bench(targets, n=100, rounds=1, measure=["get"]))
    assert "Performance targets" in text
    assert "  get " in text
    assert "bookkeeping memory" not in text
    assert "  exists " not in text


def test_an_unknown_measurement_is_refused():
    with pytest.raises(ValueError, match="Unknown measurement 'size': choose from put, get"):
        run_bench([resolve_target("ours-copy")], n=100, rounds=1, measure=["size"])


def test_cli_takes_operations_with_hyphens(capsys):
    arguments = ["bench", "--n", "100", "--rounds", "1", "--datastore", "ours-reference"]
    assert main([*arguments, "--operations", "component-get, exists"]) == 0
    out = capsys.readouterr().out
    assert "component get" in out and "exists" in out and "mexists" not in out
    assert main([*arguments, "--operations", "everything"]) == 2
    assert "Unknown measurement 'everything'" in capsys.readouterr().err


def test_the_repository_benchmark_reports_warm_ratios(capsys):
    arguments = ["bench", "--suite", "repositories", "--repeats", "3", "--cold-repeats", "0"]
    assert main([*arguments, "--postgresql", "none"]) == 0
    out = capsys.readouterr().out
    assert "warm: one more in a process" in out
    assert "cold: first in a process (template on disk)   (not measured)" in out
    assert "postgresql: one more, back to back            (not measured)" in out
    assert "makeTestRepo + makeTestCollection" in out


def test_the_postgresql_rows_time_ours_against_a_new_namespace(tmp_path):
    from butler_testkit.bench._pg_repositories import (
        OURS,
        OURS_BACK_TO_BACK,
        UPSTREAM,
        PostgresUnavailable,
        measure_postgresql,
    )

    seconds = measure_postgresql(3, tmp_path)
    if isinstance(seconds, PostgresUnavailable):
        pytest.skip(seconds.reason)
    assert set(seconds) == {OURS, OURS_BACK_TO_BACK, UPSTREAM}
    assert all(0 < value < 120 for value in seconds.values())


def test_without_postgresql_the_report_says_why(monkeypatch, capsys):
    from butler_testkit.bench import _repositories
    from butler_testkit.bench._pg_repositories import PostgresUnavailable

    monkeypatch.setattr(
        _repositories, "measure_postgresql", lambda *args: PostgresUnavailable("no server; install it")
    )
    arguments = ["bench", "--suite", "repositories", "--repeats", "3", "--cold-repeats", "0"]
    assert main(arguments) == 0
    out = capsys.readouterr().out
    assert "postgresql: one more, a test's work between   (not measured)" in out
    assert "PostgreSQL not measured: no server; install it" in out
    assert main([*arguments, "--postgresql", "sqlite"]) == 2
    assert "--postgresql takes postgresql" in capsys.readouterr().err


def test_a_cold_measurement_runs_in_a_fresh_interpreter(tmp_path):
    from butler_testkit.bench._repositories import _cold

    seconds = _cold("ours", tmp_path / "repo", None)
    assert 0 < seconds < 60
    assert (tmp_path / "repo" / "butler.yaml").exists()


def test_the_report_holds_cold_figures_to_their_target():
    from butler_testkit.bench import RepositoryBenchReport, format_repository_report

    def report(warm_ours: float, cold_ours: float) -> RepositoryBenchReport:
        seconds = {"warm ours": warm_ours, "warm upstream": 0.090, "cold ours": cold_ours}
        seconds.update({"cold upstream": 0.500, "cold ours, no template": 0.400})
        return RepositoryBenchReport(15, 5, seconds)

    text = format_repository_report(report(0.010, 0.200))
    assert "0.111   at most 0.17: met" in text
    assert "0.400   at most 0.50: met" in text
    assert "MISSED" in format_repository_report(report(0.020, 0.300))


def test_the_report_holds_the_postgresql_rows_to_a_quarter():
    from butler_testkit.bench import RepositoryBenchReport, format_repository_report

    seconds = {"postgresql ours": 0.2, "postgresql ours, back to back": 0.3, "postgresql upstream": 1.0}
    lines = format_repository_report(RepositoryBenchReport(15, 0, seconds)).splitlines()
    (with_work,) = [line for line in lines if line.startswith("postgresql: one more, a test's")]
    (back_to_back,) = [line for line in lines if line.startswith("postgresql: one more, back")]
    assert with_work.endswith("0.200   at most 0.25: met")
    assert back_to_back.endswith("0.300   at most 0.25: MISSED")


def test_the_repository_benchmark_needs_three_repeats(capsys):
    assert main(["bench", "--suite", "repositories", "--repeats", "2"]) == 2
    assert "at least 3" in capsys.readouterr().err


# Kinds of objects in every isolation mode


@pytest.fixture(scope="module")
def object_report():
    from butler_testkit.bench import run_object_bench

    return run_object_bench(n=40, array_n=3, rounds=1)


def test_every_kind_is_timed_in_every_datastore_and_beside_its_floors(object_report):
    from butler_testkit.bench import FLOORS, KINDS, OBJECT_DATASTORES

    assert object_report.labels == list(OBJECT_DATASTORES) and object_report.labels[0] == "upstream"
    for kind in KINDS:
        costs = object_report.seconds[kind.name]
        for label in OBJECT_DATASTORES:
            assert set(costs[label]) == {"put", "get"}
            assert all(seconds > 0 for seconds in costs[label].values())
    for floor in FLOORS:
        assert object_report.seconds[floor.kind][floor.name][floor.operation] > 0


def test_the_object_report_holds_the_default_isolation_to_its_targets(object_report):
    from butler_testkit.bench import OBJECT_TARGETS, format_object_report

    text = format_object_report(object_report)
    for kind in ("tiny dict", "metrics dict", "1 MiB array"):
        assert kind in text
    assert "kept copy" in text and "dropped copy" in text
    verdicts = [line for line in text.splitlines() if line.startswith("  ours-copy ")]
    assert len(verdicts) == len(OBJECT_TARGETS)
    assert all(line.endswith(("met", "MISSED")) for line in verdicts)


def test_the_object_kinds_are_what_they_say():
    from butler_testkit.bench import KINDS

    kinds = {kind.name: kind.make() for kind in KINDS}
    assert kinds["tiny dict"] == {"a": 1}
    metrics = kinds["metrics dict"]
    values = len(metrics["summary"]) + 2 * len(metrics["output"]) + len(metrics["data"])
    assert values == 200
    array = kinds["1 MiB array"]
    assert array.nbytes == 2**20 and array.dtype == "float32"


def test_the_object_suite_refuses_too_little_work(capsys):
    assert main(["bench", "--suite", "objects", "--objects-n", "5"]) == 2
    assert "--objects-n must be at least 20" in capsys.readouterr().err
    assert main(["bench", "--suite", "objects", "--rounds", "0"]) == 2


def test_cli_runs_the_object_suite(capsys):
    sizes = ["--objects-n", "20", "--array-n", "2", "--rounds", "1"]
    assert main(["bench", "--suite", "objects", *sizes]) == 0
    assert "Targets (upstream cost / our cost" in capsys.readouterr().out
