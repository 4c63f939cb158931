"""Downstream benchmark: a package's own Butler tests, as is and with ``--butler-fast-repos``.

A downstream package (``lsst-pipe-base`` by default) is installed in a virtual
environment of its own, cached between runs, together with this checkout of
butler-testkit, pytest and pytest-xdist. The test files of its source
distribution that make Butler repositories are run the way its maintainers
run them, in two modes alternating A B B A: as is (A), and with the switch
(B). Each run gets a fresh copy of the tests and fresh temporary directories,
and reports its outcomes in JUnit XML; the report compares the modes test by
test and times them.

Only the standard library is used here, and nothing of ``lsst.daf.butler``
is imported: the package under test lives in another interpreter.
"""

from __future__ import annotations

__all__ = (
    "DEFAULT_PACKAGE",
    "MODE_A",
    "MODE_B",
    "PACKAGES",
    "PROFILE_CATEGORIES",
    "REPOSITORY_MAKERS",
    "CaseOutcome",
    "CommandResult",
    "Deselection",
    "DownstreamError",
    "DownstreamOptions",
    "DownstreamPackage",
    "DownstreamReport",
    "ModeSummary",
    "ProfileSummary",
    "RepositoryRule",
    "RunResult",
    "SelectedFile",
    "abba_schedule",
    "compare_modes",
    "data_dependent_tests",
    "find_python",
    "format_downstream_report",
    "format_profile",
    "parse_junit",
    "release_refs",
    "resolve_package",
    "run_downstream_bench",
    "select_test_files",
    "summarise_mode",
)

import ast
import dataclasses
import fnmatch
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tokenize
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path

MODE_A = "A"
MODE_B = "B"
FAST_REPOS_OPTION = "--butler-fast-repos"

# Bump when what goes into an environment changes in a way its inputs do not show.
_ENVIRONMENT_SCHEMA = 1


class DownstreamError(RuntimeError):
    """A downstream benchmark could not be prepared or run."""


@dataclasses.dataclass(frozen=True)
class RepositoryRule:
    """One way a test file makes a Butler repository, found in its code.

    Parameters
    ----------
    label : `str`
        What the report calls it.
    pattern : `str`
        A regular expression searched in the file's code, with comments and
        string literals blanked out so that a mention in prose is no match.
    """

    label: str
    pattern: str


# Calls that make a Butler repository, directly or through a helper of
# daf_butler or pipe_base that a test suite cannot edit.
REPOSITORY_MAKERS: tuple[RepositoryRule, ...] = (
    RepositoryRule("makeTestRepo", r"\bmakeTestRepo\s*\("),
    RepositoryRule("Butler.makeRepo", r"\bmakeRepo\s*\("),
    RepositoryRule("MetricTestRepo", r"\bMetricTestRepo\s*\("),
    RepositoryRule("create_populated_sqlite_registry", r"\bcreate_populated_sqlite_registry\s*\("),
    RepositoryRule("simpleQGraph.makeSimpleQGraph/makeSimpleButler", r"\bmakeSimple(?:QGraph|Butler)\s*\("),
    RepositoryRule("mocks.InMemoryRepo", r"\bInMemoryRepo\s*\("),
    RepositoryRule("mocks.DirectButlerRepo.make_temporary", r"\bDirectButlerRepo\s*\.\s*make_temporary\s*\("),
)


@dataclasses.dataclass(frozen=True)
class DownstreamPackage:
    """How to benchmark one downstream package.

    Parameters
    ----------
    name : `str`
        Its distribution name on the package index.
    version : `str`
        The version benchmarked unless another is asked for.
    repository : `str`
        Its public source repository (``owner/name``), where the test data
        that its source distribution leaves out lives.
    data_dirs : `tuple` [`str`, ...]
        Directories under ``tests/`` that its tests read and that may be
        missing from the source distribution.
    min_python : `tuple` [`int`, `int`]
        The oldest Python it supports.
    extra_requirements : `tuple` [`str`, ...]
        What its CI installs besides its dependencies and pytest.
    pytest_args : `tuple` [`str`, ...]
        How its CI runs pytest, less coverage, JUnit and the worker count.
    rules : `tuple` [`RepositoryRule`, ...]
        Which test files count as making Butler repositories.
    """

    name: str
    version: str
    repository: str
    data_dirs: tuple[str, ...]
    min_python: tuple[int, int] = (3, 12)
    extra_requirements: tuple[str, ...] = ()
    pytest_args: tuple[str, ...] = ("-Wd", "-r", "a", "-v")
    rules: tuple[RepositoryRule, ...] = REPOSITORY_MAKERS

    @property
    def short_name(self) -> str:
        """The repository's name, e.g. ``pipe_base`` (`str`)."""
        return self.repository.rpartition("/")[2]


# One row per supported package: everything that differs between them.
PACKAGES: dict[str, DownstreamPackage] = {
    package.name: package
    for package in (
        DownstreamPackage(
            name="lsst-pipe-base",
            version="30.2026.4300",
            repository="lsst/pipe_base",
            data_dirs=("config", "data", "pipelines"),
            # Its CI adds these so that no test is skipped for want of them.
            extra_requirements=("pandas", "pyarrow", "astropy"),
        ),
        DownstreamPackage(
            name="lsst-ctrl-mpexec",
            version="30.2026.4300",
            repository="lsst/ctrl_mpexec",
            data_dirs=("config",),
        ),
    )
}
DEFAULT_PACKAGE = "lsst-pipe-base"


def resolve_package(name: str, version: str | None = None) -> DownstreamPackage:
    """Find a package's settings by distribution or repository name.

    Parameters
    ----------
    name : `str`
        ``lsst-pipe-base``, ``pipe_base``, ``lsst_pipe_base`` ...
    version : `str`, optional
        A version other than the table's.

    Returns
    -------
    package : `DownstreamPackage`
        Its settings.

    Raises
    ------
    ValueError
        If no package of that name is in the table.
    """
    wanted = name.strip().lower().replace("_", "-")
    for package in PACKAGES.values():
        if wanted in (package.name, package.short_name.replace("_", "-"), package.name.removeprefix("lsst-")):
            return dataclasses.replace(package, version=version) if version else package
    known = ", ".join(f"{p.name} ({p.short_name})" for p in PACKAGES.values())
    raise ValueError(f"unknown downstream package {name!r}; known: {known}")


def release_refs(version: str) -> list[str]:
    """Git references that may name a release in an LSST repository.

    Parameters
    ----------
    version : `str`
        A distribution version: ``30.2026.4300`` (weekly ``w.2026.43``) or
        ``30.0.2`` (release ``v30.0.2``).

    Returns
    -------
    refs : `list` [`str`]
        Candidate tags, most likely first.
    """
    weekly = re.fullmatch(r"\d+\.(\d{4})\.(\d+)00", version)
    if weekly:
        return [f"w.{weekly.group(1)}.{int(weekly.group(2)):02d}"]
    return [f"v{version}", version]


# ---------------------------------------------------------------------------
# Running commands


@dataclasses.dataclass(frozen=True)
class CommandResult:
    """What a finished command left.

    Parameters
    ----------
    returncode : `int`
        Its exit status.
    stdout, stderr : `str`
        What it printed.
    """

    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[Sequence[str], Path | None, Mapping[str, str] | None], CommandResult]
Progress = Callable[[str], None]


