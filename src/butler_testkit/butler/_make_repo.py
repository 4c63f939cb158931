"""``Butler.makeRepo`` from a template: the first repository of a configuration, copied."""

from __future__ import annotations

__all__ = ("MakeRepoTemplates", "RepositoryRoot", "digest_directories")

import contextlib
import copy
import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import urllib.parse
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from lsst.daf.butler import Config, ConfigSubset
from lsst.daf.butler.dimensions import DimensionConfig
from lsst.daf.butler.repo_relocation import replaceRoot
from lsst.resources import ResourcePath
from lsst.resources.file import FileResourcePath

from ._fallback import Fallback
from ._structures import map_structure

# Where Butler.makeRepo logs that it wrote a configuration; a copy logs the same.
_MAKE_REPO_LOGGER = logging.getLogger("lsst.daf.butler._butler")
_VERBOSE = 15  # lsst.utils.logging.VERBOSE

_CONFIG_PATH_VARIABLE = "DAF_BUTLER_CONFIG_PATH"

# A root this simple is written the same way, unquoted, wherever YAML holds it,
# so replacing one root by another in butler.yaml keeps the file valid.
_SAFE_ROOT = re.compile(r"[A-Za-z0-9_./+~-]+")

# Search paths with more files than this are not digested on every call.
_MAX_SEARCH_PATH_FILES = 500

# The template's copy of a registry, open for as long as the template lives;
# named like daf_butler's registries, which leak checks know to be databases.
_PRISTINE_REGISTRY = "registry.sqlite3"

#: Stands for the repository root inside a template.
ROOT_MARKER = "\x00butler-testkit-root\x00"


@dataclasses.dataclass(frozen=True)
class RepositoryRoot:
    """A new repository's root, and how to recognise it inside a configuration.

    Parameters
    ----------
    path : `str`
        Absolute local path, without a trailing separator.
    """

    path: str

    @classmethod
    def from_expression(cls, root: Any) -> RepositoryRoot:
        """Resolve a root as ``Butler.makeRepo`` does.

        Parameters
        ----------
        root : `lsst.resources.ResourcePathExpression`
            What the caller passed.

        Returns
        -------
        root : `RepositoryRoot`
            The resolved root.

        Raises
        ------
        Fallback
            Raised if the root is not a plain local directory path.
        """
        try:
            uri = ResourcePath(root, forceDirectory=True)
        except Exception as err:
            raise Fallback("root is not a path daf_butler can resolve") from err
        if not isinstance(uri, FileResourcePath) or type(uri).__name__ != "FileResourcePath":
            raise Fallback("root is not a local directory")
        path = uri.ospath.rstrip(os.sep) or os.sep
        if not _SAFE_ROOT.fullmatch(path):
            raise Fallback("root path has characters a configuration file may quote")
        return cls(path)

    def _pattern(self) -> re.Pattern[str]:
        return re.compile(re.escape(self.path) + r"(?=/|$)")

    def abstract(self, value: Any) -> Any:
        """Replace this root by the marker in every string of ``value``.

        Parameters
        ----------
        value : `object`
            Nested dicts, lists and scalars.

        Returns
        -------
        value : `object`
            A new structure (strings substituted, other leaves shared).
        """
        pattern = self._pattern()
        root = self.path
        return _map_strings(value, lambda text: pattern.sub(ROOT_MARKER, text) if root in text else text)

    def concrete(self, value: Any) -> Any:
        """Replace the marker by this root in every string of ``value``.

        Parameters
        ----------
        value : `object`
            Nested dicts, lists and scalars.

        Returns
        -------
        value : `object`
            A new structure.
        """
        root = self.path
        return _map_strings(
            value, lambda text: text.replace(ROOT_MARKER, root) if ROOT_MARKER in text else text
        )


def _map_strings(value: Any, function: Callable[[str], str]) -> Any:
    return map_structure(value, function)


@dataclasses.dataclass(frozen=True)
class _Template:
    """What one ``Butler.makeRepo`` call created, kept to be copied."""

    directory: Path  # private copies of the created files
    files: tuple[str, ...]  # their paths relative to the root
    texts: Mapping[str, str]  # text files, root replaced by the marker
    config: dict[str, Any]  # the returned configuration, root replaced by the marker
    config_file: str  # where the returned configuration says it was written, relative
    database: str | None  # the registry's SQLite file, relative
    warnings: tuple[warnings.WarningMessage, ...]


