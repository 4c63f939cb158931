"""The downstream benchmark's harness, with fake commands: no package is installed or run here.

The harness's real job (install a downstream package, run its suite twice)
needs the package index and minutes of CPU, so it is exercised by hand with
``butler-testkit bench --suite downstream``, never in this suite.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from butler_testkit.bench import _downstream as downstream
from butler_testkit.bench._downstream import (
    MODE_A,
    MODE_B,
    CaseOutcome,
    CommandResult,
    Deselection,
    DownstreamError,
    ModeSummary,
    RunResult,
    abba_schedule,
    compare_modes,
    data_dependent_tests,
    find_python,
    format_downstream_report,
    parse_junit,
    release_refs,
    resolve_package,
    select_test_files,
    summarise_mode,
)
from butler_testkit.cli import main

# ---------------------------------------------------------------------------
# Package table


def test_packages_resolve_by_distribution_or_repository_name():
    assert resolve_package("lsst-pipe-base").short_name == "pipe_base"
    assert resolve_package("pipe_base").name == "lsst-pipe-base"
    assert resolve_package("ctrl-mpexec").name == "lsst-ctrl-mpexec"
    assert resolve_package("pipe_base", "30.0.2").version == "30.0.2"


def test_unknown_package_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown downstream package 'numpy'.*lsst-pipe-base"):
        resolve_package("numpy")


def test_release_refs_map_weekly_and_numbered_versions_to_tags():
    assert release_refs("30.2026.4300") == ["w.2026.43"]
    assert release_refs("30.2026.500") == ["w.2026.05"]
    assert release_refs("30.0.2") == ["v30.0.2", "30.0.2"]


# ---------------------------------------------------------------------------
# The interpreter


def _version_runner(versions):
    def runner(argv, cwd, env):
        version = versions.get(argv[0])
        if version is None:
            return CommandResult(127, "", "not found")
        return CommandResult(0, f"{version[0]} {version[1]}\n", "")

    return runner


def test_find_python_takes_the_oldest_acceptable_version():
    runner = _version_runner({"py311": (3, 11), "py313": (3, 13), "py312": (3, 12)})
    python, version = find_python((3, 12), runner=runner, candidates=["py311", "py313", "py312", "gone"])
    assert (python, version) == ("py312", (3, 12))


def test_find_python_checks_the_one_asked_for():
    runner = _version_runner({"py311": (3, 11), "py313": (3, 13)})
    assert find_python((3, 12), "py313", runner=runner) == ("py313", (3, 13))
    with pytest.raises(DownstreamError, match=r"'py311' is Python 3.11; need >= 3.12"):
        find_python((3, 12), "py311", runner=runner)
    with pytest.raises(DownstreamError, match="does not run"):
        find_python((3, 12), "gone", runner=runner)


def test_find_python_says_how_to_give_one_when_none_is_found():
    with pytest.raises(DownstreamError, match="--python"):
        find_python((3, 12), runner=_version_runner({"py311": (3, 11)}), candidates=["py311"])


# ---------------------------------------------------------------------------
# Selection


def _write_tests(root: Path, files: dict[str, str]) -> Path:
    (root / "tests").mkdir(parents=True)
    for name, source in files.items():
        (root / "tests" / name).write_text(textwrap.dedent(source))
    return root


def test_selection_finds_files_that_call_a_repository_maker(tmp_path):
    root = _write_tests(
        tmp_path,
        {
            "test_repo.py": "from lsst.daf.butler.tests import makeTestRepo\nrepo = makeTestRepo(root)\n",
            "test_make.py": "config = Butler.makeRepo(root)\nhelper = InMemoryRepo('base.yaml')\n",
            "test_graph.py": "butler, qgraph = simpleQGraph.makeSimpleQGraph(root=tmp)\n",
            "test_mocks.py": "with DirectButlerRepo.make_temporary() as (helper, root):\n    pass\n",
            "test_plain.py": "def test_nothing():\n    assert True\n",
            "test_prose.py": "# makeTestRepo( is only mentioned here\nDOC = 'see Butler.makeRepo(root)'\n",
            "helper.py": "makeTestRepo(root)\n",
        },
    )
    selected = select_test_files(root, downstream.REPOSITORY_MAKERS)
    assert [(file.path, file.matched) for file in selected] == [
        ("tests/test_graph.py", ("simpleQGraph.makeSimpleQGraph/makeSimpleButler",)),
        ("tests/test_make.py", ("Butler.makeRepo", "mocks.InMemoryRepo")),
        ("tests/test_mocks.py", ("mocks.DirectButlerRepo.make_temporary",)),
        ("tests/test_repo.py", ("makeTestRepo",)),
    ]


# ---------------------------------------------------------------------------
# Tests whose data is absent

_DATA_USERS = """
    import os
    import unittest
    from pathlib import Path

    TESTDIR = os.path.abspath(os.path.dirname(__file__))
    PIPELINES = os.path.join(TESTDIR, "pipelines")

    def _read_config():
        return open(os.path.join(TESTDIR, "config", "butler.yaml")).read()

    class UsesDataInSetUp(unittest.TestCase):
        def setUp(self):
            self.path = Path(__file__).parent / "data"

        def test_one(self):
            pass

    class SomeTestsUseData(unittest.TestCase):
        def _helper(self):
            return _read_config()

        def test_through_helper(self):
            self._helper()

        def test_pipeline_name(self):
            text = "location: $TESTDIR/pipelines/a.yaml"

        def test_dataset_type_named_config(self):
            DatasetType("config", dimensions=(), storageClass="Config")

        def test_module_name(self):
            return PIPELINES

    class Inherits(SomeTestsUseData):
        def test_own(self):
            pass

    def test_function_uses_data():
        return os.path.join(TESTDIR, "data/x.json")

    def test_function_clean():
        assert True