def run_command(
    argv: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> CommandResult:
    """Run a command to completion and capture its output.

    Parameters
    ----------
    argv : `~collections.abc.Sequence` [`str`]
        The command.
    cwd : `~pathlib.Path`, optional
        Its working directory.
    env : `~collections.abc.Mapping` [`str`, `str`], optional
        Its whole environment; this process's by default.

    Returns
    -------
    result : `CommandResult`
        Its exit status and output.
    """
    completed = subprocess.run(
        list(argv), cwd=cwd, env=dict(env) if env is not None else None, capture_output=True, text=True
    )
    return CommandResult(completed.returncode, completed.stdout, completed.stderr)


def _checked(runner: Runner, argv: Sequence[str], what: str, cwd: Path | None = None) -> CommandResult:
    result = runner(argv, cwd, None)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise DownstreamError(f"{what} failed (exit {result.returncode}): {shlex.join(argv)}\n{tail}")
    return result


# ---------------------------------------------------------------------------
# The interpreter and the environment


def _python_version(runner: Runner, python: str) -> tuple[int, int] | None:
    try:
        result = runner([python, "-c", "import sys; print(*sys.version_info[:2])"], None, None)
    except OSError:
        return None
    if result.returncode != 0:
        return None
    major, _, minor = result.stdout.strip().partition(" ")
    return (int(major), int(minor)) if major.isdigit() and minor.isdigit() else None


def _python_candidates() -> list[str]:
    candidates = [sys.executable]
    for minor in range(12, 16):
        found = shutil.which(f"python3.{minor}")
        if found:
            candidates.append(found)
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates.extend(str(path) for path in sorted((pyenv_root / "versions").glob("3.*/bin/python3")))
    return candidates


def find_python(
    minimum: tuple[int, int],
    explicit: str | None = None,
    *,
    runner: Runner = run_command,
    candidates: Iterable[str] | None = None,
) -> tuple[str, tuple[int, int]]:
    """Find an interpreter new enough for a downstream package.

    Parameters
    ----------
    minimum : `tuple` [`int`, `int`]
        The oldest acceptable ``(major, minor)``.
    explicit : `str`, optional
        The interpreter asked for; it is checked, never replaced.
    runner : callable, optional
        Runs the version probes.
    candidates : iterable of `str`, optional
        Where to look when none is asked for: this interpreter,
        ``python3.X`` on the path and pyenv's versions by default.

    Returns
    -------
    python : `str`
        The interpreter: the one asked for, or else the oldest acceptable
        version found (the package's oldest supported Python, as its CI).
    version : `tuple` [`int`, `int`]
        Its version.

    Raises
    ------
    DownstreamError
        If the one asked for does not run or is too old, or none is found.
    """
    wanted = ".".join(map(str, minimum))
    if explicit is not None:
        version = _python_version(runner, explicit)
        if version is None:
            raise DownstreamError(f"--python {explicit!r} does not run as a Python interpreter")
        if version < minimum:
            raise DownstreamError(
                f"--python {explicit!r} is Python {version[0]}.{version[1]}; need >= {wanted}"
            )
        return explicit, version
    found: list[tuple[tuple[int, int], int, str]] = []
    for order, candidate in enumerate(
        dict.fromkeys(candidates if candidates is not None else _python_candidates())
    ):
        version = _python_version(runner, candidate)
        if version is not None and version >= minimum:
            found.append((version, order, candidate))
    if not found:
        raise DownstreamError(
            f"no Python >= {wanted} found (looked at this interpreter, python3.X on PATH and pyenv's "
            "versions); give one with --python"
        )
    version, _, python = min(found)
    return python, version


def find_checkout() -> Path:
    """Find the butler-testkit source tree this module runs from.

    Returns
    -------
    checkout : `~pathlib.Path`
        The directory holding its ``pyproject.toml``.

    Raises
    ------
    DownstreamError
        If this module is not inside a source checkout (an installed wheel).
    """
    here = Path(__file__).resolve()
    for parent in here.parents:
        pyproject = parent / "pyproject.toml"
        if pyproject.is_file() and 'name = "butler-testkit"' in pyproject.read_text():
            return parent
    raise DownstreamError(
        f"butler-testkit runs from {here.parent}, not from a source checkout: the downstream benchmark "
        "installs the checkout it runs from, so run it from an editable install"
    )


def default_cache_dir() -> Path:
    """Where environments and source distributions are kept between runs.

    Returns
    -------
    path : `~pathlib.Path`
        ``$XDG_CACHE_HOME/butler-testkit/downstream`` (``~/.cache`` without it).
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "butler-testkit" / "downstream"


def environment_key(package: DownstreamPackage, python: str, checkout: Path) -> dict[str, object]:
    """Everything that decides what a downstream environment holds.

    Parameters
    ----------
    package : `DownstreamPackage`
        The package installed.
    python : `str`
        The base interpreter.
    checkout : `~pathlib.Path`
        The butler-testkit checkout installed (editable, so only its
        dependencies, in ``pyproject.toml``, are part of the key).

    Returns
    -------
    key : `dict`
        JSON-serialisable; a different key means a new environment.
    """
    pyproject = (checkout / "pyproject.toml").read_bytes()
    return {
        "schema": _ENVIRONMENT_SCHEMA,
        "requirements": [
            f"{package.name}=={package.version}",
            "pytest",
            "pytest-xdist",
            *package.extra_requirements,
        ],
        "python": os.path.realpath(python),
        "checkout": str(checkout),
        "checkout_pyproject": hashlib.sha256(pyproject).hexdigest(),
    }


def ensure_environment(
    package: DownstreamPackage,
    python: str,
    checkout: Path,
    cache_dir: Path,
    *,
    runner: Runner = run_command,
    progress: Progress = lambda line: None,
) -> Path:
    """Return the interpreter of the package's environment, building it if needed.

    Parameters
    ----------
    package : `DownstreamPackage`
        What to install, with pytest and pytest-xdist.
    python : `str`
        The base interpreter of the environment.
    checkout : `~pathlib.Path`
        The butler-testkit checkout, installed editable.
    cache_dir : `~pathlib.Path`
        Where environments live; one is reused while its key is unchanged.
    runner : callable, optional
        Runs ``venv`` and ``pip``.
    progress : callable, optional
        Told what is happening.

    Returns
    -------
    python : `~pathlib.Path`
        The environment's interpreter.

    Raises
    ------
    DownstreamError
        If the environment cannot be built; a half-built one is removed.
    """
    key = environment_key(package, python, checkout)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    venv = cache_dir / "venvs" / f"{package.short_name}-{package.version}-{digest}"
    marker = venv / "butler-testkit-environment.json"
    interpreter = venv / "bin" / "python"
    if marker.is_file() and interpreter.exists():
        progress(f"reusing the environment {venv}")
        return interpreter
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    progress(f"building the environment {venv} (minutes, once)")
    try:
        _checked(runner, [python, "-m", "venv", str(venv)], "creating the virtual environment")
        requirements = key["requirements"]
        assert isinstance(requirements, list)
        _checked(
            runner,
            [str(interpreter), "-m", "pip", "install", "-q", *requirements, "-e", str(checkout)],
            "installing the packages",
        )
        freeze = _checked(runner, [str(interpreter), "-m", "pip", "freeze"], "listing the packages")
    except BaseException:
        shutil.rmtree(venv, ignore_errors=True)
        raise
    marker.write_text(json.dumps({"key": key, "freeze": freeze.stdout.splitlines()}, indent=1))
    return interpreter


def installed_versions(interpreter: Path, names: Iterable[str]) -> dict[str, str]:
    """Versions of some distributions in an environment built here.

    Parameters
    ----------
    interpreter : `~pathlib.Path`
        The environment's interpreter.
    names : iterable of `str`
        Distribution names.

    Returns
    -------
    versions : `dict` [`str`, `str`]
        Those installed, by name.
    """
    marker = interpreter.parent.parent / "butler-testkit-environment.json"
    try:
        freeze = json.loads(marker.read_text())["freeze"]
    except (OSError, ValueError, KeyError):
        return {}
    wanted = {name.lower().replace("_", "-") for name in names}
    versions = {}
    for line in freeze:
        # An editable install is a comment "# Editable ... (name==version)" before its "-e" line.
        editable = re.search(r"\((\S+)==(\S+)\)$", line) if line.startswith("# Editable") else None
        if editable:
            name, version = editable.group(1), f"{editable.group(2)} (editable)"
        else:
            name, sep, version = line.partition("==")
            if not sep:
                continue
        if name.lower().replace("_", "-") in wanted:
            versions[name] = version
    return versions


# ---------------------------------------------------------------------------
# The tests and their data

_ROOT_CONFIG_FILES = ("pyproject.toml", "setup.cfg", "pytest.ini", "tox.ini", "conftest.py")


@dataclasses.dataclass(frozen=True)
class SuiteSources:
    """A package's tests, ready to be copied for each run.

    Parameters
    ----------
    root : `~pathlib.Path`
        The directory to copy: ``tests/`` and the configuration pytest reads.
    data : `dict` [`str`, `str`]
        Where each data directory came from (``sdist``, ``repository REF``),
        by name.
    absent : `tuple` [`str`, ...]
        Data directories found nowhere.
    note : `str`
        Anything the reader should know about where the data came from.
    """

    root: Path
    data: dict[str, str]
    absent: tuple[str, ...]
    note: str = ""


def _sdist(package: DownstreamPackage, interpreter: Path, cache_dir: Path, runner: Runner) -> Path:
    extracted = cache_dir / "sdists" / f"{package.name}-{package.version}"
    if (extracted / "tests").is_dir():
        return extracted
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as download:
        _checked(
            runner,
            [
                str(interpreter),
                *("-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"),
                *(f"{package.name}=={package.version}", "-d", download),
            ],
            f"downloading the source distribution of {package.name}=={package.version}",
        )
        archives = sorted(Path(download).glob("*.tar.gz"))
        if len(archives) != 1:
            raise DownstreamError(f"expected one source archive of {package.name}, found {archives}")
        staging = Path(download) / "extracted"
        with tarfile.open(archives[0]) as archive:
            archive.extractall(staging, filter="data")
        (top,) = staging.iterdir()
        if not (top / "tests").is_dir():
            raise DownstreamError(f"the source distribution of {package.name} has no tests/ directory")
        extracted.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(extracted, ignore_errors=True)
        shutil.move(str(top), extracted)
    return extracted


def _is_git_dir(repo: Path, runner: Runner) -> bool:
    result = runner(["git", f"--git-dir={repo}", "rev-parse", "--git-dir"], None, None)
    return result.returncode == 0


def resolve_ref(repo: Path, version: str, explicit: str | None, runner: Runner) -> tuple[str, str]:
    """Choose the commit of a git directory that matches a release.

    Parameters
    ----------
    repo : `~pathlib.Path`
        A git directory (bare or not).
    version : `str`
        The distribution version whose tag is looked for.
    explicit : `str`, optional
        The reference asked for; used as is.
    runner : callable
        Runs git.

    Returns
    -------
    ref : `str`
        The reference to read.
    note : `str`
        Empty when it is the release's tag or the one asked for; otherwise
        why ``HEAD`` was used.

    Raises
    ------
    DownstreamError
        If the reference asked for is not in the repository.
    """
    candidates = [explicit] if explicit else release_refs(version)
    for ref in candidates:
        result = runner(
            ["git", f"--git-dir={repo}", "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"], None, None
        )
        if result.returncode == 0:
            return ref, ""
    if explicit:
        raise DownstreamError(f"--ref {explicit!r} is not a commit of {repo}")
    described = runner(["git", f"--git-dir={repo}", "describe", "--tags", "--always", "HEAD"], None, None)
    head = described.stdout.strip() or "HEAD"
    return "HEAD", (
        f"{repo} has no tag {' or '.join(candidates)} for {version}; its HEAD ({head}) was used, so the data "
        "may differ from the release's"
    )


def prepare_sources(
    package: DownstreamPackage,
    interpreter: Path,
    cache_dir: Path,
    destination: Path,
    *,
    repo: Path | None = None,
    ref: str | None = None,
    runner: Runner = run_command,
) -> SuiteSources:
    """Assemble the tests of the source distribution and their data.

    Parameters
    ----------
    package : `DownstreamPackage`
        Whose tests.
    interpreter : `~pathlib.Path`
        Its environment's interpreter, whose pip downloads the archive.
    cache_dir : `~pathlib.Path`
        Where the extracted archive is kept between runs.
    destination : `~pathlib.Path`
        A new directory to assemble into.
    repo : `~pathlib.Path`, optional
        A checkout of the package's repository, or a git directory without a
        work tree, to take the data directories from.
    ref : `str`, optional
        The commit of ``repo`` to read; the release's tag, else ``HEAD``.
    runner : callable, optional
        Runs pip and git.

    Returns
    -------
    sources : `SuiteSources`
        The assembled tree and where its data came from.

    Raises
    ------
    DownstreamError
        If the archive cannot be had or ``repo`` is neither a checkout nor a
        git directory.
    """
    sdist = _sdist(package, interpreter, cache_dir, runner)
    destination.mkdir(parents=True)
    shutil.copytree(sdist / "tests", destination / "tests")
    for name in _ROOT_CONFIG_FILES:
        if (sdist / name).is_file():
            shutil.copy2(sdist / name, destination / name)
    data = {name: "sdist" for name in package.data_dirs if (destination / "tests" / name).is_dir()}
    note = ""
    missing = [name for name in package.data_dirs if name not in data]
    if repo is not None and missing:
        if ref is not None and (repo / ".git").exists():
            # A checkout asked to read another commit: read it from its git directory.
            repo = repo / ".git"
        if (repo / "tests").is_dir() and ref is None:
            for name in missing:
                if (repo / "tests" / name).is_dir():
                    shutil.copytree(repo / "tests" / name, destination / "tests" / name)
                    data[name] = f"checkout {repo}"
        elif _is_git_dir(repo, runner):
            chosen, note = resolve_ref(repo, package.version, ref, runner)
            listed = runner(
                [
                    "git",
                    f"--git-dir={repo}",
                    "ls-tree",
                    "--name-only",
                    chosen,
                    *(f"tests/{n}" for n in missing),
                ],
                None,
                None,
            )
            present = [path.removeprefix("tests/") for path in listed.stdout.split()]
            if present:
                archive = destination / "data.tar"
                _checked(
                    runner,
                    [
                        *("git", f"--git-dir={repo}", "archive", f"--output={archive}", chosen),
                        *(f"tests/{name}" for name in present),
                    ],
                    f"reading the data directories from {repo}",
                )
                with tarfile.open(archive) as tar:
                    tar.extractall(destination, filter="data")
                archive.unlink()
                data.update({name: f"repository {chosen}" for name in present})
        else:
            raise DownstreamError(f"--repo {repo} is neither a checkout with tests/ nor a git directory")
    absent = tuple(name for name in package.data_dirs if name not in data)
    return SuiteSources(destination, data, absent, note)


def _code_only(source: str) -> str:
    # Comments and string literals blanked, so that prose mentioning a helper is no match.
    pieces = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type not in (tokenize.COMMENT, tokenize.STRING) and token.string:
                pieces.append(token.string)
    except (tokenize.TokenError, SyntaxError):
        return source
    return " ".join(pieces)


@dataclasses.dataclass(frozen=True)
class SelectedFile:
    """A test file that makes Butler repositories.

    Parameters
    ----------
    path : `str`
        Relative to the run's root, e.g. ``tests/test_pipeline.py``.
    matched : `tuple` [`str`, ...]
        The labels of the rules it matched.
    """

    path: str
    matched: tuple[str, ...]


def _matches_any(path: str, patterns: Iterable[str]) -> bool:
    name = path.rpartition("/")[2]
    return any(fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(path, pattern) for pattern in patterns)


def select_test_files(root: Path, rules: Sequence[RepositoryRule]) -> list[SelectedFile]:
    """Find the test files that make Butler repositories.

    Parameters
    ----------
    root : `~pathlib.Path`
        The directory holding ``tests/``.
    rules : `~collections.abc.Sequence` [`RepositoryRule`]
        What counts as making a repository.

    Returns
    -------
    selected : `list` [`SelectedFile`]
        Every ``tests/test_*.py`` whose code matches a rule, sorted by path.
    """
    compiled = [(rule.label, re.compile(rule.pattern)) for rule in rules]
    selected = []
    for path in sorted((root / "tests").glob("test_*.py")):
        code = _code_only(path.read_text(encoding="utf-8"))
        matched = tuple(label for label, pattern in compiled if pattern.search(code))
        if matched:
            selected.append(SelectedFile(path.relative_to(root).as_posix(), matched))
    return selected


@dataclasses.dataclass(frozen=True)
class Deselection:
    """Tests left out of every run, and why.

    Parameters
    ----------
    nodeid : `str`
        A pytest node id or a prefix of several (a class, a file).
    reason : `str`
        Why.
    """

    nodeid: str
    reason: str


_FIXTURE_METHODS = frozenset(
    {"setUp", "setUpClass", "tearDown", "tearDownClass", "setup_method", "setup_class", "asyncSetUp"}
)


class _DataReferences:
    """Which scopes of one test module name a path under an absent data directory."""

    def __init__(self, tree: ast.Module, absent: Collection[str]):
        self._absent = tuple(absent)
        self._text_pattern = re.compile(
            r"(?:\$\{?TESTDIR\}?|(?:^|/)tests)/(" + "|".join(map(re.escape, self._absent)) + r")(?:/|$)"
        )
        # Module names bound to the tests directory (TESTDIR = dirname(__file__)) or to data under it.
        self.anchor_names = {"__file__"}
        self.data_names: set[str] = set()
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = {target.id for target in targets if isinstance(target, ast.Name)}
                if self.refers(node.value):
                    self.data_names |= names
                elif self._mentions(node.value, self.anchor_names):
                    self.anchor_names |= names

    @staticmethod
    def _mentions(node: ast.AST, names: Collection[str]) -> bool:
        return any(isinstance(sub, ast.Name) and sub.id in names for sub in ast.walk(node))

    def _is_data_literal(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            head = node.value.split("/", 1)[0]
            return head if head in self._absent else None
        return None

    def refers(self, node: ast.AST) -> str | None:
        """Return the absent data directory ``node`` names a path under, if any."""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                match = self._text_pattern.search(sub.value)
                if match:
                    return match.group(1)
            elif isinstance(sub, ast.Name) and sub.id in self.data_names:
                return "data"
            elif isinstance(sub, ast.Call):
                # join(TESTDIR, "data", ...): a data literal beside the tests directory.
                parts = [*sub.args, *(keyword.value for keyword in sub.keywords)]
                if isinstance(sub.func, ast.Attribute):
                    parts.append(sub.func.value)
                for part in parts:
                    name = self._is_data_literal(part)
                    if name and any(
                        self._mentions(other, self.anchor_names) for other in parts if other is not part
                    ):
                        return name
            elif isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Div):
                name = self._is_data_literal(sub.right)
                if name and self._mentions(sub.left, self.anchor_names):
                    return name
        return None


def _called_names(node: ast.AST) -> set[str]:
    called = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            if isinstance(sub.func, ast.Name):
                called.add(sub.func.id)
            elif (
                isinstance(sub.func, ast.Attribute)
                and isinstance(sub.func.value, ast.Name)
                and sub.func.value.id in ("self", "cls")
            ):
                called.add("." + sub.func.attr)
    return called


def data_dependent_tests(source: str, path: str, absent: Collection[str]) -> list[Deselection]:
    """Find the tests of one file that read an absent data directory.

    A test is found when its code, or a helper it calls in the same file, a
    ``setUp``-like method of its class or a fixture it takes, names a path
    under one of the directories: ``os.path.join(TESTDIR, "data", ...)``,
    ``Path(__file__).parent / "data"``, ``"$TESTDIR/pipelines/x.yaml"``, or a
    module name bound to such a path.

    Parameters
    ----------
    source : `str`
        The file's code.
    path : `str`
        Its path in node ids, e.g. ``tests/test_pipeline.py``.
    absent : `~collections.abc.Collection` [`str`]
        Data directories under ``tests/`` that are missing.

    Returns
    -------
    deselections : `list` [`Deselection`]
        The file itself when its module-level code reads the data, else its
        classes and test functions that do.
    """
    if not absent:
        return []
    tree = ast.parse(source, filename=path)
    references = _DataReferences(tree, absent)

    def reason(directory: str) -> str:
        return f"reads tests/{directory}, absent (give --repo with a checkout of the package's repository)"

    # Code run at import or by setUpModule: the whole file needs the data.
    definitions = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Import | ast.ImportFrom
    for node in tree.body:
        runs_for_the_module = not isinstance(node, definitions | ast.Assign | ast.AnnAssign) or (
            isinstance(node, ast.FunctionDef) and node.name == "setUpModule"
        )
        found = references.refers(node) if runs_for_the_module else None
        if found:
            return [Deselection(path, reason(found))]

    # Scope names: "f" for module functions, "Class.m" for methods; edges by call.
    direct: dict[str, str | None] = {}
    calls: dict[str, set[str]] = {}
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

    def methods(class_name: str, seen: frozenset[str] = frozenset()) -> dict[str, str]:
        # Method name -> defining scope, following bases defined in this file.
        node = classes[class_name]
        table: dict[str, str] = {}
        for base in node.bases:
            if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
                table.update(methods(base.id, seen | {class_name}))
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                table[item.name] = f"{class_name}.{item.name}"
        return table

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            direct[node.name] = references.refers(node)
            calls[node.name] = _called_names(node) | {arg.arg for arg in node.args.args}
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    scope = f"{node.name}.{item.name}"
                    direct[scope] = references.refers(item)
                    calls[scope] = _called_names(item) | {arg.arg for arg in item.args.args}

    uses = {scope: found for scope, found in direct.items() if found}
    changed = True
    while changed:
        changed = False
        for scope, called in calls.items():
            if scope in uses:
                continue
            class_name = scope.partition(".")[0] if "." in scope else None
            table = methods(class_name) if class_name else {}
            for name in called:
                target = table.get(name[1:]) if name.startswith(".") else name
                if target in uses:
                    uses[scope] = uses[target]
                    changed = True
                    break

    deselected: list[Deselection] = []
    for class_name in classes:
        table = methods(class_name)
        fixtures = [table[name] for name in _FIXTURE_METHODS & table.keys() if table[name] in uses]
        if fixtures:
            deselected.append(Deselection(f"{path}::{class_name}", reason(uses[fixtures[0]])))
            continue
        for name, scope in sorted(table.items()):
            if name.startswith("test") and scope in uses:
                deselected.append(Deselection(f"{path}::{class_name}::{name}", reason(uses[scope])))
    test_functions = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    ]
    for name in test_functions:
        if name in uses:
            deselected.append(Deselection(f"{path}::{name}", reason(uses[name])))
    return deselected


# ---------------------------------------------------------------------------
# Runs and their outcomes

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
_STATUSES = (PASSED, FAILED, SKIPPED, ERROR)


@dataclasses.dataclass(frozen=True)
class CaseOutcome:
    """What one test did in one run.

    Parameters
    ----------
    status : `str`
        ``passed``, ``failed``, ``error`` or ``skipped`` (an expected
        failure counts as skipped, as JUnit records it).
    message : `str`
        The first line of the failure, error or skip message.
    """

    status: str
    message: str = ""


def _first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _nodeid(case: ElementTree.Element) -> str:
    name = case.get("name", "")
    classname = case.get("classname", "")
    file = case.get("file")
    if not classname:
        return f"{name} (collection)"
    if file and file.endswith(".py"):
        module = file[:-3].replace("/", ".")
        inner = classname[len(module) + 1 :] if classname.startswith(module) else ""
        return "::".join(part for part in (file, inner, name) if part)
    return f"{classname}::{name}"


def parse_junit(path: Path) -> dict[str, CaseOutcome]:
    """Read per-test outcomes from a pytest JUnit XML report.

    Parameters
    ----------
    path : `~pathlib.Path`
        The report (either JUnit family pytest writes).

    Returns
    -------
    outcomes : `dict` [`str`, `CaseOutcome`]
        By test id: ``file::Class::test`` when the report names files,
        ``classname::test`` otherwise, ``module (collection)`` for a file
        that could not be collected. A test reported twice (a failure in its
        teardown) keeps its worst outcome.
    """
    rank = {SKIPPED: 0, PASSED: 1, FAILED: 2, ERROR: 3}
    outcomes: dict[str, CaseOutcome] = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        outcome = CaseOutcome(PASSED)
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                status = {"failure": FAILED, "error": ERROR, "skipped": SKIPPED}[child.tag]
                message = _first_line(child.get("message")) or _first_line(child.text)
                if rank[status] >= rank[outcome.status] or outcome.status == PASSED:
                    outcome = CaseOutcome(status, message)
        nodeid = _nodeid(case)
        previous = outcomes.get(nodeid)
        if previous is None or rank[outcome.status] > rank[previous.status]:
            outcomes[nodeid] = outcome
    return outcomes


@dataclasses.dataclass(frozen=True)
class RunResult:
    """One run of the selected tests in one mode.

    Parameters
    ----------
    mode : `str`
        ``A`` or ``B``.
    index : `int`
        Its place in the schedule, from 1.
    seconds : `float`
        Wall time of the pytest command.
    outcomes : `dict` [`str`, `CaseOutcome`]
        By test id; empty when the run could not be made.
    problem : `str`, optional
        Why the run could not be made (pytest did not start, or stopped
        before writing its report).
    """

    mode: str
    index: int
    seconds: float
    outcomes: dict[str, CaseOutcome]
    problem: str | None = None


def abba_schedule(rounds: int, modes: Sequence[str] = (MODE_A, MODE_B)) -> list[str]:
    """Order the runs A B B A per round, so that drift hits both modes alike.

    Parameters
    ----------
    rounds : `int`
        How many A B B A rounds (at least 1).
    modes : `~collections.abc.Sequence` [`str`], optional
        The two modes, or one (each round is then that mode twice).

    Returns
    -------
    schedule : `list` [`str`]
        The modes, in run order.

    Raises
    ------
    ValueError
        If ``rounds`` is below 1 or ``modes`` is not one or two modes.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, not {rounds}")
    if len(modes) not in (1, 2):
        raise ValueError(f"one or two modes, not {list(modes)}")
    first, second = modes[0], modes[-1]
    one_round = [first, second, second, first] if len(modes) == 2 else [first, first]
    return one_round * rounds


def _unknown_option(stderr: str, option: str) -> bool:
    return "unrecognized arguments" in stderr and option in stderr


def classify_run(result: CommandResult, junit: Path, mode_args: Sequence[str]) -> str | None:
    """Say why a pytest run produced no usable outcomes, if it did not.

    Parameters
    ----------
    result : `CommandResult`
        The pytest command's result.
    junit : `~pathlib.Path`
        Where its JUnit report should be.
    mode_args : `~collections.abc.Sequence` [`str`]
        The mode's own arguments (to name an option pytest does not know).

    Returns
    -------
    problem : `str` or `None`
        One line, or `None` when the run counts (exit 0 or 1 with a
        report: tests ran, some may have failed).
    """
    for option in mode_args:
        if option.startswith("--") and _unknown_option(result.stderr, option.partition("=")[0]):
            if option.partition("=")[0] == FAST_REPOS_OPTION:
                return (
                    f"pytest does not know {FAST_REPOS_OPTION}: the installed butler-testkit has no such "
                    "switch yet (use --b-args to compare something else)"
                )
            return f"pytest does not know {option.partition('=')[0]}"
    if result.returncode in (0, 1) and junit.is_file():
        return None
    meaning = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}
    lines = [line for line in (result.stderr + "\n" + result.stdout).splitlines() if line.strip()]
    last = lines[-1].strip() if lines else "no output"
    what = meaning.get(result.returncode, "failed")
    written = "" if junit.is_file() else ", no JUnit report"
    return f"pytest exited with {result.returncode} ({what}{written}): {last}"


