"""Datastore constraints, free when there are none and cached otherwise."""

from __future__ import annotations

__all__ = ("ConstraintsCache", "constraint_lookup_keys")

from typing import Any

from lsst.daf.butler import DatasetRef, DatasetType, LookupKey
from lsst.daf.butler.datastore.constraints import Constraints, ConstraintsConfig


def _has_rules(config: Any) -> bool:
    """Whether a ``constraints`` configuration entry restricts anything."""
    if not config:
        return False
    return bool(config.get("accept") or config.get("reject"))


class ConstraintsCache:
    """Answer `Constraints.isAcceptable` for refs, remembering the answers.

    Parameters
    ----------
    constraints : `~lsst.daf.butler.datastore.constraints.Constraints`
        The datastore's constraints.
    config : `object`
        The ``constraints`` entry of the datastore configuration, or `None`.

    Notes
    -----
    Upstream's check builds a dozen lookup keys and their wildcard clones for
    every call, most of a ``put``'s cost. The answer for a ref depends only on
    its dataset type (name, component, dimensions and storage classes) and on
    the value of its ``instrument`` dimension, so it is cached under that
    pair. With no ``accept`` or ``reject`` entries configured nothing is
    checked at all.
    """

    def __init__(self, constraints: Constraints, config: Any) -> None:
        self._constraints = constraints
        self.unconstrained = not _has_rules(config)
        self._answers: dict[tuple[DatasetType, object], bool] = {}

    def accepts(self, ref: DatasetRef) -> bool:
        """Return whether the datastore accepts ``ref``.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The reference to check.

        Returns
        -------
        accepted : `bool`
            `True` if the constraints allow the dataset.
        """
        if self.unconstrained:
            return True
        data_id = ref.dataId
        instrument = data_id["instrument"] if "instrument" in data_id.dimensions.names else None
        key = (ref.datasetType, instrument)
        answer = self._answers.get(key)
        if answer is None:
            # A race here only computes the same answer twice.
            answer = self._answers[key] = self._constraints.isAcceptable(ref)
        return answer


def constraint_lookup_keys(config: Any, universe: Any) -> set[LookupKey]:
    """Return every lookup key named by a constraints configuration.

    Parameters
    ----------
    config : `object`
        The ``constraints`` entry of the datastore configuration, or `None`.
    universe : `~lsst.daf.butler.DimensionUniverse`
        Universe used to normalise dimension keys.

    Returns
    -------
    keys : `set` [`~lsst.daf.butler.LookupKey`]
        The keys of both the ``accept`` and the ``reject`` lists, without the
        ``all`` wildcard.

    Notes
    -----
    Upstream's ``Constraints.getLookupKeys`` unions the accept list with
    itself, so reject keys never reach ``Butler.validateConfiguration``. Each
    list is parsed here as the accept list of its own `Constraints`, which
    reports it through the public method.
    """
    keys: set[LookupKey] = set()
    if not config:
        return keys
    for section in ("accept", "reject"):
        entries = config.get(section)
        if entries:
            keys |= Constraints(ConstraintsConfig({"accept": entries}), universe=universe).getLookupKeys()
    return keys