"""


def test_data_users_are_found_per_class_and_test():
    found = data_dependent_tests(
        textwrap.dedent(_DATA_USERS), "tests/test_x.py", ["config", "data", "pipelines"]
    )
    nodeids = {item.nodeid for item in found}
    assert nodeids == {
        "tests/test_x.py::UsesDataInSetUp",
        "tests/test_x.py::SomeTestsUseData::test_through_helper",
        "tests/test_x.py::SomeTestsUseData::test_pipeline_name",
        "tests/test_x.py::SomeTestsUseData::test_module_name",
        "tests/test_x.py::Inherits::test_through_helper",
        "tests/test_x.py::Inherits::test_pipeline_name",
        "tests/test_x.py::Inherits::test_module_name",
        "tests/test_x.py::test_function_uses_data",
    }
    reasons = {item.nodeid: item.reason for item in found}
    assert reasons["tests/test_x.py::UsesDataInSetUp"].startswith("reads tests/data, absent")
    assert "--repo" in reasons["tests/test_x.py::UsesDataInSetUp"]
    assert reasons["tests/test_x.py::SomeTestsUseData::test_through_helper"].startswith("reads tests/config")


def test_only_absent_directories_deselect():
    source = textwrap.dedent(_DATA_USERS)
    found = {item.nodeid for item in data_dependent_tests(source, "tests/test_x.py", ["data"])}
    assert found == {"tests/test_x.py::UsesDataInSetUp", "tests/test_x.py::test_function_uses_data"}
    assert data_dependent_tests(source, "tests/test_x.py", []) == []


def test_module_level_data_reads_deselect_the_file():
    source = textwrap.dedent(
        """
        import os
        TESTDIR = os.path.dirname(__file__)
        with open(os.path.join(TESTDIR, "data", "cases.json")) as stream:
            CASES = stream.read()

        def test_a():
            pass
        """
    )
    (found,) = data_dependent_tests(source, "tests/test_y.py", ["data"])
    assert found.nodeid == "tests/test_y.py"
    assert found.reason.startswith("reads tests/data")


def test_set_up_module_reading_data_deselects_the_file():
    source = (
        "import os\n\ndef setUpModule():\n    os.listdir(os.path.join(os.path.dirname(__file__), 'config'))\n"
    )
    assert [item.nodeid for item in data_dependent_tests(source, "tests/test_z.py", ["config"])] == [
        "tests/test_z.py"
    ]


# ---------------------------------------------------------------------------
# Outcomes

_JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="2" tests="6">
<testcase classname="tests.test_a.TestThing" name="test_pass" file="tests/test_a.py" line="3" time="0.1"/>
<testcase classname="tests.test_a.TestThing" name="test_fail" file="tests/test_a.py" line="5" time="0.1">
  <failure message="AssertionError: 1 != 2&#10;more detail">traceback</failure></testcase>
<testcase classname="tests.test_a.TestThing" name="test_skip" file="tests/test_a.py" line="7" time="0">
  <skipped type="pytest.skip" message="needs pandas">skip</skipped></testcase>
<testcase classname="tests.test_a" name="test_function[1]" file="tests/test_a.py" line="9" time="0">
  <skipped type="pytest.xfail" message="known bug"/></testcase>
<testcase classname="tests.test_a.TestThing" name="test_teardown" file="tests/test_a.py" line="11" time="0"/>
<testcase classname="tests.test_a.TestThing" name="test_teardown" file="tests/test_a.py" line="11" time="0">
  <error message="failed on teardown with &quot;OSError: busy&quot;">OSError</error></testcase>
<testcase classname="" name="tests.test_broken" time="0">
  <error message="collection failure">ImportError: no module named nope</error></testcase>
<testcase classname="tests.test_b.Case" name="test_x" time="0.2"/>
</testsuite></testsuites>
"""


