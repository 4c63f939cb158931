"""The pytest plugin, driven through pytester as its users drive it."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

from butler_testkit._constants import INSTRUMENT_NAMES
from butler_testkit.engine import option
from butler_testkit.factories import INSTRUMENTS

# Every fixture, several tests (one parametrized) so that order and xdist
# distribution matter; each test records the values it drew.
SAMPLE = textwrap.dedent(
    """
    import json
    import os
    import pathlib

    import pytest

    from butler_testkit import InMemoryDatastore, Isolation


    def record(request, **values):
        name = request.node.nodeid.replace("/", "_").replace(":", "_")
        path = pathlib.Path(os.environ["BTK_RECORD_DIR"]) / f"{name}.json"
        path.write_text(json.dumps(values, default=str, sort_keys=True))


    def test_every_fixture(
        request,
        butler_seed,
        butler_universe,
        butler_storage_classes,
        butler_bridge_manager,
        butler_datastore,
        butler_data_ids,
        butler_refs,
    ):
        assert isinstance(butler_datastore, InMemoryDatastore)
        assert butler_datastore.isolation is Isolation.COPY
        assert "BtkImage" in butler_storage_classes
        assert butler_bridge_manager.universe is butler_universe
        ref = butler_refs.ref("calexp", storage_class="BtkDict")
        butler_datastore.put({"exposure_time": 30.0}, ref)
        assert butler_datastore.get(ref) == {"exposure_time": 30.0}
        assert ref.dataId.dimensions.universe is butler_universe
        data_id = butler_data_ids.data_id(["instrument", "exposure", "detector"])
        record(
            request,
            seed=butler_seed,
            data_id=dict(data_id.mapping),
            ref_data_id=dict(ref.dataId.mapping),
            ref_id=str(ref.id),
            run=ref.run,
        )


    @pytest.mark.parametrize("count", [1, 3])
    def test_many_refs(request, butler_refs, count):
        refs = butler_refs.refs("src", count)
        assert len({ref.id for ref in refs}) == count
        data_ids = [dict(ref.dataId.mapping) for ref in refs]
        record(request, ids=[str(ref.id) for ref in refs], data_ids=data_ids)


    def test_data_ids_only(request, butler_data_ids):
        record(request, patch=dict(butler_data_ids.data_id(["skymap", "tract", "patch", "band"]).mapping))
    """
)
SAMPLE_TESTS = 4


@pytest.fixture
def sample(pytester, tmp_path, monkeypatch):
    """Write the sample module; return a function running it and reading what each test drew."""
    pytester.makepyfile(test_sample=SAMPLE)
    # The default seed must be the default, whatever this session was given.
    monkeypatch.delenv("BUTLER_TESTKIT_SEED", raising=False)
    runs = iter(range(100))

    def run(*args: str, subprocess: bool = False) -> dict[str, object]:
        directory = tmp_path / f"run{next(runs)}"
        directory.mkdir()
        monkeypatch.setenv("BTK_RECORD_DIR", str(directory))
        runner = pytester.runpytest_subprocess if subprocess else pytester.runpytest
        result = runner("-p", "no:cacheprovider", *args)
        result.assert_outcomes(passed=SAMPLE_TESTS)
        drawn = {path.stem: json.loads(path.read_text()) for path in directory.iterdir()}
        assert len(drawn) == SAMPLE_TESTS
        return drawn

    return run


def test_a_module_using_every_fixture_passes_and_runs_agree_in_any_order_process_and_worker(sample):
    # Two xdist workers in new processes, against this process in reverse order.
    on_two_workers = sample("-n", "2", subprocess=True)
    node_ids = [
        "test_sample.py::test_data_ids_only",
        "test_sample.py::test_many_refs[3]",
        "test_sample.py::test_every_fixture",
        "test_sample.py::test_many_refs[1]",
    ]
    reversed_here = sample(*node_ids)
    assert on_two_workers == reversed_here
    assert sample() == reversed_here


def test_butler_seed_changes_every_value_and_the_environment_variable_sets_it(sample, monkeypatch):
    default = sample()
    seeded = sample("--butler-seed=12345")
    assert seeded.keys() == default.keys()
    for test in default:
        assert seeded[test] != default[test], test
    assert (
        seeded["test_sample.py__test_every_fixture"]["ref_id"]
        != default["test_sample.py__test_every_fixture"]["ref_id"]
    )
    monkeypatch.setenv("BUTLER_TESTKIT_SEED", "12345")
    assert sample() == seeded
    assert sample("--butler-seed=20260101") == default  # the option wins over the variable


def test_the_seed_is_in_the_report_header(pytester):
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--butler-seed=77")
    result.stdout.fnmatch_lines(["butler-testkit: --butler-seed=77"])


def test_a_bad_seed_is_a_usage_error(pytester):
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--butler-seed=abc")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--butler-seed must be an integer*"])


def test_the_marker_configures_the_datastore(pytester):
    pytester.makepyfile(
        """
        import pytest
        from butler_testkit import Isolation

        @pytest.mark.butler_datastore(isolation="reference", name="marked")
        def test_marked(butler_datastore, butler_refs):
            assert butler_datastore.isolation is Isolation.REFERENCE
            assert butler_datastore.name == "marked"
            ref, value = butler_refs.ref("plain", storage_class="BtkDict"), {"a": 1}
            butler_datastore.put(value, ref)
            assert butler_datastore.get(ref) is value

        @pytest.mark.butler_datastore(constraints={"reject": ["plain"]})
        def test_constraints(butler_datastore, butler_refs):
            from lsst.daf.butler import DatasetTypeNotSupportedError
            with pytest.raises(DatasetTypeNotSupportedError):
                butler_datastore.put({}, butler_refs.ref("plain", storage_class="BtkDict"))

        def test_unmarked(butler_datastore):
            assert butler_datastore.isolation is Isolation.COPY

        @pytest.mark.butler_datastore("reference")
        def test_positional(butler_datastore):
            pass

        @pytest.mark.butler_datastore(isolatoin="reference")
        def test_misspelt(butler_datastore):
            pass

        @pytest.mark.butler_datastore(isolation="nonsense")
        def test_invalid(butler_datastore):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=3, errors=3)
    output = result.stdout.str()
    assert "TypeError: The butler_datastore marker takes keyword arguments only" in output
    assert "TypeError: The butler_datastore marker does not know ['isolatoin']" in output
    assert "DatastoreValidationError: Unknown datastore isolation mode 'nonsense'" in output