def _clean_environment(temp: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "VIRTUAL_ENV", "PYTHONPATH", "COV_CORE"))
    }
    env.update(TMPDIR=str(temp), TEMP=str(temp), TMP=str(temp))
    return env


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """What every run does, whatever its mode.

    Parameters
    ----------
    interpreter : `~pathlib.Path`
        The environment's Python.
    sources : `~pathlib.Path`
        The tree copied afresh for each run.
    files : `tuple` [`str`, ...]
        The selected test files.
    deselected : `tuple` [`Deselection`, ...]
        Tests left out.
    common_args : `tuple` [`str`, ...]
        The maintainers' pytest arguments.
    workers : `str` or `None`
        pytest-xdist's ``-n``; `None` leaves it out.
    mode_args : `dict` [`str`, `tuple` [`str`, ...]]
        Each mode's own arguments.
    """

    interpreter: Path
    sources: Path
    files: tuple[str, ...]
    deselected: tuple[Deselection, ...]
    common_args: tuple[str, ...]
    workers: str | None
    mode_args: dict[str, tuple[str, ...]]

    def pytest_argv(self, mode: str, junit: Path, *, parallel: bool = True) -> list[str]:
        """Build the pytest command of a run.

        Parameters
        ----------
        mode : `str`
            The run's mode.
        junit : `~pathlib.Path`
            Where the run writes its JUnit report.
        parallel : `bool`, optional
            Spread the tests over ``workers`` processes (else one process,
            pytest-xdist off).

        Returns
        -------
        argv : `list` [`str`]
            The command.
        """
        deselect = [f"--deselect={item.nodeid}" for item in self.deselected]
        workers = ["-p", "no:xdist"] if not parallel else ["-n", self.workers] if self.workers else []
        return [
            str(self.interpreter),
            *("-m", "pytest"),
            *self.common_args,
            *workers,
            *self.mode_args[mode],
            f"--junitxml={junit}",
            *("-o", "junit_family=legacy"),
            *deselect,
            *self.files,
        ]


