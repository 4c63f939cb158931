"""The options of the test front ends, declared once.

Every option a test can be given (by a pytest marker, a `unittest.TestCase`
class attribute, a command-line option or an ini setting) is one `Option` in
`OPTIONS`: the pytest plugin registers its command-line and ini options and
reads its markers from the table, the unittest mixins read their class
attributes from it, and both hand the same values to one
`~butler_testkit.engine.ButlerTestEngine`. Adding an option is adding an
entry here, and using its value in the engine.

Pure standard library at import (validators import what they need when
called): the pytest plugin reads this table at start-up.
"""

from __future__ import annotations

__all__ = (
    "ARGUMENTS",
    "DATASTORE_KEYS",
    "KEYWORDS",
    "MARKERS",
    "OPTIONS",
    "Given",
    "Marker",
    "Option",
    "configure_session",
    "option",
    "options_from_attributes",
    "options_from_markers",
    "resolve_options",
    "restore_session",
    "session_options",
)

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import _seeds
from .._constants import (
    CAPABILITY_MARKER,
    DATA_IDS_MARKER,
    DATASTORE_MARKER,
    DEFAULT_INSTRUMENT,
    FAULTS_MARKER,
    INSTRUMENT_NAMES,
    REGISTRY_ENVIRONMENT_VARIABLE,
    REPOSITORY_MARKER,
)

ARGUMENTS = "*"
"""`Option.marker_key` of an option given by its marker's positional arguments (a tuple)."""

KEYWORDS = "**"
"""`Option.marker_key` of an option given by its marker's keyword arguments (a dict), less
those another option of the same marker takes by name."""

DATASTORE_KEYS = ("name", "isolation", "constraints", "expire_after", "capacity_bytes", "formatters")
"""The configuration keys a test may give its `~butler_testkit.InMemoryDatastore`."""

Given = tuple[object, str]
"""A value as a front end found it, with where it came from (for error messages)."""


@dataclasses.dataclass(frozen=True)
class Option:
    """One option of the test front ends, and every place it can be given.

    Parameters
    ----------
    name : `str`
        The engine's name for it (``ButlerTestEngine.options[name]``).
    parse : `~collections.abc.Callable` [[`object`, `str`], `object`]
        Validates a value given from a source (named by the second
        argument, for the message) and returns the value to use; raises
        `TypeError` or `ValueError` saying what was wrong.
    default : `object`
        The value when nothing gives one (not parsed).
    help : `str`
        One line for ``pytest --help`` and the documentation.
    marker : `str`, optional
        The pytest marker that gives it for one test.
    marker_key : `str`, optional
        Which of the marker's arguments: a keyword, `ARGUMENTS` or
        `KEYWORDS`.
    attribute : `str`, optional
        The `unittest.TestCase` class attribute that gives it for a class.
    cli : `str`, optional
        The command-line option that gives it for a whole pytest session.
    ini : `str`, optional
        The ini option that gives it for a whole pytest session (the
        command line wins).
    metavar : `str`, optional
        Placeholder of the command-line value.
    choices : `tuple` [`str`, ...], optional
        The values the command line accepts.
    flag : `bool`, optional
        A switch: the command-line option takes no value, and the ini
        option is a boolean.
    """

    name: str
    parse: Callable[[object, str], Any]
    default: Any
    help: str
    marker: str | None = None
    marker_key: str | None = None
    attribute: str | None = None
    cli: str | None = None
    ini: str | None = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    flag: bool = False

    def __post_init__(self) -> None:
        if (self.marker is None) != (self.marker_key is None):
            raise ValueError(f"Option {self.name!r} needs both a marker and a marker_key, or neither.")

    @property
    def dest(self) -> str:
        """The attribute of pytest's parsed options that holds the command-line value."""
        return f"butler_{self.name}"


@dataclasses.dataclass(frozen=True)
class Marker:
    """A pytest marker the plugin registers.

    Parameters
    ----------
    name : `str`
        The marker.
    signature : `str`
        How it is called, e.g. ``butler_datastore(**config)``.
    help : `str`
        What it does, for ``pytest --markers``.
    """

    name: str
    signature: str
    help: str


def _parse_seed(value: object, source: str) -> int:
    return _seeds.parse_seed(value, source)


def _parse_optional_seed(value: object, source: str) -> int | None:
    return None if value is None else _seeds.parse_seed(value, source)