def test_junit_outcomes_are_read_per_test(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(_JUNIT)
    outcomes = parse_junit(path)
    assert outcomes == {
        "tests/test_a.py::TestThing::test_pass": CaseOutcome("passed"),
        "tests/test_a.py::TestThing::test_fail": CaseOutcome("failed", "AssertionError: 1 != 2"),
        "tests/test_a.py::TestThing::test_skip": CaseOutcome("skipped", "needs pandas"),
        "tests/test_a.py::test_function[1]": CaseOutcome("skipped", "known bug"),
        "tests/test_a.py::TestThing::test_teardown": CaseOutcome(
            "error", 'failed on teardown with "OSError: busy"'
        ),
        "tests.test_broken (collection)": CaseOutcome("error", "collection failure"),
        "tests.test_b.Case::test_x": CaseOutcome("passed"),
    }


def test_abba_alternates_modes_per_round():
    assert abba_schedule(1) == ["A", "B", "B", "A"]
    assert abba_schedule(2) == ["A", "B", "B", "A", "A", "B", "B", "A"]
    assert abba_schedule(2, ["A"]) == ["A", "A", "A", "A"]
    with pytest.raises(ValueError, match="at least 1"):
        abba_schedule(0)


def _run(mode, index, seconds, **outcomes):
    return RunResult(mode, index, seconds, {name: CaseOutcome(*value) for name, value in outcomes.items()})


def test_a_mode_summary_keeps_agreeing_outcomes_and_flags_changing_ones():
    runs = [
        _run("A", 1, 10.0, t1=("passed",), t2=("failed", "boom"), t3=("passed",)),
        _run("B", 2, 5.0, t1=("failed", "other mode"), t2=("failed", "boom")),
        _run("A", 4, 12.0, t1=("passed",), t2=("failed", "boom"), t3=("failed", "timing")),
    ]
    summary = summarise_mode("A", ["-x"], runs)
    assert summary.seconds == [10.0, 12.0]
    assert summary.median_seconds == 11.0
    assert summary.outcomes["t1"] == CaseOutcome("passed")
    assert summary.outcomes["t2"] == CaseOutcome("failed", "boom")
    assert summary.outcomes["t3"] == CaseOutcome("flaky", "failed/passed: timing")
    assert summary.counts() == {"passed": 1, "failed": 1, "skipped": 0, "error": 0, "flaky": 1}


def test_a_mode_whose_runs_could_not_be_made_says_why():
    runs = [
        RunResult("B", 2, 0.1, {}, "pytest does not know --x"),
        RunResult("B", 3, 0.0, {}, "pytest does not know --x"),
    ]
    summary = summarise_mode("B", ["--x"], runs)
    assert summary.problem == "pytest does not know --x"
    assert summary.seconds == []
    assert summary.median_seconds is None


def test_comparison_lists_differences_lost_passes_first_and_failures_in_both():
    a = ModeSummary(
        "A",
        (),
        [1.0],
        {
            "fixed": CaseOutcome("failed", "was broken"),
            "lost": CaseOutcome("passed"),
            "both": CaseOutcome("error", "no data"),
            "same": CaseOutcome("passed"),
            "gone": CaseOutcome("passed"),
        },
    )
    b = ModeSummary(
        "B",
        (),
        [0.5],
        {
            "fixed": CaseOutcome("passed"),
            "lost": CaseOutcome("failed", "FileNotFoundError: x"),
            "both": CaseOutcome("error", "no data"),
            "same": CaseOutcome("passed"),
            "new": CaseOutcome("skipped", "only in B"),
        },
    )
    differences, failing = compare_modes(a, b)
    assert [(d.nodeid, d.lost_pass) for d in differences] == [
        ("gone", True),
        ("lost", True),
        ("fixed", False),
        ("new", False),
    ]
    assert failing == [("both", CaseOutcome("error", "no data"))]


# ---------------------------------------------------------------------------
# Runs that could not be made


def test_an_unknown_switch_is_one_line_not_a_failure_per_test(tmp_path):
    result = CommandResult(
        4,
        "",
        "ERROR: usage: __main__.py [options] [file_or_dir] ...\n"
        "__main__.py: error: unrecognized arguments: --butler-fast-repos\n",
    )
    problem = downstream.classify_run(result, tmp_path / "junit.xml", ["--butler-fast-repos"])
    assert problem.startswith("pytest does not know --butler-fast-repos: the installed butler-testkit")
    other = downstream.classify_run(
        CommandResult(4, "", "error: unrecognized arguments: --other=1"), tmp_path / "j.xml", ["--other=1"]
    )
    assert other == "pytest does not know --other"


def test_runs_without_a_report_or_with_a_bad_exit_are_problems(tmp_path):
    junit = tmp_path / "junit.xml"
    assert downstream.classify_run(CommandResult(3, "", "INTERNALERROR> boom\n"), junit, []) == (
        "pytest exited with 3 (internal error, no JUnit report): INTERNALERROR> boom"
    )
    junit.write_text(_JUNIT)
    assert downstream.classify_run(CommandResult(1, "1 failed", ""), junit, []) is None
    assert "no tests collected" in downstream.classify_run(CommandResult(5, "", ""), junit, [])


# ---------------------------------------------------------------------------
# The environment, cached by its inputs


class _FakeInstaller:
    """Pretends to be venv and pip: makes the interpreter file, records the commands."""

    def __init__(self, fail_on=None):
        self.commands = []
        self.fail_on = fail_on

    def __call__(self, argv, cwd, env):
        self.commands.append(list(argv))
        if self.fail_on and self.fail_on in argv:
            return CommandResult(1, "", "ERROR: no matching distribution")
        if argv[1:3] == ["-m", "venv"]:
            interpreter = Path(argv[3]) / "bin" / "python"
            interpreter.parent.mkdir(parents=True)
            interpreter.write_text("")
        if argv[-1] == "freeze":
            return CommandResult(
                0,
                "# Editable Git install with no remote (butler-testkit==0.1.dev0)\n-e /src\n"
                "lsst-pipe-base==30.2026.4300\npytest==9.0\n",
                "",
            )
        return CommandResult(0, "", "")


def _checkout(tmp_path, dependencies="[]"):
    checkout = tmp_path / "checkout"
    checkout.mkdir(exist_ok=True)
    (checkout / "pyproject.toml").write_text(
        f'[project]\nname = "butler-testkit"\ndependencies = {dependencies}\n'
    )
    return checkout


def test_an_environment_is_built_once_and_reused(tmp_path):
    package = resolve_package("pipe_base")
    installer = _FakeInstaller()
    checkout = _checkout(tmp_path)
    first = downstream.ensure_environment(package, "py312", checkout, tmp_path / "cache", runner=installer)
    install = installer.commands[1]
    assert install[:4] == [str(first), "-m", "pip", "install"]
    assert "lsst-pipe-base==30.2026.4300" in install and "pytest-xdist" in install and "pandas" in install
    assert install[-2:] == ["-e", str(checkout)]
    built = len(installer.commands)
    again = downstream.ensure_environment(package, "py312", checkout, tmp_path / "cache", runner=installer)
    assert again == first
    assert len(installer.commands) == built
    assert downstream.installed_versions(first, ["lsst-pipe-base", "pytest", "numpy", "butler_testkit"]) == {
        "lsst-pipe-base": "30.2026.4300",
        "pytest": "9.0",
        "butler-testkit": "0.1.dev0 (editable)",
    }


def test_an_environment_is_rebuilt_when_its_inputs_change(tmp_path):
    package = resolve_package("pipe_base")
    installer = _FakeInstaller()
    checkout = _checkout(tmp_path)
    first = downstream.ensure_environment(package, "py312", checkout, tmp_path / "cache", runner=installer)
    other_version = resolve_package("pipe_base", "30.2026.4200")
    assert (
        downstream.ensure_environment(other_version, "py312", checkout, tmp_path / "cache", runner=installer)
        != first
    )
    _checkout(tmp_path, dependencies='["faker"]')
    assert (
        downstream.ensure_environment(package, "py312", checkout, tmp_path / "cache", runner=installer)
        != first
    )


def test_a_failed_install_leaves_no_half_built_environment(tmp_path):
    package = resolve_package("pipe_base")
    with pytest.raises(
        DownstreamError, match=r"(?s)installing the packages failed.*no matching distribution"
    ):
        downstream.ensure_environment(
            package,
            "py312",
            _checkout(tmp_path),
            tmp_path / "cache",
            runner=_FakeInstaller(fail_on="install"),
        )
    assert list((tmp_path / "cache" / "venvs").iterdir()) == []


# ---------------------------------------------------------------------------
# The tests and their data


class _FakeDownloader:
    """Pretends to be pip download: writes a source archive with tests/ and no data."""

    def __init__(self, package, files):
        self.package = package
        self.files = files
        self.downloads = 0

    def __call__(self, argv, cwd, env):
        if "download" not in argv:
            return downstream.run_command(argv, cwd, env)
        self.downloads += 1
        import tarfile

        target = Path(argv[argv.index("-d") + 1])
        top = f"{self.package.name.replace('-', '_')}-{self.package.version}"
        staging = target / "staging" / top
        _write_tests(staging, self.files)
        (staging / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
        with tarfile.open(target / f"{top}.tar.gz", "w:gz") as archive:
            archive.add(staging, arcname=top)
        return CommandResult(0, "", "")


def _git(repo, *args):
    import subprocess

    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _bare_repository_with_data(tmp_path, tag):
    work = tmp_path / "upstream"
    (work / "tests" / "config").mkdir(parents=True)
    (work / "tests" / "config" / "butler.yaml").write_text("datastore: {}\n")
    _git(tmp_path, "init", "-q", str(work))
    _git(work, "add", ".")
    _git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "data")
    if tag:
        _git(work, "tag", tag)
    bare = tmp_path / "bare.git"
    _git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def test_sources_take_data_from_a_bare_repository_at_the_release_tag(tmp_path):
    package = resolve_package("ctrl_mpexec")
    fake = _FakeDownloader(package, {"test_a.py": "def test_a():\n    pass\n"})
    bare = _bare_repository_with_data(tmp_path, "w.2026.43")
    sources = downstream.prepare_sources(
        package, Path("python"), tmp_path / "cache", tmp_path / "source", repo=bare, runner=fake
    )
    assert (sources.root / "tests" / "config" / "butler.yaml").read_text() == "datastore: {}\n"
    assert (sources.root / "pyproject.toml").is_file()
    assert sources.data == {"config": "repository w.2026.43"}
    assert sources.absent == ()
    assert sources.note == ""
    # The archive is kept: a second assembly downloads nothing.
    downstream.prepare_sources(package, Path("python"), tmp_path / "cache", tmp_path / "again", runner=fake)
    assert fake.downloads == 1


def test_sources_fall_back_to_head_and_say_so(tmp_path):
    package = resolve_package("ctrl_mpexec")
    fake = _FakeDownloader(package, {"test_a.py": ""})
    bare = _bare_repository_with_data(tmp_path, tag=None)
    sources = downstream.prepare_sources(
        package, Path("python"), tmp_path / "cache", tmp_path / "source", repo=bare, runner=fake
    )
    assert sources.data == {"config": "repository HEAD"}
    assert "has no tag w.2026.43" in sources.note and "HEAD" in sources.note


def test_sources_without_a_repository_list_the_absent_data(tmp_path):
    package = resolve_package("pipe_base")
    fake = _FakeDownloader(package, {"test_a.py": ""})
    sources = downstream.prepare_sources(
        package, Path("python"), tmp_path / "cache", tmp_path / "s", runner=fake
    )
    assert sources.absent == ("config", "data", "pipelines")


def test_a_bad_ref_or_repository_is_refused(tmp_path):
    package = resolve_package("ctrl_mpexec")
    fake = _FakeDownloader(package, {"test_a.py": ""})
    bare = _bare_repository_with_data(tmp_path, tag=None)
    with pytest.raises(DownstreamError, match="--ref 'nope' is not a commit"):
        downstream.prepare_sources(
            package, Path("python"), tmp_path / "cache", tmp_path / "s1", repo=bare, ref="nope", runner=fake
        )
    with pytest.raises(DownstreamError, match="neither a checkout with tests/ nor a git directory"):
        downstream.prepare_sources(
            package, Path("python"), tmp_path / "cache", tmp_path / "s2", repo=tmp_path / "empty", runner=fake
        )


# ---------------------------------------------------------------------------
# Runs of a small suite, with this interpreter standing in for the environment's

_SMALL_SUITE = {
    "conftest.py": """
        def pytest_addoption(parser):
            parser.addoption("--mode-b", action="store_true")
        """,
    "test_small.py": """
        import os
        import pytest

        def test_passes():
            assert os.environ["TMPDIR"].endswith("tmp")

        def test_fails():
            assert 1 == 2, "always"

        def test_passes_in_a_only(request):
            assert not request.config.getoption("--mode-b"), "B broke it"

        @pytest.mark.skip(reason="not here")
        def test_skipped():
            pass

        def test_deselected():
            raise AssertionError("must not run")

        def test_leaves_no_trace():
            # Each run has a fresh copy: a file left by an earlier run is never seen.
            marker = os.path.join(os.path.dirname(__file__), "left-behind")
            assert not os.path.exists(marker)
            open(marker, "w").close()
        """,
}


_NO_SLOW_PLUGINS = [
    f"-pno:{name}" for name in ("cacheprovider", "butler_testkit", "faker", "hypothesispytest", "xdist")
]


def _small_plan(tmp_path, mode_b_args=("--mode-b",)):
    import sys

    sources = tmp_path / "sources"
    _write_tests(sources, _SMALL_SUITE)
    (sources / "pytest.ini").write_text("[pytest]\n")
    return downstream.RunPlan(
        interpreter=Path(sys.executable),
        sources=sources,
        files=("tests/test_small.py",),
        deselected=(Deselection("tests/test_small.py::test_deselected", "reads tests/data, absent"),),
        # Other plugins of this environment left out: they would only slow each run down.
        common_args=("-q", *_NO_SLOW_PLUGINS),
        workers=None,
        mode_args={MODE_A: (), MODE_B: tuple(mode_b_args)},
    )


def test_runs_alternate_in_fresh_copies_and_report_every_outcome(tmp_path):
    plan = _small_plan(tmp_path)
    seen = []
    runs = downstream.execute_schedule(plan, abba_schedule(1), tmp_path / "work", progress=seen.append)
    assert [run.mode for run in runs] == ["A", "B", "B", "A"]
    assert all(run.problem is None and run.seconds > 0 for run in runs)
    a, b = summarise_mode("A", (), runs), summarise_mode("B", ("--mode-b",), runs)
    assert a.counts() == {"passed": 3, "failed": 1, "skipped": 1, "error": 0, "flaky": 0}
    assert "tests/test_small.py::test_deselected" not in a.outcomes
    differences, failing = compare_modes(a, b)
    assert [(d.nodeid, d.lost_pass, d.b.message) for d in differences] == [
        ("tests/test_small.py::test_passes_in_a_only", True, "AssertionError: B broke it")
    ]
    assert [nodeid for nodeid, _ in failing] == ["tests/test_small.py::test_fails"]
    assert "run 4/4: mode A" in seen
    assert list((tmp_path / "work").iterdir()) == []


def test_a_mode_pytest_cannot_start_is_tried_once_and_named(tmp_path):
    plan = _small_plan(tmp_path, mode_b_args=("--no-such-switch",))
    runs = downstream.execute_schedule(plan, abba_schedule(1), tmp_path / "work")
    assert [run.problem for run in runs] == [
        None,
        "pytest does not know --no-such-switch",
        "pytest does not know --no-such-switch",
        None,
    ]
    assert runs[2].seconds == 0.0


def test_a_profiled_pass_reports_categories_and_top_functions(tmp_path):
    plan = _small_plan(tmp_path)
    profile = downstream.profile_mode(plan, MODE_A, tmp_path / "work", top=5)
    assert profile.problem is None
    assert profile.wall > 0
    assert 0 < len(profile.top) <= 5
    assert all(not function.startswith(("/_pytest/", "pluggy")) for function, *_ in profile.top)
    labels = [label for label, _ in downstream.PROFILE_CATEGORIES]
    assert [label for label, *_ in profile.inclusive] == labels
    assert [label for label, _ in profile.exclusive] == [*labels, "other"]
    assert sum(share for _, share in profile.exclusive) == pytest.approx(1.0)
    text = downstream.format_profile(profile)
    assert "Top" in text and "other" in text


# ---------------------------------------------------------------------------
# The report and the command


def _report(modes, runs, profiles=()):
    package = resolve_package("pipe_base")
    return downstream.DownstreamReport(
        package=package,
        python="/usr/bin/python3.12 (Python 3.12)",
        versions={"lsst-pipe-base": "30.2026.4300", "lsst-daf-butler": "30.2026.4300"},
        sources=downstream.SuiteSources(Path("/x"), {"config": "sdist"}, ("data", "pipelines"), "HEAD used"),
        selected=[downstream.SelectedFile("tests/test_a.py", ("makeTestRepo",))],
        deselected=[Deselection("tests/test_a.py::T::test_d", "reads tests/data, absent")],
        common_args=("-Wd", "-r", "a", "-v", "-n", "auto"),
        schedule=[run.mode for run in runs],
        runs=runs,
        modes=modes,
        profiles=list(profiles),
    )


def test_report_shows_counts_times_ratio_differences_and_failures_in_both():
    runs = [
        _run("A", 1, 10.0, t1=("passed",), t2=("failed", "boom")),
        _run("B", 2, 6.0, t1=("failed", "KeyError: 'x'"), t2=("failed", "boom")),
        _run("B", 3, 8.0, t1=("failed", "KeyError: 'x'"), t2=("failed", "boom")),
        _run("A", 4, 12.0, t1=("passed",), t2=("failed", "boom")),
    ]
    modes = [summarise_mode("A", ("-p", "no:butler_testkit"), runs), summarise_mode("B", ("--fast",), runs)]
    report = _report(modes, runs)
    assert not report.ok
    text = format_downstream_report(report)
    assert "tests/config: sdist" in text and "tests/data: absent" in text and "note: HEAD used" in text
    assert "tests/test_a.py  [makeTestRepo]" in text
    assert "tests/test_a.py::T::test_d: reads tests/data, absent" in text
    assert "order: A B B A" in text
    assert "11.0 s  10.0, 12.0" in text and "7.0 s  6.0, 8.0" in text
    assert "B/A wall time (medians): 0.64" in text
    assert "LOST PASS t1: A passed, B failed: KeyError: 'x'" in text
    assert "Tests failing in both modes (1):\n    t2: failed: boom" in text
    assert text.endswith("FAILED: tests that pass in A fail in B (LOST PASS above)")


def test_report_of_an_unknown_switch_is_one_line_and_fails_the_gate():
    problem = "pytest does not know --butler-fast-repos: the installed butler-testkit has no such switch yet"
    runs = [
        _run("A", 1, 10.0, t1=("passed",)),
        RunResult("B", 2, 0.5, {}, problem),
        RunResult("B", 3, 0.0, {}, problem),
        _run("A", 4, 12.0, t1=("passed",)),
    ]
    modes = [summarise_mode("A", (), runs), summarise_mode("B", ("--butler-fast-repos",), runs)]
    report = _report(modes, runs)
    text = format_downstream_report(report)
    assert text.count("does not know --butler-fast-repos") == 1
    assert f"B    not run: {problem}" in text
    assert "B/A" not in text
    assert not report.ok
    assert text.endswith("FAILED: a run could not be made")


def test_report_of_a_clean_comparison_passes_the_gate():
    runs = [_run(mode, i, 5.0, t1=("passed",)) for i, mode in enumerate("ABBA", start=1)]
    modes = [summarise_mode("A", (), runs), summarise_mode("B", (), runs)]
    report = _report(modes, runs)
    assert report.ok
    assert format_downstream_report(report).endswith("OK: no test that passes in A fails in B")


def test_cli_refuses_an_unknown_package_and_bad_rounds(capsys):
    assert main(["bench", "--suite", "downstream", "--package", "numpy"]) == 2
    assert "unknown downstream package 'numpy'" in capsys.readouterr().err
    assert main(["bench", "--suite", "downstream", "--rounds", "0"]) == 2
    assert "rounds must be at least 1 (or 0 with --profile alone), not 0" in capsys.readouterr().err


def test_cli_passes_the_options_through(monkeypatch, tmp_path, capsys):
    received = {}

    def fake_run(options, *, progress):
        received["options"] = options
        runs = [_run(mode, i, 1.0, t1=("passed",)) for i, mode in enumerate("AA", start=1)]
        return _report([summarise_mode("A", options.a_args, runs)], runs)

    monkeypatch.setattr(downstream, "run_downstream_bench", fake_run)
    status = main(
        [
            *("bench", "--suite", "downstream", "--package", "ctrl_mpexec", "--package-version", "30.0.2"),
            *("--python", "py", "--repo", str(tmp_path), "--ref", "main", "--workers", "2", "--rounds", "2"),
            *("--b-args", "-p no:cacheprovider", "--a-only", "--profile", "--cache-dir", str(tmp_path)),
            *("--files", "test_a*", "tests/test_b.py"),
        ]
    )
    options = received["options"]
    assert status == 0
    assert (options.package.name, options.package.version) == ("lsst-ctrl-mpexec", "30.0.2")
    assert (options.python, options.repo, options.ref, options.workers, options.rounds) == (
        "py",
        tmp_path,
        "main",
        "2",
        2,
    )
    assert options.a_args == ("-p", "no:butler_testkit")
    assert options.b_args == ("-p", "no:cacheprovider")
    assert options.a_only and options.profile and options.cache_dir == tmp_path
    assert options.only == ("test_a*", "tests/test_b.py")
    assert "Tests failing in mode A (0)" in capsys.readouterr().out


def test_report_of_profiled_passes_alone_has_no_timing_table():
    profile = downstream.ProfileSummary(
        "A",
        100.0,
        top=[("/site-packages/lsst/daf/butler/_butler.py:makeRepo", 40, 1.0, 30.0)],
        inclusive=[("makeRepo", 30.0, 40)],
        exclusive=[("makeRepo", 0.25), ("other", 0.75)],
    )
    report = _report([summarise_mode("A", (), [])], [], [profile])
    text = format_downstream_report(report)
    assert "order: (no timed runs: profiled passes only)" in text
    assert "median wall" not in text and "Tests failing" not in text
    assert " 25.0%     25.0 s  makeRepo" in text
    assert "30.0 s       40 calls    750.0 ms each  makeRepo" in text
    assert "lsst/daf/butler/_butler.py:makeRepo" in text and "/site-packages/" not in text
    assert text.endswith("OK: every run was made")


def test_files_patterns_match_names_or_paths():
    assert downstream._matches_any("tests/test_config_formatter.py", ["test_config_*"])
    assert downstream._matches_any("tests/test_config_formatter.py", ["tests/test_config_formatter.py"])
    assert not downstream._matches_any("tests/test_task.py", ["test_config_*"])


def test_sources_take_data_from_a_checkout_or_its_history(tmp_path):
    package = resolve_package("ctrl_mpexec")
    fake = _FakeDownloader(package, {"test_a.py": ""})
    bare = _bare_repository_with_data(tmp_path, "w.2026.43")
    checkout = tmp_path / "upstream"
    (checkout / "tests" / "config" / "butler.yaml").write_text("changed in the work tree\n")
    cache = tmp_path / "cache"
    work_tree = downstream.prepare_sources(
        package, Path("python"), cache, tmp_path / "s1", repo=checkout, runner=fake
    )
    assert work_tree.data == {"config": f"checkout {checkout}"}
    assert (work_tree.root / "tests" / "config" / "butler.yaml").read_text() == "changed in the work tree\n"
    tagged = downstream.prepare_sources(
        package, Path("python"), cache, tmp_path / "s2", repo=checkout, ref="w.2026.43", runner=fake
    )
    assert tagged.data == {"config": "repository w.2026.43"}
    assert (tagged.root / "tests" / "config" / "butler.yaml").read_text() == "datastore: {}\n"
    assert bare.is_dir()