def execute_schedule(
    plan: RunPlan,
    schedule: Sequence[str],
    work_dir: Path,
    *,
    runner: Runner = run_command,
    progress: Progress = lambda line: None,
    clock: Callable[[], float] = time.perf_counter,
) -> list[RunResult]:
    """Make the runs, each in a fresh copy of the tests with fresh temporary directories.

    Parameters
    ----------
    plan : `RunPlan`
        What each run does.
    schedule : `~collections.abc.Sequence` [`str`]
        The modes in run order.
    work_dir : `~pathlib.Path`
        Where each run's directory is made.
    runner : callable, optional
        Runs pytest.
    progress : callable, optional
        Told about each run.
    clock : callable, optional
        The wall clock.

    Returns
    -------
    runs : `list` [`RunResult`]
        One per scheduled run; a mode whose run could not be made is not
        tried again (its later runs repeat the problem without running).
    """
    results: list[RunResult] = []
    broken: dict[str, str] = {}
    for index, mode in enumerate(schedule, start=1):
        if mode in broken:
            results.append(RunResult(mode, index, 0.0, {}, broken[mode]))
            continue
        run_dir = work_dir / f"run{index:02d}-{mode}"
        shutil.copytree(plan.sources, run_dir)
        temp = run_dir / "tmp"
        temp.mkdir()
        junit = run_dir / "junit.xml"
        argv = plan.pytest_argv(mode, junit)
        progress(f"run {index}/{len(schedule)}: mode {mode}")
        start = clock()
        result = runner(argv, run_dir, _clean_environment(temp))
        seconds = clock() - start
        problem = classify_run(result, junit, plan.mode_args[mode])
        if problem is not None:
            broken[mode] = problem
            progress(f"run {index}: {problem}")
            results.append(RunResult(mode, index, seconds, {}, problem))
        else:
            results.append(RunResult(mode, index, seconds, parse_junit(junit)))
            progress(f"run {index}: {seconds:.1f} s")
        shutil.rmtree(run_dir, ignore_errors=True)
    return results


