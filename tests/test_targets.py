"""One target parser for check and bench, and built-in targets shipped as package data."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lsst.daf.butler.datastore import DatastoreConfig

from butler_testkit import bench, conformance
from butler_testkit.conformance import SAMPLE_FORMATTERS
from butler_testkit.factories import file_datastore_config
from butler_testkit.targets import TargetError, parse_target, read_builtin_targets, read_target_file

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize(
    ("resolve", "kind"), [(conformance.resolve_target, "conformance"), (bench.resolve_target, "benchmark")]
)
@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("missing.yaml", "'missing.yaml' does not exist"),
        ("no_such_package.MyDatastore", "Cannot import datastore class 'no_such_package.MyDatastore'"),
        ("butler_testkit.factories.MetricsRecord", "is not a Datastore subclass"),
        ("not a target", "Unknown {kind} target 'not a target'"),
    ],
)
def test_check_and_bench_refuse_the_same_targets_the_same_way(resolve, kind, spec, match):
    with pytest.raises(TargetError, match=match.format(kind=kind)):
        resolve(spec)


def test_a_registry_suffix_is_for_the_commands_that_take_one():
    assert bench.resolve_target("ours-copy@fakes").registry == "fakes"
    with pytest.raises(TargetError, match="Unknown conformance target 'inmemory@fakes'"):
        conformance.resolve_target("inmemory@fakes")


def test_a_target_file_holds_a_datastore_a_description_and_a_conformance_section(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "description: ours, by reference\n"
        "datastore: {cls: butler_testkit.InMemoryDatastore, isolation: reference}\n"
        "conformance: {capabilities: {ephemeral: true}}\n"
    )
    target = read_target_file(path)
    assert (target.name, target.description, target.origin) == ("mine", "ours, by reference", "file")
    assert dict(target.config) == {"cls": "butler_testkit.InMemoryDatastore", "isolation": "reference"}
    assert target.declaration == {"capabilities": {"ephemeral": True}}
    flat = tmp_path / "flat.json"
    flat.write_text('{"cls": "butler_testkit.InMemoryDatastore"}')
    assert parse_target(str(flat), {}, kind="target").declaration is None


def test_the_built_in_file_targets_are_the_catalogues_file_datastore():
    specs = read_builtin_targets("butler_testkit.conformance", "builtin_targets.yaml")
    expected = file_datastore_config("<butlerRoot>/files").toDict()
    # and the formatters of the suite's own storage classes that are written
    expected["formatters"].update(SAMPLE_FORMATTERS)
    assert DatastoreConfig(dict(specs["file"].config)).toDict() == expected
    assert specs["chained"].config["datastores"][0] == specs["file"].config


def test_the_built_in_targets_ship_in_the_wheel_and_load_from_it(tmp_path):
    # Built as a user's pip would, then imported from the wheel itself (a zip
    # on sys.path), so the package data is read through importlib.resources.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("butler_testkit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "butler_testkit/conformance/builtin_targets.yaml" in names
    assert "butler_testkit/bench/builtin_targets.yaml" in names
    code = (
        "import butler_testkit, butler_testkit.bench as b, butler_testkit.conformance as c; "
        "print(butler_testkit.__file__); print(' '.join(c.BUILTIN_TARGETS)); "
        "print(' '.join(b.BUILTIN_TARGETS)); "
        "print(len(c.BUILTIN_TARGETS['file'].divergences))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(wheel)},
        capture_output=True,
        text=True,
        check=True,
    )
    location, checks, benches, file_divergences = completed.stdout.strip().splitlines()
    assert location.startswith(str(wheel))
    assert checks.split() == list(conformance.BUILTIN_TARGETS)
    assert benches.split() == list(bench.BUILTIN_TARGETS)
    assert int(file_divergences) == len(conformance.BUILTIN_TARGETS["file"].divergences)