class MakeRepoTemplates:
    """Serve ``Butler.makeRepo`` by copying the first repository made with each configuration.

    Parameters
    ----------
    make_repo : `~collections.abc.Callable`
        daf_butler's own ``Butler.makeRepo``, which builds each template.
    on_pristine_registry : `~collections.abc.Callable` [[`str`], `None`]
        Called with the path of each template's pristine registry file (kept
        unchanged until `discard`), so that Butlers on the copies can reuse
        a registry loaded from it.

    Notes
    -----
    A template is keyed on everything that decides what ``makeRepo``
    writes: the configuration (with the root abstracted away, so that a
    configuration naming its own root is still one configuration), the
    dimension configuration, ``standalone``, ``searchPaths`` and the content
    of the files under them, ``forceConfigRoot``, and
    ``$DAF_BUTLER_CONFIG_PATH`` with its files. The first call with a key
    is daf_butler's own, into the caller's root; its files are kept. Later
    calls copy them, with the root replaced, and return the configuration
    the first call returned, with the root replaced: what daf_butler would
    have written and returned, without expanding the configuration or
    creating the registry's tables again.
    """

    def __init__(self, make_repo: Callable[..., Config], on_pristine_registry: Callable[[str], None]) -> None:
        self._make_repo = make_repo
        self._on_pristine_registry = on_pristine_registry
        self._templates: dict[str, _Template | Fallback] = {}
        self._lock = threading.Lock()
        self._holder: Path | None = None

    def make_repo(
        self,
        root: Any,
        config: Config | str | None = None,
        dimensionConfig: Config | str | None = None,
        standalone: bool = False,
        searchPaths: list[str] | None = None,
        forceConfigRoot: bool = True,
        outfile: Any = None,
        overwrite: bool = False,
    ) -> tuple[Config, bool]:
        """Make a repository as ``Butler.makeRepo`` does.

        Parameters
        ----------
        root, config, dimensionConfig, standalone, searchPaths, forceConfigRoot, outfile, overwrite
            As for ``Butler.makeRepo``.

        Returns
        -------
        config : `~lsst.daf.butler.Config`
            What ``Butler.makeRepo`` returns.
        copied : `bool`
            Whether it was copied from a template (`False` for the call that
            built the template).

        Raises
        ------
        Fallback
            Raised, with nothing changed, if this call must go to daf_butler.
        """
        if outfile is not None:
            raise Fallback("outfile given")
        if isinstance(config, ConfigSubset) or type(config).__name__ == "ButlerConfig":
            raise Fallback("config is a ButlerConfig or ConfigSubset")
        new_root = RepositoryRoot.from_expression(root)
        if os.path.exists(new_root.path) and not os.path.isdir(new_root.path):
            raise Fallback("root exists and is not a directory")
        parsed = Config(config)  # reads a file given by name, as makeRepo does
        key = self._key(new_root, parsed, dimensionConfig, standalone, searchPaths, forceConfigRoot)
        with self._lock:
            template = self._templates.get(key)
        if isinstance(template, Fallback):
            raise template
        if template is None:
            return self._build(
                key, new_root, config, dimensionConfig, standalone, searchPaths, forceConfigRoot, overwrite
            ), False
        return self._copy(template, new_root), True

    def _key(
        self,
        root: RepositoryRoot,
        config: Config,
        dimension_config: Config | str | None,
        standalone: bool,
        search_paths: list[str] | None,
        force_config_root: bool,
    ) -> str:
        if dimension_config is None:
            dimensions: Any = None
        elif isinstance(dimension_config, Config):
            dimensions = dimension_config.toDict()
        else:
            dimensions = DimensionConfig(dimension_config).toDict()
        environment = os.environ.get(_CONFIG_PATH_VARIABLE)
        material = {
            "config": root.abstract(config.toDict()),
            "dimensions": dimensions,
            "standalone": bool(standalone),
            "search_paths": [str(path) for path in search_paths or ()],
            "search_files": digest_directories([str(path) for path in search_paths or ()]),
            "force_config_root": bool(force_config_root),
            "environment": environment,
            "environment_files": digest_directories(environment.split(os.pathsep) if environment else []),
        }
        try:
            text = json.dumps(material, sort_keys=True)
        except (TypeError, ValueError) as err:
            raise Fallback("configuration cannot be compared") from err
        return hashlib.sha256(text.encode()).hexdigest()

    def _build(
        self,
        key: str,
        root: RepositoryRoot,
        config: Config | str | None,
        dimension_config: Config | str | None,
        standalone: bool,
        search_paths: list[str] | None,
        force_config_root: bool,
        overwrite: bool,
    ) -> Config:
        before = set(_files_under(root.path))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = self._make_repo(
                root.path,
                config=config,
                dimensionConfig=dimension_config,
                standalone=standalone,
                searchPaths=search_paths,
                forceConfigRoot=force_config_root,
                overwrite=overwrite,
            )
        for message in caught:
            warnings.warn_explicit(message.message, message.category, message.filename, message.lineno)
        created = sorted(set(_files_under(root.path)) - before)
        template = self._keep(root, result, created, tuple(caught))
        with self._lock:
            kept = self._templates.setdefault(key, template)
        if kept is template and isinstance(template, _Template) and template.database is not None:
            self._on_pristine_registry(str(template.directory / _PRISTINE_REGISTRY))
        return result

    def _keep(
        self,
        root: RepositoryRoot,
        result: Config,
        created: list[str],
        caught: tuple[warnings.WarningMessage, ...],
    ) -> _Template | Fallback:
        """Keep what a call created, or the reason it cannot be copied."""
        if result.configFile is None:
            return Fallback("makeRepo wrote no configuration file")
        config_path = ResourcePath(result.configFile).ospath
        config_file = os.path.relpath(config_path, root.path)
        if config_file.startswith(".."):
            return Fallback("configuration written outside the root")
        database = _sqlite_file(result, root)
        if isinstance(database, Fallback):
            return database
        expected = {config_file} | ({database} if database is not None else set())
        if set(created) != expected:
            return Fallback("makeRepo created files other than its configuration and registry")
        holder = self._template_holder()
        directory = Path(tempfile.mkdtemp(dir=holder))
        texts: dict[str, str] = {}
        for relative in created:
            source = os.path.join(root.path, relative)
            if relative == database:
                shutil.copyfile(source, directory / _PRISTINE_REGISTRY)
            else:
                with open(source, encoding="utf-8") as stream:
                    texts[relative] = root.abstract(stream.read())
        return _Template(
            directory=directory,
            files=tuple(created),
            texts=texts,
            config=copy.deepcopy(root.abstract(result.toDict())),
            config_file=config_file,
            database=database,
            warnings=caught,
        )

    def _copy(self, template: _Template, root: RepositoryRoot) -> Config:
        targets = [os.path.join(root.path, relative) for relative in template.files]
        if any(os.path.lexists(target) for target in targets):
            raise Fallback("a file makeRepo writes already exists at the root")
        os.makedirs(root.path, exist_ok=True)
        for relative, target in zip(template.files, targets, strict=True):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if relative == template.database:
                shutil.copyfile(template.directory / _PRISTINE_REGISTRY, target)
            else:
                with open(target, "x", encoding="utf-8") as stream:
                    stream.write(root.concrete(template.texts[relative]))
        for message in template.warnings:
            warnings.warn_explicit(message.message, message.category, message.filename, message.lineno)
        result = Config(root.concrete(copy.deepcopy(template.config)))
        result.configFile = ResourcePath(os.path.join(root.path, template.config_file), forceDirectory=False)
        _MAKE_REPO_LOGGER.log(_VERBOSE, "Wrote new Butler configuration file to %s", root_uri_text(root))
        return result

    def _template_holder(self) -> Path:
        if self._holder is None:
            self._holder = Path(tempfile.mkdtemp(prefix="butler-testkit-make-repo-"))
        return self._holder

    def discard(self) -> None:
        """Forget every template and delete its files."""
        with self._lock:
            self._templates.clear()
            holder, self._holder = self._holder, None
        if holder is not None:
            shutil.rmtree(holder, ignore_errors=True)

    def __len__(self) -> int:
        return sum(1 for template in self._templates.values() if isinstance(template, _Template))