# ---------------------------------------------------------------------------
# Summaries and comparison


@dataclasses.dataclass(frozen=True)
class ModeSummary:
    """What one mode did over its runs.

    Parameters
    ----------
    mode : `str`
        ``A`` or ``B``.
    args : `tuple` [`str`, ...]
        Its own pytest arguments.
    seconds : `list` [`float`]
        Wall time of each run that could be made.
    outcomes : `dict` [`str`, `CaseOutcome`]
        Per test: its outcome when every run agreed; status ``flaky`` (with
        the statuses seen) otherwise.
    problem : `str` or `None`
        Why its runs could not be made, if none could.
    """

    mode: str
    args: tuple[str, ...]
    seconds: list[float]
    outcomes: dict[str, CaseOutcome]
    problem: str | None = None

    @property
    def median_seconds(self) -> float | None:
        """Median wall time of its runs, if any ran (`float` or `None`)."""
        return statistics.median(self.seconds) if self.seconds else None

    def counts(self) -> dict[str, int]:
        """Count the tests by outcome.

        Returns
        -------
        counts : `dict` [`str`, `int`]
            ``passed``, ``failed``, ``skipped``, ``error`` and ``flaky``.
        """
        counts = dict.fromkeys((*_STATUSES, "flaky"), 0)
        for outcome in self.outcomes.values():
            counts[outcome.status] += 1
        return counts


