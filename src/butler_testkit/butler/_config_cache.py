"""Expanded ``ButlerConfig`` objects, parsed once per input and copied out."""

from __future__ import annotations

__all__ = ("FIRST_PARSE", "ButlerConfigCache", "ConfigFileCache", "content_digest")

import dataclasses
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lsst.daf.butler import ButlerConfig, Config
from lsst.resources import ResourcePath
from lsst.resources.file import FileResourcePath

from ._fallback import Fallback
from ._make_repo import RepositoryRoot, digest_directories
from ._structures import plain_copy

_CONFIG_PATH_VARIABLE = "DAF_BUTLER_CONFIG_PATH"
_REPOSITORY_INDEX_VARIABLE = "DAF_BUTLER_REPOSITORY_INDEX"

#: Why a configuration was parsed by daf_butler and kept.
FIRST_PARSE = "first configuration of its inputs (parsed and kept)"

# Bound on the number of distinct expanded configurations kept.
_MAX_ENTRIES = 256


class ButlerConfigCache:
    """Serve ``ButlerConfig(...)`` from a parse of the same inputs made before.

    Expanding a Butler configuration reads and merges daf_butler's default
    configuration files for every component: tens of milliseconds, and a
    test suite builds one for every Butler it opens. The result depends only
    on the inputs, so it is kept, keyed on them, and every later
    construction with the same inputs gets a deep copy.

    The key holds the content of a configuration file (so an edited file is
    parsed again), the configuration itself when one is given, the search
    paths with the content of the files under them, ``without_datastore``,
    and ``$DAF_BUTLER_CONFIG_PATH`` with its files. Inputs whose result could
    change without the key changing are not cached: a repository alias
    (``$DAF_BUTLER_REPOSITORY_INDEX`` set), a file that includes others by
    ``includeConfigs`` (files it includes with ``!include`` are part of the
    key), a non-local file, a configuration that is not plain data.

    Parameters
    ----------
    original_init : `~collections.abc.Callable`
        daf_butler's own ``ButlerConfig.__init__``.
    """

    def __init__(self, original_init: Callable[..., None]) -> None:
        self._original_init = original_init
        self._entries: dict[str, ButlerConfig] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def initialize(
        self,
        config: ButlerConfig,
        other: Any = None,
        searchPaths: Sequence[Any] | None = None,
        without_datastore: bool = False,
        record: Callable[[str | None], None] = lambda reason: None,
    ) -> None:
        """Initialize ``config`` as ``ButlerConfig.__init__`` would.

        Parameters
        ----------
        config : `~lsst.daf.butler.ButlerConfig`
            The object under construction.
        other, searchPaths, without_datastore
            As for ``ButlerConfig``.
        record : `~collections.abc.Callable` [[`str` or `None`], `None`], optional
            Told `None` when the configuration comes from the cache, and
            otherwise why daf_butler's own parse makes it (`FIRST_PARSE` if
            it is kept for the next time), before that parse runs.
        """
        try:
            key, location = _key(other, searchPaths, without_datastore)
        except Fallback as fallback:
            record(fallback.reason)
            self._original_init(config, other, searchPaths=searchPaths, without_datastore=without_datastore)
            return
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None:
            _copy_into(config, cached, location, location.concrete if location else plain_copy)
            with self._lock:
                self.hits += 1
            record(None)
            return
        self._original_init(config, other, searchPaths=searchPaths, without_datastore=without_datastore)
        if location is not None and not _located_at(config, location):
            record("configuration file is not where it was named")
            return
        kept = ButlerConfig.__new__(ButlerConfig)
        _copy_into(kept, config, None, location.abstract if location else plain_copy)
        with self._lock:
            self.misses += 1
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = kept
        record(FIRST_PARSE)

    def clear(self) -> None:
        """Forget every kept configuration."""
        with self._lock:
            self._entries.clear()


class ConfigFileCache:
    """Serve the parse of a configuration file read before, by content.

    Every configuration class reads its defaults from daf_butler's YAML
    files, and each Butler, registry and datastore construction builds
    several: parsing YAML is most of what building a configuration costs.
    A file's parse depends on its content alone (unless it includes other
    files, which are then parsed again), so the parse is kept, keyed on the
    location and the bytes, and handed out as a copy.

    Parameters
    ----------
    original_read : `~collections.abc.Callable`
        daf_butler's own method that reads a file into a ``Config``.
    """

    def __init__(self, original_read: Callable[[Config, Any], None]) -> None:
        self._original_read = original_read
        self._parsed: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def read_into(self, config: Config, location: Any) -> bool:
        """Read a configuration file into ``config`` as daf_butler does.

        Parameters
        ----------
        config : `~lsst.daf.butler.Config`
            The configuration under construction.
        location : `lsst.resources.ResourcePathExpression`
            The file.

        Returns
        -------
        cached : `bool`
            Whether the parse came from the cache.
        """
        try:
            uri = ResourcePath(location, forceDirectory=False)
            digest = content_digest(uri) if uri.getExtension() in (".yaml", ".json") else None
        except Exception:
            digest = None
        if digest is None:
            self._original_read(config, location)
            return False
        key = (uri.geturl(), digest)
        with self._lock:
            cached = self._parsed.get(key)
        internals: Any = config
        if cached is not None:
            internals._data = plain_copy(cached[0])
            config.configFile = cached[1]
            return True
        self._original_read(config, location)
        with self._lock:
            if len(self._parsed) >= _MAX_ENTRIES * 4:
                self._parsed.pop(next(iter(self._parsed)))
            self._parsed[key] = (plain_copy(internals._data), config.configFile)
        return False

    def clear(self) -> None:
        """Forget every parse."""
        with self._lock:
            self._parsed.clear()