def root_uri_text(root: RepositoryRoot) -> str:
    """Return the root as ``Butler.makeRepo`` names it in its log message.

    Parameters
    ----------
    root : `RepositoryRoot`
        The root.

    Returns
    -------
    text : `str`
        Its directory URI.
    """
    return str(ResourcePath(root.path, forceDirectory=True))


def _sqlite_file(result: Config, root: RepositoryRoot) -> str | Fallback | None:
    """Locate the registry's SQLite file relative to the root, as daf_butler resolves it."""
    db = result.get(("registry", "db"))
    if db is None:
        return Fallback("registry location unknown")
    resolved = replaceRoot(str(db), ResourcePath(root.path, forceDirectory=True))
    parsed = urllib.parse.urlparse(resolved)
    if not parsed.scheme.startswith("sqlite"):
        return Fallback("registry is not SQLite")
    if not parsed.path.startswith("/"):
        return None  # in memory: nothing on disk to copy
    relative = os.path.relpath(parsed.path[1:], root.path)
    if relative.startswith(".."):
        return Fallback("registry file outside the root")
    return relative


def _files_under(directory: str) -> Iterator[str]:
    if not os.path.isdir(directory):
        return
    for parent, _dirs, files in os.walk(directory):
        for name in files:
            yield os.path.relpath(os.path.join(parent, name), directory)


def digest_directories(directories: list[str]) -> list[tuple[str, str]]:
    """Digest the files under configuration directories, so that an edit misses the cache."""
    digests: list[tuple[str, str]] = []
    for directory in directories:
        if "://" in directory and not directory.startswith("file://"):
            raise Fallback("search path is not a local directory")
        directory = directory.removeprefix("file://")
        if not os.path.isdir(directory):
            digests.append((directory, "absent"))
            continue
        files = sorted(_files_under(directory))
        if len(files) > _MAX_SEARCH_PATH_FILES:
            raise Fallback("search path holds too many files to compare")
        digest = hashlib.sha256()
        for relative in files:
            digest.update(relative.encode())
            with contextlib.suppress(OSError), open(os.path.join(directory, relative), "rb") as stream:
                digest.update(hashlib.sha256(stream.read()).digest())
        digests.append((directory, digest.hexdigest()))
    return digests
