"""Hypothesis strategies for ``lsst.daf.butler`` objects.

Data IDs, storage classes of the catalogue, dataset types, refs, and objects
of the catalogue's Python types. Data IDs are drawn by the same rules as
`~butler_testkit.factories.DataIdFactory` (valid, consistent values for any
dimension group), with every choice made by Hypothesis so that failures
shrink.

Storage classes are looked up in daf_butler's factory when drawn: install
the catalogue first (the ``butler_storage_classes`` fixture, or
`~butler_testkit.factories.installed_storage_classes`).
"""

from __future__ import annotations

__all__ = (
    "data_ids",
    "dataset_type_names",
    "dataset_types",
    "datasets",
    "refs",
    "runs",
    "storage_class_names",
    "storage_classes",
)

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst
from lsst.daf.butler import (
    DataCoordinate,
    DatasetRef,
    DatasetType,
    DimensionUniverse,
    StorageClass,
    StorageClassFactory,
)

from .factories import (
    CATALOGUE,
    DEFAULT_DIMENSIONS,
    INSTRUMENTS,
    BBox,
    DimensionWorld,
    ImageRecord,
    Ledger,
    MetricsRecord,
    MetricsRecordModel,
    conform_dimensions,
    default_universe,
    get_instrument,
)

_T = TypeVar("_T")

COMMON_DIMENSIONS: tuple[tuple[str, ...], ...] = (
    ("instrument", "visit", "detector"),
    ("instrument", "exposure", "detector"),
    ("instrument", "visit"),
    ("instrument", "detector"),
    ("instrument", "physical_filter"),
    ("skymap", "tract", "patch", "band"),
    ("skymap", "tract"),
    ("instrument",),
    ("htm7",),
    (),
)
"""Dimensions a drawn dataset type has, unless told otherwise."""


class _HypothesisChooser:
    """Every choice of a `DimensionWorld` made by Hypothesis, so that it shrinks."""

    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw

    def integer(self, low: int, high: int) -> int:
        return self._draw(st.integers(low, high))

    def choice(self, options: Sequence[_T]) -> _T:
        return self._draw(st.sampled_from(options))

    def real(self, low: float, high: float) -> float:
        return self._draw(st.floats(low, high, allow_nan=False, allow_infinity=False))


def data_ids(
    dimensions: Any = DEFAULT_DIMENSIONS,
    *,
    instrument: str | None = None,
    universe: DimensionUniverse | None = None,
    expanded: bool = False,
    **values: Any,
) -> st.SearchStrategy[DataCoordinate]:
    """Draw valid, consistent data IDs.

    Parameters
    ----------
    dimensions : `~lsst.daf.butler.DimensionGroup` or names, optional
        Their dimensions; one visit's detector by default.
    instrument : `str`, optional
        An instrument preset; any of them if not given.
    universe : `~lsst.daf.butler.DimensionUniverse`, optional
        The dimensions' universe; daf_butler's default if not given.
    expanded : `bool`, optional
        Whether to attach dimension records.
    **values
        Values every drawn data ID has.

    Returns
    -------
    strategy : `hypothesis.strategies.SearchStrategy`
        Of `~lsst.daf.butler.DataCoordinate`.

    Raises
    ------
    TypeError, ValueError
        Raised at once if the dimensions are not of the universe.
    LookupError
        Raised at once if the instrument has no preset.
    """
    universe = universe if universe is not None else default_universe()
    group = conform_dimensions(universe, dimensions)
    presets = [get_instrument(instrument)] if instrument is not None else list(INSTRUMENTS.values())

    @st.composite
    def draw_data_id(draw: st.DrawFn) -> DataCoordinate:
        preset = draw(st.sampled_from(presets))
        world = DimensionWorld(universe, preset, _HypothesisChooser(draw))
        fixed = dict(values)
        if "instrument" in group.names and instrument is not None:
            fixed.setdefault("instrument", preset.name)
        return world.data_id(group, fixed, expanded=expanded)

    return draw_data_id()


def storage_class_names(*, composite: bool | None = None) -> st.SearchStrategy[str]:
    """Draw names of catalogue storage classes.

    Parameters
    ----------
    composite : `bool`, optional
        Only composites (`True`), only others (`False`), or any (`None`).

    Returns
    -------
    strategy : `hypothesis.strategies.SearchStrategy`
        Of `str`.
    """
    names = sorted(
        name
        for name, definition in CATALOGUE.items()
        if composite is None or bool(definition.get("components")) == composite
    )
    return st.sampled_from(names)