# A YAML include naming one file; a sequence or mapping of files is not followed.
_INCLUDE = re.compile(rb"!include\s+([^\s\[\]{},#]+)")
_MAX_INCLUDE_DEPTH = 8


def content_digest(uri: ResourcePath, depth: int = 0) -> str | None:
    """Digest a configuration file with every file it includes, or `None` if that cannot be done.

    Parameters
    ----------
    uri : `lsst.resources.ResourcePath`
        The file.
    depth : `int`, optional
        How many includes deep this file is.

    Returns
    -------
    digest : `str` or `None`
        A digest that changes when the file or any file it includes (with
        ``!include``, as daf_butler resolves it) changes; `None` if an
        include cannot be followed (a list of files, too deep, unreadable).
    """
    content = uri.read()
    digest = hashlib.sha256(content)
    if b"!include" in content:
        if depth >= _MAX_INCLUDE_DEPTH or content.count(b"!include") != len(_INCLUDE.findall(content)):
            return None
        for target in _INCLUDE.findall(content):
            name = target.decode("utf-8", "surrogateescape").strip("'\"")
            requested = ResourcePath(name, forceAbsolute=False, forceDirectory=False)
            included = requested if requested.scheme else uri.updatedFile(name)
            try:
                inner = content_digest(included, depth + 1)
            except Exception:
                return None
            if inner is None:
                return None
            digest.update(inner.encode())
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class _Location:
    """Where a configuration file is: its directory (the repository root) and name."""

    root: RepositoryRoot
    name: str

    def abstract(self, data: Any) -> Any:
        # Mapping the strings copies every dict and list on the way.
        return self.root.abstract(data)

    def concrete(self, data: Any) -> Any:
        return self.root.concrete(data)


def _located_at(config: ButlerConfig, location: _Location) -> bool:
    expected = ResourcePath(os.path.join(location.root.path, location.name), forceDirectory=False)
    return config.configFile == expected


def _copy_into(
    target: ButlerConfig, source: ButlerConfig, location: _Location | None, convert: Callable[[Any], Any]
) -> None:
    """Make ``target`` a copy of ``source``, converted, at ``location`` if given."""
    source_internals: Any = source
    target_internals: Any = target
    target_internals._data = convert(source_internals._data)
    if location is None:
        target.configFile = source.configFile
        target.configDir = source.configDir
    else:
        target.configFile = ResourcePath(
            os.path.join(location.root.path, location.name), forceDirectory=False
        )
        target.configDir = target.configFile.dirname()


def _key(
    other: Any, search_paths: Sequence[Any] | None, without_datastore: bool
) -> tuple[str, _Location | None]:
    """Return the cache key of these inputs and the file's location, or raise `Fallback`.

    A configuration file's directory is abstracted out of the key (and of
    the kept result), so that the repositories made from one template share
    one entry.
    """
    location: _Location | None = None
    if isinstance(other, ButlerConfig):
        raise Fallback("copy of a ButlerConfig (already cheap)")
    if isinstance(other, str | os.PathLike | ResourcePath):
        if os.environ.get(_REPOSITORY_INDEX_VARIABLE):
            raise Fallback("a repository index may turn the name into an alias")
        path, content = _file_content(other)
        location = _location(path)
        text = content.decode("utf-8", errors="surrogateescape")
        if location is not None:
            text = location.root.abstract(text)
        source: Any = [
            "file",
            os.path.basename(path),
            hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest(),
        ]
    elif isinstance(other, Config):
        data = other.toDict()
        if other.configFile is not None:
            configured = ResourcePath(other.configFile)
            location = _location(configured.ospath) if type(configured) is FileResourcePath else None
            if location is not None:
                data = location.root.abstract(data)
            name = location.name if location is not None else str(other.configFile)
        else:
            name = None
        source = ["config", data, name]
    elif other is None:
        source = ["defaults"]
    elif isinstance(other, Mapping):
        source = ["mapping", Config(other).toDict()]
    else:
        raise Fallback(f"configuration given as {type(other).__name__}")
    paths = [str(path) for path in search_paths or ()]
    environment = os.environ.get(_CONFIG_PATH_VARIABLE)
    material = [
        source,
        paths,
        digest_directories(paths),
        bool(without_datastore),
        environment,
        digest_directories(environment.split(os.pathsep) if environment else []),
    ]
    try:
        rendered = json.dumps(material, sort_keys=True)
    except (TypeError, ValueError) as err:
        raise Fallback("configuration is not plain data") from err
    return hashlib.sha256(rendered.encode()).hexdigest(), location


def _location(path: str) -> _Location | None:
    try:
        root = RepositoryRoot.from_expression(os.path.dirname(path))
    except Fallback:
        return None
    return _Location(root, os.path.basename(path))


def _file_content(location: Any) -> tuple[str, bytes]:
    """Return the path and content of the configuration file a location resolves to."""
    uri = ResourcePath(location)
    if type(uri) is not FileResourcePath:
        raise Fallback("configuration is not a local file")
    path = uri.ospath
    if os.path.isdir(path):
        path = os.path.join(path, "butler.yaml")
    try:
        with open(path, "rb") as stream:
            content = stream.read()
    except OSError as err:
        raise Fallback("configuration file cannot be read") from err
    if b"includeConfigs" in content:
        raise Fallback("configuration file includes other files")
    if b"!include" in content:
        included = content_digest(ResourcePath(path, forceDirectory=False))
        if included is None:
            raise Fallback("configuration file includes files that cannot be followed")
        content += included.encode()
    return path, content
