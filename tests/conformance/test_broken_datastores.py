"""Proof that the suite bites: every deliberately broken datastore makes it fail."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis.errors import HypothesisException
from hypothesis.stateful import run_state_machine_as_test

from butler_testkit.conformance import BUILTIN_TARGETS, ConformanceTarget, load_report
from butler_testkit.conformance._areas.stateful import MACHINE_SETTINGS, POOL_SIZE, DatastoreMachine
from butler_testkit.conformance._refs import ConformanceRefs
from butler_testkit.factories import installed_storage_classes
from tests.conformance.broken import BROKEN

# Each broken datastore is tested as a user would test their own: by a
# subclass of DatastoreConformance, here made from a target declaring what
# our datastore declares. The state machine is left out of this run (it
# would shrink a failure per broken datastore); the test below shows that it
# catches broken datastores on its own.
SUITES = textwrap.dedent(
    """
    from butler_testkit.conformance import BUILTIN_TARGETS, ConformanceTarget, conformance_class
    from tests.conformance.broken import BROKEN

    ours = BUILTIN_TARGETS["inmemory"]
    for name in BROKEN:
        target = ConformanceTarget(
            name,
            f"broken: {name}",
            {"cls": f"tests.conformance.broken.{name}"},
            ours.capabilities,
            stored_state_view=ours.stored_state_view,
        )
        globals()[f"Test{name}"] = conformance_class(target)
    """
)


def test_every_broken_datastore_fails_the_suite_where_it_is_broken(pytester):
    assert len(BROKEN) >= 12
    pytester.makepyfile(test_broken=SUITES)
    report = pytester.path / "report"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-q", "-k", "not random_operation", f"--butler-conformance-report={report}"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    suites = {suite.name: suite for suite in load_report(report.with_suffix(".json"))}
    assert set(suites) == set(BROKEN)
    uncaught = {
        name: catching
        for name, catching in BROKEN.items()
        if catching not in {test.test for test in suites[name].with_outcome("failed")}
    }
    assert uncaught == {}, "these broken datastores passed the test that should catch them"
    assert not any(suite.ok for suite in suites.values())
    # The terminal matrix names each broken datastore's failures.
    result.stdout.fnmatch_lines(["*butler-testkit datastore conformance*", "*LyingExists*DOES NOT CONFORM*"])


@pytest.mark.parametrize(
    "name", ["LostTrash", "RollbackUndoesNothing", "LyingExists", "WrongErrorForUnknown"]
)
def test_the_state_machine_alone_catches_a_broken_datastore(name, tmp_path):
    ours = BUILTIN_TARGETS["inmemory"]
    target = ConformanceTarget(name, "broken", {"cls": f"tests.conformance.broken.{name}"}, ours.capabilities)
    with installed_storage_classes():
        pool = ConformanceRefs(seed=1, data_id_seed=2).refs(POOL_SIZE)
        factory = target.factory(tmp_path)
        # The machine reports the first failure it finds, shrunk.
        with pytest.raises((AssertionError, HypothesisException)):
            run_state_machine_as_test(
                lambda: DatastoreMachine(factory, ours.capabilities, pool, None), settings=MACHINE_SETTINGS
            )
