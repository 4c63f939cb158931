"""Mutants of a class and the mutation run: operators, stable keys, kills, survivors, equivalents."""

from __future__ import annotations

import collections
import hashlib
import json

import pytest

from butler_testkit import cli
from butler_testkit.bench._mutants import OPERATORS, MutationSourceError, class_source, generate_mutants
from butler_testkit.bench._mutation import (
    EQUIVALENT,
    KILLED,
    SURVIVED,
    TIMEOUT,
    UNCOVERED,
    EquivalentMutant,
    MutationRunError,
    external_command,
    format_mutation_report,
    load_equivalents,
    run_mutation,
)

SUBJECT = '''\
"""A class to mutate."""

import logging

log = logging.getLogger(__name__)


class Counter:
    """Counts."""

    def __init__(self, limit):
        self.limit = limit
        self.count = 0

    def add(self, amount=1):
        """Add, up to the limit."""
        log.debug("adding %s", amount)
        if amount < 0 or not isinstance(amount, int):
            raise ValueError(f"cannot add {amount}")
        if self.count + amount > self.limit:
            log.warning("refused %s", amount)
            return False
        elif amount == 0:
            return True
        else:
            self.count += amount
            self.added = amount
        return True

    def spin(self):
        while self.count != 0:
            self.count -= 1
        return self.count

    def unused(self):
        return self.limit is None
'''

TESTS = """\
import pytest

from {module} import Counter


def test_add_counts():
    counter = Counter(3)
    assert counter.add(2) is True
    assert counter.count == 2


def test_add_refuses_past_the_limit():
    counter = Counter(3)
    assert counter.add(5) is False
    assert counter.count == 0


def test_negative_amounts_raise():
    with pytest.raises(ValueError):
        Counter(3).add(-1)


def test_spin_comes_back_to_zero():
    counter = Counter(3)
    counter.add(2)
    assert counter.spin() == 0
"""


# The subject's tests need nothing heavy.
_PRELOAD = ("pytest",)


@pytest.fixture
def subject(tmp_path, monkeypatch):
    """A module with a class to mutate, importable under a name of its own, and tests of it."""
    module = f"btk_mutation_subject_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(SUBJECT)
    (tmp_path / "test_subject.py").write_text(TESTS.format(module=module))
    monkeypatch.syspath_prepend(str(tmp_path))
    # The runs import it from their working directory.
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    return module


def _by(mutants, **fields):
    return [mutant for mutant in mutants if all(getattr(mutant, k) == v for k, v in fields.items())]


def test_every_operator_makes_mutants(subject):
    mutants = generate_mutants(f"{subject}.Counter")
    assert {mutant.operator for mutant in mutants} == set(OPERATORS)
    assert len({mutant.source for mutant in mutants}) == len(mutants)
    assert len({mutant.key for mutant in mutants}) == len(mutants)
    assert all(mutant.check_syntax() is None for mutant in mutants)


def test_each_operator_changes_what_it_says(subject):
    mutants = generate_mutants(f"{subject}.Counter")
    changes = {(m.operator, m.original, m.mutated) for m in mutants}
    assert ("compare", "amount < 0", "(amount >= 0)") in changes
    assert ("compare", "self.count != 0", "(self.count == 0)") in changes
    either = "amount < 0 or not isinstance(amount, int)"
    assert ("boolean", either, "(amount < 0 and (not isinstance(amount, int)))") in changes
    assert ("not", "not isinstance(amount, int)", "(isinstance(amount, int))") in changes
    assert ("constant", "True", "False") in changes
    assert ("constant", "0", "1") in changes
    assert ("return-none", "self.count", "None") in changes
    assert ("statement-pass", "self.count += amount", "pass") in changes
    assert ("if-body-pass", "log.warning('refused %s', amount); return False", "pass") in changes
    assert ("else-body-pass", "self.count += amount; self.added = amount", "pass") in changes
    assert any(m.operator == "raise-removed" and m.original.startswith("raise ValueError") for m in mutants)


