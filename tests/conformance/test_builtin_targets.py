"""The conformance suite against the four built-in targets, as ``butler-testkit check`` runs it.

Our InMemoryDatastore must pass with no declared divergence; upstream's
datastores pass with their capabilities and declared divergences, each of
which is a strict expected failure (so a divergence that upstream fixes
fails here until it is removed).
"""

from __future__ import annotations

from butler_testkit.conformance import BUILTIN_TARGETS, conformance_class

TestInMemory = conformance_class(BUILTIN_TARGETS["inmemory"])
TestUpstreamInMemory = conformance_class(BUILTIN_TARGETS["upstream-inmemory"])
TestFile = conformance_class(BUILTIN_TARGETS["file"])
TestChained = conformance_class(BUILTIN_TARGETS["chained"])


def test_our_datastore_declares_no_divergence():
    assert BUILTIN_TARGETS["inmemory"].divergences == {}


def test_every_divergence_of_an_upstream_target_has_a_one_line_reason():
    for name in ("upstream-inmemory", "file", "chained"):
        divergences = BUILTIN_TARGETS[name].divergences
        assert divergences, name
        for test, reason in divergences.items():
            assert reason.strip() and "\n" not in reason, (name, test)