def _installed(name: str) -> StorageClass:
    factory = StorageClassFactory()
    if name not in factory:
        raise LookupError(
            f"Storage class {name!r} is not installed; use the butler_storage_classes fixture or "
            "butler_testkit.factories.installed_storage_classes() around the test."
        )
    return factory.getStorageClass(name)


def storage_classes(*, composite: bool | None = None) -> st.SearchStrategy[StorageClass]:
    """Draw catalogue storage classes, as installed in daf_butler's factory.

    Parameters
    ----------
    composite : `bool`, optional
        Only composites (`True`), only others (`False`), or any (`None`).

    Returns
    -------
    strategy : `hypothesis.strategies.SearchStrategy`
        Of `~lsst.daf.butler.StorageClass`; drawing raises `LookupError` if
        the catalogue is not installed.
    """
    return storage_class_names(composite=composite).map(_installed)


def dataset_type_names() -> st.SearchStrategy[str]:
    """Draw valid dataset type names (never a component name).

    Returns
    -------
    strategy : `hypothesis.strategies.SearchStrategy`
        Of `str`: a letter, then letters, digits and underscores.
    """
    return st.from_regex(r"\A[a-z][a-zA-Z0-9_]{0,19}\Z")


def runs() -> st.SearchStrategy[str]:
    """Draw RUN collection names.

    Returns
    -------
    strategy : `hypothesis.strategies.SearchStrategy`
        Of `str`, such as ``u/abc/run3``.
    """
    return st.from_regex(r"\Au/[a-z]{2,8}/run[0-9]{1,3}\Z")


def dataset_types(
    *,
    names: st.SearchStrategy[str] | None = None,
    storage_classes: st.SearchStrategy[str] | None = None,
    dimensions: Any = None,
    universe: DimensionUniverse | None = None,
) -> st.SearchStrategy[DatasetType]:
    """Draw dataset types.

    Parameters
    ----------
    names : `hypothesis.strategies.SearchStrategy` [`str`], optional
        Their names; `dataset_type_names` by default.
    storage_classes : `hypothesis.strategies.SearchStrategy` [`str`], optional
        Storage class names; `storage_class_names` by default.
    dimensions : `~lsst.daf.butler.DimensionGroup` or names, optional
        Fixed dimensions; drawn from `COMMON_DIMENSIONS` if not given.
    universe : `~lsst.daf.butler.DimensionUniverse`, optional
        The dimensions' universe; daf_butler's default if not given.

    Returns
    -------
    strategy : `hypothesis.strategies.SearchStrategy`
        Of `~lsst.daf.butler.DatasetType`.
    """
    universe = universe if universe is not None else default_universe()
    if dimensions is None:
        groups = st.sampled_from([conform_dimensions(universe, names) for names in COMMON_DIMENSIONS])
    else:
        groups = st.just(conform_dimensions(universe, dimensions))
    return st.builds(
        lambda name, storage_class, group: DatasetType(name, group, storage_class, universe=universe),
        names if names is not None else dataset_type_names(),
        storage_classes if storage_classes is not None else storage_class_names(),
        groups,
    )


# refs() takes strategies named like these functions; keep them reachable.
_default_runs = runs
_default_dataset_types = dataset_types


def refs(
    *,
    dataset_types: st.SearchStrategy[DatasetType] | None = None,
    runs: st.SearchStrategy[str] | None = None,
    instrument: str | None = None,
    expanded: bool = False,
) -> st.SearchStrategy[DatasetRef]:
    """Draw resolved dataset references.

    Parameters
    ----------
    dataset_types : `hypothesis.strategies.SearchStrategy`, optional
        Their dataset types; `dataset_types` by default.
    runs : `hypothesis.strategies.SearchStrategy` [`str`], optional
        Their runs; `butler_testkit.strategies.runs` by default.
    instrument : `str`, optional
        An instrument preset for the data IDs; any if not given.
    expanded : `bool`, optional
        Whether data IDs carry dimension records (a ``FileDatastore``'s
        templates need them).

    Returns
    -------
    strategy : `hypothesis.strategies.SearchStrategy`
        Of `~lsst.daf.butler.DatasetRef`, with version-4 UUIDs.
    """
    run_names = runs if runs is not None else _default_runs()
    types = dataset_types if dataset_types is not None else _default_dataset_types()

    @st.composite
    def draw_ref(draw: st.DrawFn) -> DatasetRef:
        dataset_type = draw(types)
        data_id = draw(
            data_ids(
                dataset_type.dimensions,
                instrument=instrument,
                universe=dataset_type.dimensions.universe,
                expanded=expanded,
            )
        )
        return DatasetRef(dataset_type, data_id, run=draw(run_names), id=draw(st.uuids(version=4)))

    return draw_ref()


