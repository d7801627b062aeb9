"""How a run builds: the same indexes as the run, the ``CROSSPIN_*`` bounds on builds.

A PEP 517 build installs its build requirements with pip; those must come
from exactly the indexes this run uses (issue 13: a private build
dependency is never asked of pip's default index), so the build settings
are derived from the run's :class:`~crosspin.index.IndexSettings` by the
same :func:`~crosspin.settings.pip_environment` that sync's builds use.
"""

from __future__ import annotations

import attrs

from crosspin.index import IndexSettings
from crosspin.metadata import BuildSettings, SdistLimits
from crosspin.settings._pipenv import pip_environment
from crosspin.settings._tuning import Tuning

__all__ = ["build_settings"]


def build_settings(index: IndexSettings, tuning: Tuning) -> BuildSettings:
    """The :class:`BuildSettings` of a run reaching packages through ``index``."""
    limits = SdistLimits()
    if tuning.max_sdist_size is not None:
        limits = attrs.evolve(limits, size=tuning.max_sdist_size)
    if tuning.max_sdist_members is not None:
        limits = attrs.evolve(limits, members=tuning.max_sdist_members)
    return BuildSettings(
        pip_variables=tuple(sorted(pip_environment(index, {}).items())),
        timeout=tuning.build_timeout,
        limits=limits,
    )