def _parse_instrument(value: object, source: str) -> str:
    if value not in INSTRUMENT_NAMES:
        raise ValueError(
            f"{source} must name an instrument preset ({', '.join(INSTRUMENT_NAMES)}); got {value!r}."
        )
    assert isinstance(value, str)
    return value


def _parse_keywords(value: object, source: str, known: Sequence[str]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{source} must be a mapping of {', '.join(known)}; got {value!r}.")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise TypeError(f"{source} does not know {unknown}; it takes {', '.join(known)}.")
    return dict(value)


def _parse_datastore(value: object, source: str) -> dict[str, Any]:
    return _parse_keywords(value, source, DATASTORE_KEYS)


def _parse_repository(value: object, source: str) -> dict[str, Any]:
    from ..butler import REPOSITORY_KEYWORDS

    return _parse_keywords(value, source, REPOSITORY_KEYWORDS)


def _parse_registry(value: object, source: str) -> str:
    from ..butler import resolve_registry

    if not isinstance(value, str):
        raise TypeError(
            f"{source} must be 'sqlite', 'postgresql' or the URL of a PostgreSQL server; got {value!r}."
        )
    return resolve_registry(value, source=source)


def _parse_faults(value: object, source: str) -> tuple[Any, ...]:
    from ..datastore import Fault

    if isinstance(value, (str, Mapping)) or not isinstance(value, Sequence):
        raise TypeError(f"{source} must be a sequence of rules (mappings of Fault keywords); got {value!r}.")
    if not value:
        raise TypeError(f"{source} needs at least one rule (a mapping of Fault keywords).")
    rules = []
    for rule in value:
        if isinstance(rule, Fault):
            rules.append(rule)
        elif isinstance(rule, Mapping):
            try:
                rules.append(Fault(**rule))
            except TypeError as err:
                raise TypeError(f"{source} has a bad rule {dict(rule)!r}: {err}") from err
        else:
            raise TypeError(f"{source} takes mappings of Fault keywords or Fault rules; got {rule!r}.")
    return tuple(rules)


def _parse_flag(value: object, source: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{source} must be true or false; got {value!r}.")
    return value


def _parse_path(value: object, source: str) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{source} must be a path; got {value!r}.")
    return value


OPTIONS: tuple[Option, ...] = (
    Option(
        "seed",
        _parse_optional_seed,
        None,
        "session seed of butler_data_ids, butler_refs, the fault plans and the unittest mixins; each test "
        f"derives its own from it and its id (default: ${_seeds.SEED_ENVIRONMENT_VARIABLE} or "
        f"{_seeds.DEFAULT_SEED})",
        attribute="butler_seed",
        cli="--butler-seed",
        metavar="SEED",
    ),
    Option(
        "instrument",
        _parse_instrument,
        DEFAULT_INSTRUMENT,
        f"instrument preset of butler_data_ids and butler_refs (default: {DEFAULT_INSTRUMENT})",
        marker=DATA_IDS_MARKER,
        marker_key="instrument",
        attribute="butler_instrument",
        cli="--butler-instrument",
        choices=INSTRUMENT_NAMES,
    ),
    Option(
        "datastore",
        _parse_datastore,
        {},
        f"configuration of the InMemoryDatastore: keys {', '.join(DATASTORE_KEYS)}",
        marker=DATASTORE_MARKER,
        marker_key=KEYWORDS,
        attribute="butler_datastore_config",
    ),
    Option(
        "faults",
        _parse_faults,
        None,
        "fault rules (mappings of butler_testkit.Fault keywords, or Faults): the datastore comes wrapped "
        "in an InstrumentedDatastore with this FaultPlan",
        marker=FAULTS_MARKER,
        marker_key=ARGUMENTS,
        attribute="butler_faults",
    ),
    Option(
        "faults_seed",
        _parse_optional_seed,
        None,
        "seed of the fault rules' probabilities (default: the test's own)",
        marker=FAULTS_MARKER,
        marker_key="seed",
        attribute="butler_faults_seed",
    ),
    Option(
        "repository",
        _parse_repository,
        {},
        "what the test repository holds: instrument, detectors, visits, exposures, tracts, "
        "dataset_types, registry_data, dimension_config, run",
        marker=REPOSITORY_MARKER,
        marker_key=KEYWORDS,
        attribute="butler_repo_spec",
    ),
    Option(
        "registry",
        _parse_registry,
        None,
        "where the test repositories keep their registry: sqlite (a file in each), postgresql (a "
        "database each on a throwaway server the test process starts) or the URL of a PostgreSQL "
        f"server you run (default: ${REGISTRY_ENVIRONMENT_VARIABLE} or sqlite)",
        marker=REPOSITORY_MARKER,
        marker_key="registry",
        attribute="butler_registry",
        cli="--butler-registry",
        metavar="sqlite|postgresql|URL",
    ),
    Option(
        "fast_repos",
        _parse_flag,
        False,
        "make every Butler repository the tests create (daf_butler's makeTestRepo, Butler.makeRepo, "
        "create_populated_sqlite_registry) come from butler-testkit's fast path, unchanged otherwise; "
        "what it cannot honour falls back to daf_butler and is listed at the end",
        cli="--butler-fast-repos",
        ini="butler_fast_repos",
        flag=True,
    ),
    Option(
        "conformance_report",
        _parse_path,
        None,
        "write the datastore conformance report to PATH as Markdown (suffix .md) and JSON (suffix .json)",
        cli="--butler-conformance-report",
        metavar="PATH",
    ),
)
"""Every option of the test front ends."""

MARKERS: tuple[Marker, ...] = (
    Marker(
        DATASTORE_MARKER,
        f"{DATASTORE_MARKER}(**config)",
        "configure the butler_datastore fixture's InMemoryDatastore; "
        f"keys {', '.join(DATASTORE_KEYS)}, e.g. @pytest.mark.{DATASTORE_MARKER}(isolation='reference')",
    ),
    Marker(
        FAULTS_MARKER,
        f"{FAULTS_MARKER}(*faults, seed=None)",
        "wrap the butler_datastore fixture in an InstrumentedDatastore whose FaultPlan has these rules, "
        "each a mapping of butler_testkit.Fault keywords (or a Fault), e.g. "
        f"@pytest.mark.{FAULTS_MARKER}({{'operations': 'get', 'nth': 2}}); the seed of probabilities "
        "defaults to the test's",
    ),
    Marker(
        DATA_IDS_MARKER,
        f"{DATA_IDS_MARKER}(instrument=...)",
        f"instrument preset of the butler_data_ids and butler_refs fixtures ({', '.join(INSTRUMENT_NAMES)})",
    ),
    Marker(
        REPOSITORY_MARKER,
        f"{REPOSITORY_MARKER}(**spec)",
        "what the butler / butler_repo fixtures' repository holds (instrument, detectors, visits, "
        "exposures, tracts, dataset_types, registry_data, dimension_config, run) and where its "
        "registry lives (registry: sqlite, postgresql or a server URL), e.g. "
        f"@pytest.mark.{REPOSITORY_MARKER}(instrument='HSC', detectors=3, visits=2)",
    ),
    Marker(
        CAPABILITY_MARKER,
        f"{CAPABILITY_MARKER}(name, present=True, param=None)",
        "run a conformance test only when the datastore has (or, with present=False, lacks) a "
        "capability; set by butler_testkit.conformance.requires and lacks",
    ),
)
"""Every marker the pytest plugin registers."""


def option(name: str) -> Option:
    """Return the option of a name.

    Parameters
    ----------
    name : `str`
        The option's `Option.name`.

    Returns
    -------
    option : `Option`
        Its entry in `OPTIONS`.

    Raises
    ------
    KeyError
        Raised if no option has that name.
    """
    for candidate in OPTIONS:
        if candidate.name == name:
            return candidate
    raise KeyError(
        f"No butler-testkit option is named {name!r}; the options are {[o.name for o in OPTIONS]}."
    )


# What the test runner was given for the whole session (the pytest plugin
# sets it from the command line and ini file), already parsed, so that the
# unittest mixins run by pytest follow the same options as the fixtures.
_session: dict[str, Any] = {}


def configure_session(given: Mapping[str, Given]) -> dict[str, Any]:
    """Set the session-wide values of options, as the test runner was given them.

    Parameters
    ----------
    given : `~collections.abc.Mapping` [`str`, `Given`]
        Values by option name, each with where it came from.

    Returns
    -------
    previous : `dict` [`str`, `object`]
        The session values before, to hand to `restore_session` when the
        session ends.

    Raises
    ------
    TypeError, ValueError
        Raised for an invalid value, naming where it came from; nothing is
        changed then.
    """
    parsed = {name: option(name).parse(value, source) for name, (value, source) in given.items()}
    previous = dict(_session)
    _session.clear()
    _session.update(parsed)
    return previous


def restore_session(previous: Mapping[str, Any]) -> None:
    """Put back the session values `configure_session` returned.

    Parameters
    ----------
    previous : `~collections.abc.Mapping` [`str`, `object`]
        Parsed values by option name.
    """
    _session.clear()
    _session.update(previous)


def session_options() -> dict[str, Any]:
    """Return the session-wide values the test runner was given.

    Returns
    -------
    values : `dict` [`str`, `object`]
        Parsed values by option name; options not given are absent.
    """
    return dict(_session)


def resolve_options(given: Mapping[str, Given]) -> dict[str, Any]:
    """Return the value of every option for one test.

    Parameters
    ----------
    given : `~collections.abc.Mapping` [`str`, `Given`]
        What the test's markers or its class gave, by option name, each with
        where it came from.

    Returns
    -------
    values : `dict` [`str`, `object`]
        Every option: the test's value, else the session's, else the
        default.

    Raises
    ------
    KeyError
        Raised for a name that is no option.
    TypeError, ValueError
        Raised for an invalid value, naming where it came from.
    """
    for name in given:
        option(name)
    values = {}
    for entry in OPTIONS:
        if entry.name in given:
            value, source = given[entry.name]
            values[entry.name] = entry.parse(value, source)
        else:
            values[entry.name] = _session.get(entry.name, entry.default)
    return values


def options_from_markers(
    find: Callable[[str], tuple[Sequence[object], Mapping[str, object]] | None],
) -> dict[str, Given]:
    """Read the options a test's markers give.

    Parameters
    ----------
    find : `~collections.abc.Callable` [[`str`], `tuple` or `None`]
        Given a marker name, the closest such marker's positional and
        keyword arguments, or `None` when the test has none.

    Returns
    -------
    given : `dict` [`str`, `Given`]
        Values by option name, as `resolve_options` takes them.

    Raises
    ------
    TypeError
        Raised for positional arguments to a marker that takes none, or a
        keyword no option of the marker takes.
    """
    given: dict[str, Given] = {}
    markers = dict.fromkeys(entry.marker for entry in OPTIONS if entry.marker is not None)
    for marker in markers:
        found = find(marker)
        if found is None:
            continue
        args, kwargs = found
        source = f"The {marker} marker"
        entries = [entry for entry in OPTIONS if entry.marker == marker]
        named = {
            entry.marker_key: entry
            for entry in entries
            if entry.marker_key is not None and entry.marker_key not in (ARGUMENTS, KEYWORDS)
        }
        positional = next((entry for entry in entries if entry.marker_key == ARGUMENTS), None)
        rest = next((entry for entry in entries if entry.marker_key == KEYWORDS), None)
        if positional is not None:
            given[positional.name] = (tuple(args), source)
        elif args:
            raise TypeError(f"{source} takes keyword arguments only; got {tuple(args)!r}.")
        remaining = {}
        for key, value in kwargs.items():
            if key in named:
                given[named[key].name] = (value, source)
            else:
                remaining[key] = value
        if rest is not None:
            given[rest.name] = (remaining, source)
        elif remaining:
            takes = [*named, *(["positional rules"] if positional is not None else [])]
            raise TypeError(f"{source} does not know {sorted(remaining)}; it takes {', '.join(takes)}.")
    return given


def options_from_attributes(cls: type) -> dict[str, Given]:
    """Read the options a `unittest.TestCase` class gives by its attributes.

    Parameters
    ----------
    cls : `type`
        The test case class; an attribute that is `None` (the mixins'
        default) gives nothing.

    Returns
    -------
    given : `dict` [`str`, `Given`]
        Values by option name, as `resolve_options` takes them.
    """
    given: dict[str, Given] = {}
    for entry in OPTIONS:
        if entry.attribute is None:
            continue
        value = getattr(cls, entry.attribute, None)
        if value is not None:
            given[entry.name] = (value, f"{cls.__name__}.{entry.attribute}")
    return given