def test_the_faults_marker_wraps_the_datastore_with_a_fault_plan(pytester):
    pytester.makepyfile(
        """
        import pytest
        from butler_testkit import Fault, InMemoryDatastore, InjectedFaultError, InstrumentedDatastore
        from butler_testkit import Isolation

        @pytest.mark.butler_faults({"operations": "get", "nth": 2})
        def test_second_get_fails(butler_datastore, butler_refs):
            assert isinstance(butler_datastore, InstrumentedDatastore)
            assert isinstance(butler_datastore.wrapped, InMemoryDatastore)
            ref = butler_refs.ref("plain", storage_class="BtkDict")
            butler_datastore.put({"a": 1}, ref)
            assert butler_datastore.get(ref) == {"a": 1}
            with pytest.raises(InjectedFaultError):
                butler_datastore.get(ref)
            assert butler_datastore.get(ref) == {"a": 1}
            assert [operation for _, operation, _, _ in butler_datastore.faults.fired] == ["get"]
            assert len(butler_datastore.journal.calls("get")) == 3
            assert len(butler_datastore.journal.calls("get", ok=False)) == 1

        @pytest.mark.butler_datastore(isolation="serialize")
        @pytest.mark.butler_faults(
            Fault("put", point="stored", error=OSError),
            {"operations": ["exists"], "probability": 0.5},
            seed=3,
        )
        def test_with_the_datastore_marker(butler_datastore, butler_refs):
            assert butler_datastore.wrapped.isolation is Isolation.SERIALIZE
            assert butler_datastore.faults.seed == 3
            ref = butler_refs.ref("plain", storage_class="BtkDict")
            with pytest.raises(OSError):
                butler_datastore.put({"a": 1}, ref)
            assert butler_datastore.wrapped.stored_refs() == []

        @pytest.mark.butler_faults({"operations": "put", "dataset_types": "calexp"})
        def test_a_single_dataset_type_name(butler_datastore, butler_refs):
            with pytest.raises(InjectedFaultError):
                butler_datastore.put({"a": 1}, butler_refs.ref("calexp", storage_class="BtkDict"))
            butler_datastore.put({"a": 1}, butler_refs.ref("calexp_other", storage_class="BtkDict"))

        @pytest.mark.butler_faults({"operations": "exists", "probability": 0.5})
        def test_seeded_by_the_test(butler_datastore, butler_seed):
            assert isinstance(butler_datastore.faults.seed, int)

        def test_unmarked(butler_datastore):
            assert isinstance(butler_datastore, InMemoryDatastore)

        @pytest.mark.butler_faults()
        def test_empty(butler_datastore):
            pass

        @pytest.mark.butler_faults("get")
        def test_not_a_mapping(butler_datastore):
            pass

        @pytest.mark.butler_faults({"operation": "get"})
        def test_misspelt_rule(butler_datastore):
            pass

        @pytest.mark.butler_faults({"operations": "get"}, sead=1)
        def test_misspelt_seed(butler_datastore):
            pass

        @pytest.mark.butler_faults({"operations": "get", "probability": 2})
        def test_invalid_rule(butler_datastore):
            pass

        @pytest.mark.butler_faults({"operations": "gte"})
        def test_unknown_operation(butler_datastore):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=5, errors=6)
    output = result.stdout.str()
    assert "TypeError: The butler_faults marker needs at least one rule" in output
    assert (
        "TypeError: The butler_faults marker takes mappings of Fault keywords or Fault rules; got 'get'"
        in output
    )
    assert "TypeError: The butler_faults marker has a bad rule {'operation': 'get'}" in output
    assert "TypeError: The butler_faults marker does not know ['sead']" in output
    assert "ValueError: Fault probability must be within [0, 1]; got 2." in output
    assert "ValueError: Fault operations: unknown operation(s) 'gte'" in output


def test_the_faults_seed_follows_the_session_seed(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.butler_faults({"operations": "exists", "probability": 0.5})
        def test_seed(butler_datastore):
            print("FAULT-SEED", butler_datastore.faults.seed)
        """
    )

    def seed(*args: str) -> str:
        result = pytester.runpytest("-p", "no:cacheprovider", "-s", *args)
        result.assert_outcomes(passed=1)
        (line,) = [line for line in result.stdout.lines if "FAULT-SEED" in line]
        return line.partition("FAULT-SEED")[2]

    assert seed("--butler-seed=1") == seed("--butler-seed=1") != seed("--butler-seed=2")