def test_quiet_logging_docstrings_and_f_strings_are_left_alone(subject):
    mutants = generate_mutants(f"{subject}.Counter")
    assert not [m for m in mutants if "log.debug" in m.original]
    assert not [m for m in mutants if "Add, up to" in m.original]
    assert not [m for m in mutants if m.original == "amount" and m.operator == "constant"]
    # An elif is changed through its parts, never dropped as a statement.
    assert not [
        m for m in mutants if m.operator == "statement-pass" and m.original.startswith("if amount == 0")
    ]


def test_a_mutant_keeps_every_other_line_where_it_was(subject):
    original = SUBJECT.splitlines()
    for mutant in generate_mutants(f"{subject}.Counter"):
        mutated = mutant.source.splitlines()
        assert len(mutated) == len(original), mutant.label
        first, _ = mutant.statement_lines
        changed = [number for number, (a, b) in enumerate(zip(original, mutated, strict=True), 1) if a != b]
        assert changed and changed[0] >= first, mutant.label


def test_keys_do_not_depend_on_line_numbers(subject, tmp_path):
    before = generate_mutants(f"{subject}.Counter")
    # Lines added above the class and inside another method move everything.
    moved = SUBJECT.replace('"""A class to mutate."""', '"""A class to mutate."""\n\n\nTHREE = 3\n')
    moved = moved.replace("self.count = 0\n", "self.count = 0\n        self.extra = None\n")
    (tmp_path / f"{subject}.py").write_text(moved)
    after = generate_mutants(f"{subject}.Counter")
    before_keys = {m.key for m in before}
    after_keys = {m.key for m in after}
    assert before_keys <= after_keys
    assert {m.label for m in before} != {m.label for m in after} - {
        m.label for m in _by(after, method="__init__")
    }
    added = after_keys - before_keys
    assert {key.split(":")[0] for key in added} == {"Counter.__init__"}