def summarise_mode(mode: str, args: Sequence[str], runs: Iterable[RunResult]) -> ModeSummary:
    """Fold a mode's runs into one outcome per test and its times.

    Parameters
    ----------
    mode : `str`
        The mode.
    args : `~collections.abc.Sequence` [`str`]
        Its own pytest arguments.
    runs : iterable of `RunResult`
        All runs; those of other modes are ignored.

    Returns
    -------
    summary : `ModeSummary`
        Its outcomes and times. Runs that could not be made add no time; a
        test missing from one of the made runs counts as flaky.
    """
    made = [run for run in runs if run.mode == mode]
    problems = [run.problem for run in made if run.problem]
    made = [run for run in made if run.problem is None]
    outcomes: dict[str, CaseOutcome] = {}
    for nodeid in sorted({nodeid for run in made for nodeid in run.outcomes}):
        seen = [run.outcomes.get(nodeid) for run in made]
        statuses = sorted({outcome.status if outcome else "absent" for outcome in seen})
        messages = [outcome.message for outcome in seen if outcome and outcome.message]
        if len(statuses) == 1:
            outcomes[nodeid] = CaseOutcome(statuses[0], messages[0] if messages else "")
        else:
            detail = "/".join(statuses) + (f": {messages[0]}" if messages else "")
            outcomes[nodeid] = CaseOutcome("flaky", detail)
    problem = problems[0] if problems and not made else None
    return ModeSummary(mode, tuple(args), [run.seconds for run in made], outcomes, problem)


@dataclasses.dataclass(frozen=True)
class Difference:
    """A test whose outcome differs between the modes.

    Parameters
    ----------
    nodeid : `str`
        The test.
    a, b : `CaseOutcome` or `None`
        Its outcome in each mode (`None`: it did not appear).
    """

    nodeid: str
    a: CaseOutcome | None
    b: CaseOutcome | None

    @property
    def lost_pass(self) -> bool:
        """Whether it passed in every A run and not in every B run (`bool`)."""
        return self.a is not None and self.a.status == PASSED and (self.b is None or self.b.status != PASSED)


def compare_modes(a: ModeSummary, b: ModeSummary) -> tuple[list[Difference], list[tuple[str, CaseOutcome]]]:
    """Compare two modes test by test.

    Parameters
    ----------
    a, b : `ModeSummary`
        The modes.

    Returns
    -------
    differences : `list` [`Difference`]
        Tests whose outcome (status) differs, lost passes first.
    failing_in_both : `list` [`tuple` [`str`, `CaseOutcome`]]
        Tests that failed or errored in both, with A's outcome.
    """
    differences = []
    failing = []
    for nodeid in sorted(a.outcomes.keys() | b.outcomes.keys()):
        in_a, in_b = a.outcomes.get(nodeid), b.outcomes.get(nodeid)
        if in_a is not None and in_b is not None and in_a.status == in_b.status:
            if in_a.status in (FAILED, ERROR):
                failing.append((nodeid, in_a))
            continue
        differences.append(Difference(nodeid, in_a, in_b))
    differences.sort(key=lambda difference: not difference.lost_pass)
    return differences, failing


# ---------------------------------------------------------------------------
# Profiling one pass per mode

# Ordered: a sample counts for the first category found anywhere on its
# stack, so an outer operation (making a repository) keeps the configuration
# parsing and imports it does. Patterns match "path/to/file.py:function".
PROFILE_CATEGORIES: tuple[tuple[str, str], ...] = (
    (
        "makeRepo (Butler.makeRepo, makeTestRepo, create_populated_sqlite_registry)",
        r"lsst/daf/butler/(_butler\.py:makeRepo|tests/_testRepo\.py:makeTestRepo"
        r"|tests/utils\.py:create_populated_sqlite_registry)$",
    ),
    (
        "Butler.from_config / Butler()",
        r"lsst/daf/butler/(_butler|direct_butler/_direct_butler)\.py:(from_config|__new__|create_from_config)$",
    ),
    ("ButlerConfig construction", r"lsst/daf/butler/_butler_config\.py:__init__$"),
    (
        "registerDatasetType / insertDimensionData",
        r"lsst/daf/butler/_registry_shim\.py:(registerDatasetType|insertDimensionData|syncDimensionData)$",
    ),
    ("FileDatastore put/get", r"lsst/daf/butler/datastores/fileDatastore\.py:(put|get)$"),
    ("imports", r"<frozen importlib\._bootstrap>:_find_and_load$"),
)

_PROFILE_SCRIPT = r"""
import cProfile, json, pstats, re, signal, sys, time

spec_path, out_path, *pytest_args = sys.argv[1:]
spec = json.load(open(spec_path))
categories = [(label, re.compile(pattern)) for label, pattern in spec["categories"]]
hidden = re.compile(spec["hidden"])
code_categories = {}
samples = [0] * (len(categories) + 1)

def category_of(code):
    found = code_categories.get(code)
    if found is None:
        where = f"{code.co_filename}:{code.co_name}"
        found = next((i for i, (_, p) in enumerate(categories) if p.search(where)), len(categories))
        code_categories[code] = found
    return found

# A CPU-time timer signal samples the main thread's stack where it is: no
# second thread, which cProfile (all threads on Python 3.12+) would count.
def _profile_sample(signum, frame):
    best = len(categories)
    while frame is not None:
        best = min(best, category_of(frame.f_code))
        frame = frame.f_back
    samples[best] += 1

import pytest
signal.signal(signal.SIGPROF, _profile_sample)
profile = cProfile.Profile()
start = time.perf_counter()
signal.setitimer(signal.ITIMER_PROF, spec["interval"], spec["interval"])
profile.enable()
try:
    code = pytest.main(pytest_args)
finally:
    profile.disable()
    signal.setitimer(signal.ITIMER_PROF, 0, 0)
wall = time.perf_counter() - start

stats = pstats.Stats(profile).stats
def name(key):
    file, line, func = key
    return f"{file}:{func}" if file != "~" else func
top = sorted(
    ((name(key), row[1], row[2], row[3]) for key, row in stats.items() if not hidden.search(name(key))),
    key=lambda row: -row[3],
)[: spec["top"]]
# Per function, cProfile's cumulative time is right under recursion; a member
# called directly by another member of its category is not counted twice.
inclusive = []
for label, pattern in categories:
    members = {key for key in stats if pattern.search(name(key))}
    seconds = sum(stats[key][3] for key in members)
    calls = 0
    for key in members:
        for caller, edge in stats[key][4].items():
            if caller in members:
                seconds -= edge[3]
            else:
                calls += edge[1]
    inclusive.append((label, seconds, calls))
result = {"exit": int(code), "wall": wall, "top": top, "inclusive": inclusive, "samples": samples}
json.dump(result, open(out_path, "w"))
"""

# Frames of the test runner itself, left out of the top list: they enclose everything.
_HIDDEN_FRAMES = (
    r"(/_pytest/|/pluggy/|/unittest/|/xdist/|<string>|\{built-in method builtins\.exec\}|runpy\.py"
    r"|_profile\.py)"
)


@dataclasses.dataclass(frozen=True)
class ProfileSummary:
    """One profiled pass of one mode, in a single process.

    Parameters
    ----------
    mode : `str`
        ``A`` or ``B``.
    wall : `float`
        Seconds of the profiled pass (slowed by the profiler).
    top : `list` [`tuple` [`str`, `int`, `float`, `float`]]
        ``(function, calls, own seconds, cumulative seconds)``, by
        cumulative time.
    inclusive : `list` [`tuple` [`str`, `float`, `int`]]
        ``(category, cumulative seconds, calls)``: the time under each
        category's functions (categories overlap).
    exclusive : `list` [`tuple` [`str`, `float`]]
        ``(category, share)``: samples of the call stack taken every 5 ms
        of CPU time, each counted for the first category on it; shares add
        up to 1 with ``other``.
    problem : `str` or `None`
        Why the pass could not be made.
    """

    mode: str
    wall: float
    top: list[tuple[str, int, float, float]]
    inclusive: list[tuple[str, float, int]]
    exclusive: list[tuple[str, float]]
    problem: str | None = None


