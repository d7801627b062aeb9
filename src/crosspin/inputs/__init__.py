"""Read a project's direct requirements from its files into one :class:`InputSet`.

Inputs are pip-style requirements files (``requirements.in``, with ``-r``,
``-c``, options, direct references, local paths, VCS URLs and editables:
``_reqfiles`` on top of :mod:`crosspin.reqfile`) and local projects
(``pyproject.toml`` ``[project]`` dependencies, selected extras and PEP 735
dependency groups: ``_project``; projects whose dependencies are dynamic
are asked through PEP 517: ``_build``). ``_links`` tells what a
requirement's text points at (an index name, a URL, a path, a VCS URL);
``_vcs`` checks a ``git+`` reference out and pins it to its commit. Every
requirement keeps where it was written, so ``# via`` lines and error
messages can point at it.
"""

from __future__ import annotations

from crosspin.inputs._model import InputOptions, InputSet, RootRequirement
from crosspin.inputs._read import input_digest, read_inputs
from crosspin.inputs._vcs import Checkout, checkout, is_vcs

__all__ = [
    "Checkout",
    "InputOptions",
    "InputSet",
    "RootRequirement",
    "checkout",
    "input_digest",
    "is_vcs",
    "read_inputs",
]