def test_identical_changes_in_one_method_get_numbered_keys(tmp_path, monkeypatch):
    module = "btk_mutation_twice"
    (tmp_path / f"{module}.py").write_text("class Twice:\n    def f(self):\n        x = 1\n        x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    keys = [m.key for m in generate_mutants(f"{module}.Twice", operators=["statement-pass"])]
    assert len(keys) == 2
    assert keys[1] == f"{keys[0]}~1"


def test_a_re_exported_class_is_found_in_the_module_defining_it():
    module, name, path, _ = class_source("butler_testkit.InMemoryDatastore")
    assert (module, name) == ("butler_testkit.datastore._datastore", "InMemoryDatastore")
    assert path.name == "_datastore.py"


def test_upstream_in_memory_datastore_mutants_all_compile():
    mutants = generate_mutants("lsst.daf.butler.datastores.inMemoryDatastore.InMemoryDatastore")
    assert len(mutants) > 150
    assert all(mutant.check_syntax() is None for mutant in mutants)


@pytest.mark.parametrize(
    ("class_path", "match"),
    [
        ("Counter", "class path"),
        ("btk_no_such_module_anywhere.Counter", "btk_no_such_module_anywhere"),
        ("butler_testkit.NoSuchClass", "NoSuchClass"),
    ],
)
def test_a_class_that_cannot_be_found_is_refused(class_path, match):
    with pytest.raises(MutationSourceError, match=match):
        generate_mutants(class_path)


def test_an_unknown_operator_is_refused(subject):
    with pytest.raises(ValueError, match="teleport"):
        generate_mutants(f"{subject}.Counter", operators=["teleport"])


def test_a_run_kills_what_the_tests_see_and_never_writes_the_module(subject, tmp_path):
    source_file = tmp_path / f"{subject}.py"
    digest = hashlib.sha256(source_file.read_bytes()).hexdigest()
    command = external_command("python -m pytest test_subject.py -q", tmp_path)
    mutants = generate_mutants(f"{subject}.Counter")
    # Without its decrement the loop never ends.
    spin_exit = next(m.key for m in mutants if m.original == "self.count -= 1")
    chosen = [
        m.key
        for m in mutants
        if m.method in ("unused", "spin") or (m.method == "add" and m.operator == "statement-pass")
    ]
    report = run_mutation(
        f"{subject}.Counter",
        command,
        keys=chosen,
        jobs=2,
        preload=_PRELOAD,
        timeout=15,
        equivalents={spin_exit: EquivalentMutant(spin_exit, "not really: it loops for ever")},
    )
    assert {result.mutant.key for result in report.results} == set(chosen)
    assert hashlib.sha256(source_file.read_bytes()).hexdigest() == digest
    statuses = {result.mutant.key: result.status for result in report.results}
    by_method = collections.defaultdict(set)
    for result in report.results:
        by_method[result.mutant.method].add(result.status)
    # Nothing calls unused(): its mutants survive without a run.
    assert by_method["unused"] == {UNCOVERED}
    # A timeout kills, and shows that the listing as equivalent is wrong.
    assert statuses[spin_exit] == TIMEOUT
    assert report.wrongly_equivalent == [spin_exit]
    # No test adds zero: the elif's body is never executed.
    uncovered = [r.mutant for r in report.results if r.status == UNCOVERED]
    assert any(m.method == "add" and m.original == "return True" and m.line == 9 for m in uncovered)
    # No test looks at the warning, or at what was added last.
    survivors = [r.mutant for r in report.results if r.status == SURVIVED]
    assert [m.original for m in survivors if m.operator == "statement-pass"] == [
        "log.warning('refused %s', amount)",
        "self.added = amount",
    ]
    assert KILLED in by_method["add"]
    assert report.killed == report.count(KILLED, TIMEOUT)
    assert 0 < report.kill_rate < 1
    text = format_mutation_report(report)
    assert "mutants: " in text and "survivors:" in text and "yet killed" in text


def test_a_listed_equivalent_survivor_is_counted_apart(subject, tmp_path):
    mutants = generate_mutants(f"{subject}.Counter")
    unused = _by(mutants, method="unused")
    increment = next(m for m in mutants if m.original == "self.count += amount")
    listed = {m.key: EquivalentMutant(m.key, "never called", f"{subject}.Counter") for m in unused}
    # Entries whose code changed are reported, for this class only.
    gone = "Counter.add:compare:0123456789"
    listed[gone] = EquivalentMutant(gone, "its code changed", f"{subject}.Counter")
    listed["Counter.add:compare:9876543210"] = EquivalentMutant("x", "another class", "elsewhere.Counter")
    command = external_command("python -m pytest test_subject.py -q", tmp_path)
    keys = [*(m.key for m in unused), increment.key]
    report = run_mutation(f"{subject}.Counter", command, keys=keys, preload=_PRELOAD, equivalents=listed)
    assert [r.status for r in report.results] == [KILLED] + [EQUIVALENT] * len(unused)
    assert report.strength == 1.0
    assert report.kill_rate == 1 / (1 + len(unused))
    assert report.stale_equivalents == [gone]
    assert "no longer generated" in format_mutation_report(report)


def test_the_mutant_replaces_a_module_pytest_loads_as_a_plugin(subject, tmp_path):
    # pytest imports plugin modules itself (rewriting their asserts): the
    # mutant must still be what the tests see.
    command = external_command(f"python -m pytest -p {subject} test_subject.py -q", tmp_path)
    increment = next(
        m.key for m in generate_mutants(f"{subject}.Counter") if m.original == "self.count += amount"
    )
    report = run_mutation(f"{subject}.Counter", command, keys=[increment], preload=_PRELOAD)
    assert [result.status for result in report.results] == [KILLED]


def test_the_survivors_of_one_suite_go_to_the_next(subject, tmp_path):
    weak_tests = "def test_it_starts_at_zero():\n    assert Counter(3).count == 0\n"
    (tmp_path / "test_weak.py").write_text(f"from {subject} import Counter\n\n\n{weak_tests}")
    weak = external_command("python -m pytest test_weak.py -q", tmp_path)
    strong = external_command("python -m pytest test_subject.py -q", tmp_path)
    keys = [m.key for m in generate_mutants(f"{subject}.Counter") if m.method in ("__init__", "add")]
    report = run_mutation(f"{subject}.Counter", [weak, strong], keys=keys, jobs=2, preload=_PRELOAD)
    assert report.suites == [weak.label, strong.label]
    assert report.killed_by(0) > 0
    assert report.killed_by(1) > 0
    assert report.killed_by(0) + report.killed_by(1) == report.killed
    # Nothing in add() runs in the weak suite: only the strong one judged it.
    assert all(r.judge == 1 for r in report.results if r.mutant.method == "add" and r.status == KILLED)
    text = format_mutation_report(report)
    assert f"then, for the survivors, {strong.label}" in text
    assert "by the first suite alone" in text


def test_without_a_fork_server_each_mutant_runs_in_a_fresh_interpreter(subject, tmp_path):
    # A server that imported the module under mutation could not replace it.
    command = external_command("python -m pytest test_subject.py -q", tmp_path)
    increment = next(
        m.key for m in generate_mutants(f"{subject}.Counter") if m.original == "self.count += amount"
    )
    said: list[str] = []
    report = run_mutation(
        f"{subject}.Counter", command, keys=[increment], preload=[subject], progress=said.append
    )
    assert [result.status for result in report.results] == [KILLED]
    assert any("fresh interpreter" in line and subject in line for line in said)


def test_a_suite_that_fails_unmutated_cannot_judge(subject, tmp_path):
    (tmp_path / "test_subject.py").write_text("def test_broken():\n    assert False\n")
    command = external_command("python -m pytest test_subject.py -q", tmp_path)
    with pytest.raises(MutationRunError, match="does not pass"):
        run_mutation(f"{subject}.Counter", command, sample=1, preload=_PRELOAD)


def test_the_checked_in_equivalents_load_and_each_has_a_reason():
    equivalents = load_equivalents()
    assert all(entry.reason and "\n" not in entry.reason for entry in equivalents.values())


@pytest.mark.parametrize(
    "content",
    ["{key: x}\n", "- {reason: no key}\n", "- {key: a.b:c:d}\n", "- {key: a.b:c:d, reason: '  '}\n"],
)
def test_a_malformed_equivalents_file_is_refused(tmp_path, content):
    path = tmp_path / "equivalents.yaml"
    path.write_text(content)
    with pytest.raises(MutationRunError):
        load_equivalents(path)


def test_the_bench_command_runs_the_mutation_suite(subject, tmp_path, capsys):
    report = tmp_path / "report.json"
    arguments = [
        "bench",
        "--suite",
        "mutation",
        "--mutate",
        f"{subject}.Counter",
        "--test-command",
        "python -m pytest test_subject.py -q",
        "--test-directory",
        str(tmp_path),
        "--timeout",
        "15",
        "--mutation-report",
        str(report),
    ]
    # Only the survivors of an earlier run: here, one that no test sees.
    added = next(m for m in generate_mutants(f"{subject}.Counter") if m.original == "self.added = amount")
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps({"results": [{"key": added.key, "status": "survived"}]}))
    assert cli.main([*arguments, "--rerun-survivors", str(earlier)]) == 0
    out = capsys.readouterr().out
    assert f"mutation strength of {subject}.Counter" in out
    assert f"survived  {added.label}" in out
    assert [result["key"] for result in json.loads(report.read_text())["results"]] == [added.key]


def test_the_bench_command_refuses_a_chain_without_a_class(capsys):
    assert cli.main(["bench", "--suite", "mutation", "--conformance-target", "chained"]) == 2
    assert "say which class to mutate" in capsys.readouterr().err


def test_the_bench_command_names_an_unknown_class(capsys):
    assert cli.main(["bench", "--suite", "mutation", "--mutate", "btk_nowhere.Thing"]) == 2
    assert "btk_nowhere" in capsys.readouterr().err