def profile_mode(
    plan: RunPlan,
    mode: str,
    work_dir: Path,
    *,
    top: int = 30,
    runner: Runner = run_command,
    progress: Progress = lambda line: None,
) -> ProfileSummary:
    """Profile one pass of a mode with cProfile and a CPU-time stack sampler, in one process.

    Parameters
    ----------
    plan : `RunPlan`
        What the pass runs; its worker count is replaced by one process.
    mode : `str`
        The mode.
    work_dir : `~pathlib.Path`
        Where the pass's directory is made.
    top : `int`, optional
        How many functions to list.
    runner : callable, optional
        Runs the pass.
    progress : callable, optional
        Told about the pass.

    Returns
    -------
    summary : `ProfileSummary`
        The profile, or the problem that stopped it.
    """
    run_dir = work_dir / f"profile-{mode}"
    shutil.copytree(plan.sources, run_dir)
    temp = run_dir / "tmp"
    temp.mkdir()
    script, spec, out = run_dir / "_profile.py", run_dir / "_profile.json", run_dir / "_profile.out.json"
    script.write_text(_PROFILE_SCRIPT)
    spec.write_text(
        json.dumps(
            {"categories": PROFILE_CATEGORIES, "hidden": _HIDDEN_FRAMES, "interval": 0.005, "top": top}
        )
    )
    junit = run_dir / "junit.xml"
    pytest_args = plan.pytest_argv(mode, junit, parallel=False)[3:]
    argv = [str(plan.interpreter), str(script), str(spec), str(out), *pytest_args]
    progress(f"profiling mode {mode} in one process")
    result = runner(argv, run_dir, _clean_environment(temp))
    problem = classify_run(result, junit, plan.mode_args[mode]) if not out.is_file() else None
    if problem is not None or not out.is_file():
        shutil.rmtree(run_dir, ignore_errors=True)
        return ProfileSummary(mode, 0.0, [], [], [], problem or "the profiled pass wrote no profile")
    data = json.loads(out.read_text())
    shutil.rmtree(run_dir, ignore_errors=True)
    total = sum(data["samples"]) or 1
    labels = [label for label, _ in PROFILE_CATEGORIES] + ["other"]
    return ProfileSummary(
        mode,
        data["wall"],
        [tuple(row) for row in data["top"]],
        [tuple(row) for row in data["inclusive"]],
        [(label, count / total) for label, count in zip(labels, data["samples"], strict=True)],
    )


# ---------------------------------------------------------------------------
# The whole benchmark


@dataclasses.dataclass(frozen=True)
class DownstreamOptions:
    """What to run.

    Parameters
    ----------
    package : `DownstreamPackage`
        The downstream package.
    python : `str`, optional
        Its interpreter (found when not given).
    repo : `~pathlib.Path`, optional
        A checkout or git directory of its repository, for the data.
    ref : `str`, optional
        The commit of ``repo`` to read.
    workers : `str`
        pytest-xdist's ``-n``.
    rounds : `int`
        A B B A rounds; 0 (with ``profile``) for the profiled passes alone.
    a_args, b_args : `tuple` [`str`, ...]
        Each mode's own pytest arguments.
    a_only : `bool`
        Run mode A alone (a baseline).
    profile : `bool`
        Add one profiled pass per mode.
    cache_dir : `~pathlib.Path`
        Where environments and archives are kept.
    keep : `bool`
        Keep the work directory (the assembled tests) for inspection.
    only : `tuple` [`str`, ...]
        If given, run only the selected files that match one of these
        shell patterns (``test_config_*``), e.g. while working on the switch.
    """

    package: DownstreamPackage
    python: str | None = None
    repo: Path | None = None
    ref: str | None = None
    workers: str = "auto"
    rounds: int = 1
    a_args: tuple[str, ...] = ("-p", "no:butler_testkit")
    b_args: tuple[str, ...] = (FAST_REPOS_OPTION,)
    a_only: bool = False
    profile: bool = False
    cache_dir: Path = dataclasses.field(default_factory=default_cache_dir)
    keep: bool = False
    only: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.rounds < 0 or (self.rounds == 0 and not self.profile):
            raise ValueError(f"rounds must be at least 1 (or 0 with --profile alone), not {self.rounds}")


@dataclasses.dataclass(frozen=True)
class DownstreamReport:
    """Everything the downstream benchmark found.

    Parameters
    ----------
    package : `DownstreamPackage`
        What ran.
    python : `str`
        The base interpreter and its version.
    versions : `dict` [`str`, `str`]
        Versions of the packages that matter in the environment.
    sources : `SuiteSources`
        Where the tests and their data came from.
    selected : `list` [`SelectedFile`]
        The test files run.
    deselected : `list` [`Deselection`]
        Tests left out.
    common_args : `tuple` [`str`, ...]
        The pytest arguments of every run.
    schedule : `list` [`str`]
        The run order.
    runs : `list` [`RunResult`]
        Every run.
    modes : `list` [`ModeSummary`]
        Per mode.
    profiles : `list` [`ProfileSummary`]
        Per mode, when profiled.
    """

    package: DownstreamPackage
    python: str
    versions: dict[str, str]
    sources: SuiteSources
    selected: list[SelectedFile]
    deselected: list[Deselection]
    common_args: tuple[str, ...]
    schedule: list[str]
    runs: list[RunResult]
    modes: list[ModeSummary]
    profiles: list[ProfileSummary] = dataclasses.field(default_factory=list)

    @property
    def comparison(self) -> tuple[list[Difference], list[tuple[str, CaseOutcome]]] | None:
        """`compare_modes` of A and B, when both ran."""
        if self.runs and len(self.modes) == 2 and not any(mode.problem for mode in self.modes):
            return compare_modes(self.modes[0], self.modes[1])
        return None

    @property
    def ok(self) -> bool:
        """No run failed to be made, and no test that passes in A fails in B (`bool`)."""
        if any(run.problem for run in self.runs) or any(p.problem for p in self.profiles):
            return False
        comparison = self.comparison
        return comparison is None or not any(difference.lost_pass for difference in comparison[0])


def run_downstream_bench(
    options: DownstreamOptions,
    *,
    runner: Runner = run_command,
    progress: Progress = lambda line: None,
) -> DownstreamReport:
    """Install a downstream package and run its Butler tests in both modes.

    Parameters
    ----------
    options : `DownstreamOptions`
        What to run.
    runner : callable, optional
        Runs every command.
    progress : callable, optional
        Told what is happening.

    Returns
    -------
    report : `DownstreamReport`
        Outcomes, times and differences.

    Raises
    ------
    DownstreamError
        If the environment, the tests or their data cannot be prepared, or
        no test file matches the package's rules.
    """
    package = options.package
    python, version = find_python(package.min_python, options.python, runner=runner)
    checkout = find_checkout()
    options.cache_dir.mkdir(parents=True, exist_ok=True)
    interpreter = ensure_environment(
        package, python, checkout, options.cache_dir, runner=runner, progress=progress
    )
    work_dir = Path(tempfile.mkdtemp(prefix=f"butler-testkit-{package.short_name}-"))
    try:
        progress(f"assembling the tests of {package.name}=={package.version}")
        sources = prepare_sources(
            package,
            interpreter,
            options.cache_dir,
            work_dir / "source",
            repo=options.repo,
            ref=options.ref,
            runner=runner,
        )
        selected = select_test_files(sources.root, package.rules)
        if options.only:
            selected = [file for file in selected if _matches_any(file.path, options.only)]
        if not selected:
            wanted = f" and --files {' '.join(options.only)}" if options.only else ""
            raise DownstreamError(f"no test file of {package.name} matches its rules{wanted}")
        deselected = [
            item
            for file in selected
            for item in data_dependent_tests(
                (sources.root / file.path).read_text(encoding="utf-8"), file.path, sources.absent
            )
        ]
        modes = (MODE_A,) if options.a_only else (MODE_A, MODE_B)
        plan = RunPlan(
            interpreter,
            sources.root,
            tuple(file.path for file in selected),
            tuple(deselected),
            package.pytest_args,
            options.workers,
            {MODE_A: options.a_args, MODE_B: options.b_args},
        )
        schedule = abba_schedule(options.rounds, modes) if options.rounds else []
        runs = execute_schedule(plan, schedule, work_dir, runner=runner, progress=progress)
        summaries = [summarise_mode(mode, plan.mode_args[mode], runs) for mode in modes]
        profiles = (
            [profile_mode(plan, mode, work_dir, runner=runner, progress=progress) for mode in modes]
            if options.profile
            else []
        )
    finally:
        if options.keep:
            progress(f"kept {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    return DownstreamReport(
        package,
        f"{python} (Python {version[0]}.{version[1]})",
        installed_versions(
            interpreter, (package.name, "lsst-daf-butler", "butler-testkit", "pytest", "pytest-xdist")
        ),
        sources,
        selected,
        deselected,
        (*plan.common_args, *(("-n", plan.workers) if plan.workers else ())),
        schedule,
        runs,
        summaries,
        profiles,
    )