# JSON-representable values, as the catalogue's JSON formatter writes them:
# no NaN (which never equals itself), no lone surrogates (not UTF-8).
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=8,
)
_DICTS = st.dictionaries(_TEXT, _JSON, max_size=4)
_LISTS = st.lists(_JSON, max_size=6)
_METRICS_FIELDS: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {"summary": st.none() | _DICTS, "output": st.none() | _DICTS, "data": st.none() | _LISTS}
)


def _images() -> st.SearchStrategy[ImageRecord]:
    @st.composite
    def draw_image(draw: st.DrawFn) -> ImageRecord:
        shape = draw(st.tuples(st.integers(1, 6), st.integers(1, 6)))
        return ImageRecord(
            image=draw(npst.arrays(np.float32, shape, elements=st.floats(-1e6, 1e6, width=32))),
            mask=draw(npst.arrays(np.int32, shape, elements=st.integers(0, 2**16))),
            variance=draw(npst.arrays(np.float32, shape, elements=st.floats(0, 1e6, width=32))),
            metadata=draw(st.dictionaries(st.from_regex(r"\A[A-Z]{1,8}\Z"), _SCALARS, max_size=4)),
        )

    return draw_image()


def _arrays() -> st.SearchStrategy[np.ndarray]:
    dtypes = st.sampled_from([np.float32, np.float64, np.int16, np.int32, np.uint8])
    shapes = st.tuples(st.integers(1, 6), st.integers(1, 6))
    return dtypes.flatmap(
        lambda dtype: npst.arrays(
            dtype,
            shapes,
            elements=npst.from_dtype(np.dtype(dtype), allow_nan=False, allow_infinity=False),
        )
    )


_DATASETS: dict[str, st.SearchStrategy[Any]] = {
    "BtkDict": _DICTS,
    "BtkList": _LISTS,
    "BtkTuple": st.lists(_JSON, max_size=6).map(tuple),
    "BtkInt": st.integers(-(2**63), 2**63 - 1),
    "BtkMetrics": _METRICS_FIELDS.map(lambda fields: MetricsRecord(**fields)),
    "BtkMetricsNoComponents": _METRICS_FIELDS.map(lambda fields: MetricsRecord(**fields)),
    "BtkMetricsModel": _METRICS_FIELDS.map(lambda fields: MetricsRecordModel(**fields)),
    "BtkMetricsDict": _METRICS_FIELDS,
    "BtkArray": _arrays(),
    "BtkBBox": st.builds(
        BBox, st.integers(0, 1000), st.integers(0, 1000), st.integers(1, 1000), st.integers(1, 1000)
    ),
    "BtkImage": _images(),
    "BtkLedger": st.lists(st.text(max_size=12), max_size=6).map(lambda entries: Ledger(entries=entries)),
}


def datasets(storage_class: str | None = None) -> st.SearchStrategy[Any]:
    """Draw objects of a catalogue storage class's Python type.

    Parameters
    ----------
    storage_class : `str`, optional
        A catalogue storage class name; if not given, draw ``(name,
        object)`` pairs over the whole catalogue.

    Returns
    -------
    strategy : `hypothesis.strategies.SearchStrategy`
        Of objects that every catalogue formatter can write and read back
        equal (JSON-representable values, finite numbers).

    Raises
    ------
    LookupError
        Raised at once if the name is not in the catalogue.
    """
    if storage_class is None:
        return st.sampled_from(sorted(_DATASETS)).flatmap(
            lambda name: st.tuples(st.just(name), _DATASETS[name])
        )
    try:
        return _DATASETS[storage_class]
    except KeyError:
        raise LookupError(
            f"{storage_class!r} is not a catalogue storage class; they are {', '.join(sorted(_DATASETS))}."
        ) from None
