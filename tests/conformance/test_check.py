"""Targets and ``butler-testkit check``: resolution, errors, the matrix and the exit status."""

from __future__ import annotations

import json
import pathlib
import textwrap

import pytest

from butler_testkit import cli
from butler_testkit.conformance import BUILTIN_TARGETS, Capabilities, TargetError, resolve_target

ROOT = pathlib.Path(__file__).parents[2]


def test_built_in_names_resolve_to_the_built_in_targets():
    for name, target in BUILTIN_TARGETS.items():
        assert resolve_target(name) is target
    assert list(BUILTIN_TARGETS) == ["inmemory", "upstream-inmemory", "file", "chained"]


def test_a_config_file_declares_capabilities_and_divergences(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        textwrap.dedent(
            """
            datastore:
              cls: butler_testkit.InMemoryDatastore
              isolation: reference
            conformance:
              capabilities:
                ephemeral: true
                uri_scheme: mem
              divergences:
                test_each_get_returns_a_new_object: reference isolation hands out the stored object
            """
        )
    )
    target = resolve_target(str(path))
    assert target.name == "mine"
    assert target.capabilities == Capabilities(ephemeral=True, uri_scheme="mem")
    assert dict(target.divergences) == {
        "test_each_get_returns_a_new_object": "reference isolation hands out the stored object"
    }
    assert dict(target.config) == {
        "cls": "butler_testkit.InMemoryDatastore",
        "isolation": "reference",
    }


def test_a_json_config_without_a_conformance_section_declares_only_whether_it_is_ephemeral(tmp_path):
    # Its configuration may change what the class does, so the class's own
    # declaration does not apply.
    path = tmp_path / "plain.json"
    path.write_text(json.dumps({"cls": "butler_testkit.InMemoryDatastore"}))
    target = resolve_target(str(path))
    assert target.capabilities == Capabilities.partial(ephemeral=True)
    assert target.divergences == {}
    assert target.stored_state_view is None


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (
            "cls: butler_testkit.InMemoryDatastore\nconformance: {capabilities: {teleports: true}}\n",
            "teleports",
        ),
        (
            "cls: butler_testkit.InMemoryDatastore\nconformance: {capabilities: {ephemeral: maybe}}\n",
            "ephemeral",
        ),
        ("cls: butler_testkit.InMemoryDatastore\nconformance: {divergences: {test_x: ''}}\n", "one-line"),
        ("cls: butler_testkit.InMemoryDatastore\nconformance: {skip: everything}\n", "'capabilities', 'div"),
        (
            "cls: butler_testkit.InMemoryDatastore\nconformance: {stored_state_view: no_such.View}\n",
            "Cannot make the stored_state_view 'no_such.View'",
        ),
        (
            "cls: butler_testkit.InMemoryDatastore\n"
            "conformance: {stored_state_view: butler_testkit.factories.BBox}\n",
            "Cannot make the stored_state_view|is not a StoredStateView",
        ),
        ("datastore: {cls: butler_testkit.InMemoryDatastore}\nconformance: {}\nextra: 1\n", "beside each"),
        ("isolation: copy\n", "has no 'cls'"),
    ],
)
def test_a_bad_config_file_is_refused_saying_why(tmp_path, content, match):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(TargetError, match=match):
        resolve_target(str(path))


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("missing.yaml", "does not exist"),
        ("no_such_package.MyDatastore", "Cannot import datastore class"),
        ("butler_testkit.factories.MetricsRecord", "is not a Datastore subclass"),
        ("not a target", "Unknown conformance target"),
    ],
)
def test_an_unusable_target_is_refused_saying_why(spec, match):
    with pytest.raises(TargetError, match=match):
        resolve_target(spec)


def test_check_refuses_an_unknown_target_before_running_anything(capsys):
    assert cli.main(["check", "inmemory", "not a target"]) == 2
    assert "Unknown conformance target 'not a target'" in capsys.readouterr().err


def test_check_refuses_a_bad_worker_count(capsys):
    assert cli.main(["check", "-n", "two"]) == 2
    assert "-n takes a number or 'auto'" in capsys.readouterr().err


def test_check_prints_one_matrix_and_fails_on_an_unexplained_failure(capsys, monkeypatch, tmp_path):
    # The repository root, so that the class path of a broken datastore imports.
    monkeypatch.chdir(ROOT)
    status = cli.main(
        ["check", "inmemory", "tests.conformance.broken.LyingExists", "-k", "exist and not random"]
    )
    output = capsys.readouterr().out
    assert status == 1
    header = next(line for line in output.splitlines() if line.startswith("area"))
    assert header.split(" | ")[1:] == ["inmemory", "LyingExists"]
    assert "LyingExists: " in output and "DOES NOT CONFORM" in output
    assert "test_an_unknown_dataset_neither_exists_nor_is_known" in output
    assert output.rstrip().endswith("butler-testkit check: FAILED: LyingExists (unexplained failures above)")


def test_check_hands_workers_keyword_and_seed_to_pytest(monkeypatch, capsys):
    commands = []

    def fake_run(command, **kwargs):
        commands.append(command)
        raise SystemExit(0)

    monkeypatch.setattr("butler_testkit.conformance._check.subprocess.run", fake_run)
    with pytest.raises(SystemExit):
        cli.main(["check", "file", "-n", "auto", "-k", "transactions", "--seed", "7"])
    (command,) = commands
    assert command[command.index("-n") + 1] == "auto"
    assert command[command.index("-k") + 1] == "transactions"
    assert "--butler-seed=7" in command
    assert "--noconftest" in command