def test_the_instrument_comes_from_the_marker_else_the_option(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.butler_data_ids(instrument="HSC")
        def test_marked(butler_refs):
            assert butler_refs.ref("calexp").dataId["instrument"] == "HSC"

        def test_unmarked(butler_data_ids):
            assert butler_data_ids.data_id()["instrument"] == "LSSTCam"

        @pytest.mark.butler_data_ids(camera="HSC")
        def test_misspelt(butler_data_ids):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--butler-instrument=LSSTCam")
    result.assert_outcomes(passed=2, errors=1)
    assert "TypeError: The butler_data_ids marker does not know ['camera']" in result.stdout.str()


def test_p_no_disables_the_plugin(pytester):
    pytester.makepyfile(test_sample=SAMPLE)
    result = pytester.runpytest("-p", "no:butler_testkit")
    result.assert_outcomes(errors=SAMPLE_TESTS)
    result.stdout.fnmatch_lines(["*fixture 'butler_seed' not found*"])
    result = pytester.runpytest("-p", "no:butler_testkit", "--butler-seed=1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


# A test that redefines a storage class, and one that needs the original.
REDEFINING = textwrap.dedent(
    """
    from butler_testkit.factories import MetricsRecord

    def test_redefines(butler_storage_classes, butler_datastore, butler_refs):
        butler_storage_classes.redefine("BtkMetrics", {"pytype": "dict"})
        ref = butler_refs.ref("metric")
        butler_datastore.put({"anything": 1}, ref)
        assert butler_datastore.get(ref) == {"anything": 1}

    def test_uses_the_original(butler_datastore, butler_refs):
        ref = butler_refs.ref("metric")
        assert ref.datasetType.storageClass.pytype is MetricsRecord
        butler_datastore.put(MetricsRecord(summary={}, output={}, data=[1, 2, 3]), ref)
        assert butler_datastore.get(ref.makeComponentRef("counter")) == 3
    """
)


@pytest.mark.parametrize(
    "order", [("test_redefines", "test_uses_the_original"), ("test_uses_the_original", "test_redefines")]
)
def test_redefining_a_storage_class_never_affects_another_test(pytester, order):
    pytester.makepyfile(test_redefining=REDEFINING)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-v", *(f"test_redefining.py::{name}" for name in order)
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*::{order[0]} PASSED*", f"*::{order[1]} PASSED*"])


def test_the_plugin_imports_nothing_heavy_until_a_fixture_is_used(tmp_path):
    (tmp_path / "test_empty.py").write_text("")
    code = textwrap.dedent(
        """
        import sys, pytest
        pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[1:]])
        print(" ".join(sorted(sys.modules)))
        """
    )

    def modules(*args: str) -> set[str]:
        completed = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "test_empty.py"), *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTEST_ADDOPTS": ""},
            check=True,
        )
        return set(completed.stdout.strip().splitlines()[-1].split())

    extra = modules() - modules("-p", "no:butler_testkit")
    assert "butler_testkit.pytest_plugin" in extra
    assert extra <= {
        "butler_testkit",
        "butler_testkit._constants",
        "butler_testkit._version",
        "butler_testkit._lazy",
        "butler_testkit._seeds",
        "butler_testkit.conformance",
        "butler_testkit.conformance._reporter",
        "butler_testkit.engine",
        "butler_testkit.engine._options",
        "butler_testkit.pytest_plugin",
    }


def test_the_option_choices_are_the_presets():
    assert set(option("instrument").choices) == set(INSTRUMENT_NAMES) == set(INSTRUMENTS)


def test_the_examples_of_the_fixtures_reference_pass(pytester):
    # Every python block of docs/fixtures.md that defines a test is run as one.
    text = (pathlib.Path(__file__).parents[1] / "docs" / "fixtures.md").read_text()
    blocks = [block for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL) if "def test_" in block]
    assert len(blocks) >= 4
    for number, block in enumerate(blocks):
        pytester.makepyfile(**{f"test_doc_{number}": "import pytest\n\n" + block})
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(blocks))