# ---------------------------------------------------------------------------
# Report


def _args_text(args: Sequence[str]) -> str:
    return shlex.join(args) if args else "(none)"


def _outcome_text(outcome: CaseOutcome | None) -> str:
    if outcome is None:
        return "absent"
    return outcome.status


def format_profile(profile: ProfileSummary) -> str:
    """Render one profiled pass.

    Parameters
    ----------
    profile : `ProfileSummary`
        The pass.

    Returns
    -------
    text : `str`
        The top functions by cumulative time and the time per category.
    """
    if profile.problem:
        return f"Profile of mode {profile.mode}: not made: {profile.problem}"
    lines = [
        f"Profile of mode {profile.mode}: one process, cProfile on, {profile.wall:.1f} s "
        "(slower than unprofiled)",
        "",
        "  Time per category, sampled every 5 ms of CPU (each sample counted for the first category"
        " on its stack):",
    ]
    for label, share in profile.exclusive:
        lines.append(f"    {share * 100:5.1f}%  {share * profile.wall:7.1f} s  {label}")
    lines += ["", "  Time under each category, cProfile (inclusive, categories overlap):"]
    for label, seconds, calls in profile.inclusive:
        each = f"{seconds / calls * 1000:8.1f} ms each" if calls else " " * 16
        lines.append(f"    {seconds:7.1f} s  {calls:7d} calls {each}  {label}")
    lines += [
        "",
        f"  Top {len(profile.top)} by cumulative time (pytest, pluggy and unittest frames left out):",
        f"    {'cumulative':>10} {'own':>8} {'calls':>9}  function",
    ]
    for function, calls, own, cumulative in profile.top:
        lines.append(f"    {cumulative:10.2f} {own:8.2f} {calls:9d}  {_short_path(function)}")
    return "\n".join(lines)


def _short_path(function: str) -> str:
    # site-packages/lsst/daf/butler/_butler.py:makeRepo -> lsst/daf/butler/_butler.py:makeRepo
    for marker in ("site-packages/", "/lib/python3"):
        if marker in function:
            return function.rsplit(marker, 1)[1].lstrip("/").removeprefix(".")
    return function


def _setup_lines(report: DownstreamReport) -> list[str]:
    package = report.package
    lines = [
        f"Downstream benchmark: {package.name}=={package.version}'s own tests that make Butler repositories",
        f"  interpreter: {report.python}",
    ]
    if report.versions:
        installed = ", ".join(f"{name} {version}" for name, version in sorted(report.versions.items()))
        lines.append(f"  installed: {installed}")
    lines += [f"  tests/{name}: {report.sources.data.get(name, 'absent')}" for name in package.data_dirs]
    if report.sources.note:
        lines.append(f"  note: {report.sources.note}")
    rules = "; ".join(f"{rule.label} /{rule.pattern}/" for rule in package.rules)
    lines.append(
        f"  selection rule: a tests/test_*.py whose code (comments and strings aside) calls: {rules}"
    )
    lines.append(f"  selected files ({len(report.selected)}):")
    lines += [f"    {file.path}  [{', '.join(file.matched)}]" for file in report.selected]
    if report.deselected:
        lines.append(f"  deselected ({len(report.deselected)}):")
        lines += [f"    {item.nodeid}: {item.reason}" for item in report.deselected]
    lines.append(f"  pytest arguments of every run: {_args_text(report.common_args)}")
    lines += [f"  mode {mode.mode} adds: {_args_text(mode.args)}" for mode in report.modes]
    order = " ".join(report.schedule) or "(no timed runs: profiled passes only)"
    lines.append(f"  order: {order}, each run in a fresh copy of the tests and a fresh TMPDIR")
    return lines


def _timing_lines(report: DownstreamReport) -> list[str]:
    if not report.runs:
        return []
    lines = [
        "",
        f"  {'mode':<5}{'passed':>8}{'failed':>8}{'skipped':>8}{'errors':>8}{'flaky':>7}"
        f"{'median wall':>13}  runs",
    ]
    for mode in report.modes:
        if mode.problem:
            lines.append(f"  {mode.mode:<5}not run: {mode.problem}")
            continue
        counts = mode.counts()
        median = mode.median_seconds
        median_text = f"{median:.1f} s" if median is not None else "-"
        runs = ", ".join(f"{seconds:.1f}" for seconds in mode.seconds)
        lines.append(
            f"  {mode.mode:<5}{counts[PASSED]:>8}{counts[FAILED]:>8}{counts[SKIPPED]:>8}{counts[ERROR]:>8}"
            f"{counts['flaky']:>7}{median_text:>13}  {runs}"
        )
    for run in report.runs:
        if run.problem and not any(mode.problem == run.problem for mode in report.modes):
            lines.append(f"  run {run.index} ({run.mode}) could not be made: {run.problem}")
    medians = [mode.median_seconds for mode in report.modes]
    if len(medians) == 2 and medians[0] and medians[1] is not None:
        lines.append(f"  B/A wall time (medians): {medians[1] / medians[0]:.2f}")
    return lines


def _outcome_lines(report: DownstreamReport) -> list[str]:
    lines: list[str] = []
    comparison = report.comparison
    if comparison is not None:
        differences, failing = comparison
        lines += ["", f"  Tests whose outcome differs between A and B ({len(differences)}):"]
        for difference in differences:
            flag = "LOST PASS " if difference.lost_pass else ""
            # The message worth reading is the one of the mode that did not pass.
            failed = (
                difference.a if difference.b is not None and difference.b.status == PASSED else difference.b
            )
            message = (failed or difference.a or CaseOutcome("")).message
            outcomes = f"A {_outcome_text(difference.a)}, B {_outcome_text(difference.b)}"
            lines.append(f"    {flag}{difference.nodeid}: {outcomes}" + (f": {message}" if message else ""))
        title = "in both modes"
    elif report.runs and report.modes and not report.modes[0].problem:
        failing = [
            (nodeid, outcome)
            for nodeid, outcome in report.modes[0].outcomes.items()
            if outcome.status in (FAILED, ERROR)
        ]
        title = f"in mode {report.modes[0].mode}"
    else:
        return lines
    lines += ["", f"  Tests failing {title} ({len(failing)}):"]
    lines += [
        f"    {nodeid}: {outcome.status}: {outcome.message or '(no message)'}" for nodeid, outcome in failing
    ]
    for mode in report.modes:
        flaky = [(nodeid, outcome) for nodeid, outcome in mode.outcomes.items() if outcome.status == "flaky"]
        if flaky:
            lines += ["", f"  Tests whose outcome changed between runs of mode {mode.mode} ({len(flaky)}):"]
            lines += [f"    {nodeid}: {outcome.message}" for nodeid, outcome in flaky]
    return lines


def format_downstream_report(report: DownstreamReport) -> str:
    """Render the benchmark's report.

    Parameters
    ----------
    report : `DownstreamReport`
        The results.

    Returns
    -------
    text : `str`
        What ran, per-mode counts and times, the ratio, every difference,
        the tests failing in both modes, the profiles and the verdict.
    """
    lines = _setup_lines(report) + _timing_lines(report) + _outcome_lines(report)
    for profile in report.profiles:
        lines += ["", format_profile(profile)]
    if report.ok:
        verdict = "OK: no test that passes in A fails in B" if report.comparison else "OK: every run was made"
    elif any(run.problem for run in report.runs) or any(profile.problem for profile in report.profiles):
        verdict = "FAILED: a run could not be made"
    else:
        verdict = "FAILED: tests that pass in A fail in B (LOST PASS above)"
    lines += ["", verdict]
    return "\n".join(lines)
