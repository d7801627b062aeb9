"""Marker algebra over a matrix: from a set of environments to a readable marker.

A lock pins each ``name==version`` for the environments whose fork chose
it; the marker written beside it must select exactly those environments of
the matrix and read like a person wrote it (``sys_platform == "win32"``,
``python_version < "3.11"``), not list environments. :func:`marker_for`
finds such a marker, preferring a marker the dependency graph itself
carries when that one is exact. ``None`` stands for "always true"
throughout, as :attr:`crosspin.lock.LockedPackage.marker` does.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence

import attrs
from packaging.markers import Marker
from packaging.utils import canonicalize_name

import crosspin.markers._tree as _tree
from crosspin.environments import PLATFORMS, Environment, Matrix
from crosspin.markers._cover import best_cover
from crosspin.markers._space import Space, Term, space_of

__all__ = [
    "conjoin",
    "disjoin",
    "environments_of",
    "evaluate",
    "marker_for",
    "simplify",
]


def evaluate(
    marker: Marker | None, environment: Environment, extras: Collection[str] = ()
) -> bool:
    """Whether ``marker`` holds in ``environment`` (``None`` always holds).

    The target's own marker environment is used, never the host's.
    ``extras`` are the extras being installed: an ``extra == "x"`` marker
    holds when any of them is ``x`` (pip's rule), and PEP 751 ``"x" in
    extras`` markers see them as a set.
    """
    if marker is None:
        return True
    env: dict[str, str | frozenset[str]] = dict(environment.marker_environment)
    wanted: list[str] = [canonicalize_name(e) for e in extras]
    if _uses_sets(str(marker)):
        env.update(extras=frozenset(wanted), dependency_groups=frozenset(), extra="")
        return marker.evaluate(env, context="lock_file")
    # pip evaluates a requirement's marker once per requested extra
    return any(marker.evaluate({**env, "extra": e}) for e in wanted or [""])


@functools.lru_cache(maxsize=4096)
def _uses_sets(text: str) -> bool:
    """Whether a marker reads PEP 751's ``extras``/``dependency_groups`` (once per text)."""
    variables = {a.variable for a in _tree.atoms_of(_tree.parse(text))}
    return bool(variables & _tree.SET_VARIABLES)


def environments_of(
    marker: Marker | None, matrix: Matrix, extras: Collection[str] = ()
) -> frozenset[str]:
    """Names of the environments of ``matrix`` where ``marker`` holds."""
    return frozenset(e.name for e in matrix.environments if evaluate(marker, e, extras))


def marker_for(
    selected: Collection[str], matrix: Matrix, *, hints: Sequence[Marker] = ()
) -> Marker | None:
    """The most readable marker that holds on exactly ``selected`` of ``matrix``.

    ``selected`` are :attr:`Environment.name` values. Returns ``None`` when
    it is every environment. A hint (a marker the dependency graph carries
    for the package) wins when, once atoms constant over the matrix are
    dropped, it selects exactly ``selected`` and has at most one atom more
    than the computed marker. Raises ``ValueError`` when ``selected`` is
    empty, names an unknown environment, or splits environments that no
    marker can tell apart (two platforms with the same OS and CPU).
    """
    if not selected:
        raise ValueError("no environment selected: a pin must apply somewhere")
    space = space_of(matrix)
    mask = space.mask_of(frozenset(selected))
    if mask == space.full:
        return None
    for group in space.classes:
        if mask & group and mask & group != group:
            inside = sorted(space.names_of(mask & group))
            outside = sorted(space.names_of(group & ~mask))
            raise ValueError(
                f"markers cannot tell {', '.join(inside)} from {', '.join(outside)}"
            )
    hint_texts = tuple(sorted({str(h) for h in hints}))
    key = (mask, hint_texts)
    if key not in space.marker_cache:
        space.marker_cache[key] = _compute(space, mask, hint_texts)
    return space.marker_cache[key]


def _compute(space: Space, mask: int, hint_texts: tuple[str, ...]) -> Marker:
    terms = best_cover(space, mask)
    computed_atoms = sum(len(t.atoms) for t in terms)
    best_hint: tuple[int, str] | None = None
    for text in hint_texts:
        for found in (_exact_hint(space, mask, text), _narrowed_hint(space, mask, text)):
            if found is not None and (best_hint is None or found < best_hint):
                best_hint = found
    if best_hint is not None and best_hint[0] <= computed_atoms + 1:
        return Marker(best_hint[1])
    return _tree.to_marker(_tree.factor(_cover_node(terms)))


def _cover_node(terms: Sequence[Term]) -> _tree.Node:
    return _tree.combine("or", [_tree.combine("and", t.atoms) for t in terms])


def _hint_node(space: Space, text: str) -> tuple[_tree.Node, int] | None:
    """A graph marker as the lock would write it, and where it holds; ``None`` if unusable.

    Only atoms constant over the matrix are dropped (``python_version >=
    "3.8"`` on a 3.9+ matrix), and atoms that repeat their neighbours on
    every platform crosspin knows (``platform_system == "Windows" and
    os_name == "nt"``); never one that only the matrix makes redundant:
    the graph's ``platform_machine == "x86_64" and sys_platform == "linux"``
    stays whole rather than shrinking to a ``platform_machine == "x86_64"``
    that is only right while the matrix has no other x86_64 platform.
    """
    try:
        node = _tree.parse(text)
    except ValueError:
        return None
    masks = space.atom_masks(_tree.atoms_of(node))
    if masks is None:
        return None
    folded = _tree.fold(node, masks, space.full)
    if isinstance(folded, bool):
        return None
    wide = _wide(space)
    wide_masks = wide.atom_masks(_tree.atoms_of(folded))
    if wide_masks is not None:
        simple = _tree.simplify(folded, wide_masks, wide.full)
        if not isinstance(simple, bool):
            folded = simple
    return folded, _tree.node_mask(folded, masks, space.full)


def _exact_hint(space: Space, mask: int, text: str) -> tuple[int, str] | None:
    """``(atoms, text)`` of the hint if it selects exactly ``mask``."""
    got = _hint_node(space, text)
    if got is None or got[1] != mask:
        return None
    node = _tree.factor(got[0])
    return len(_tree.atoms_of(node)), _tree.render(node)


def _narrowed_hint(space: Space, mask: int, text: str) -> tuple[int, str] | None:
    """``(atoms, text)`` of ``<Python condition> and <hint>`` when that selects exactly ``mask``.

    A CUDA package the graph pins ``; platform_machine == "x86_64" and
    sys_platform == "linux"`` but that changes version by Python: its
    marker keeps the graph's platform condition and adds the Pythons.
    """
    got = _hint_node(space, text)
    if got is None or mask & ~got[1] or got[1] == mask or any(
            a.variable in _PYTHON_VARIABLES for a in _tree.atoms_of(got[0])):
        return None  # a hint that speaks of Pythons would only repeat the cover
    slots = {_slot(space.environments[i]) for i in range(len(space.environments))
             if mask >> i & 1}
    pythons = sum(1 << i for i, env in enumerate(space.environments) if _slot(env) in slots)
    if pythons & got[1] != mask or pythons == space.full:
        return None
    node = _tree.factor(_tree.combine("and", [_cover_node(best_cover(space, pythons)), got[0]]))
    return len(_tree.atoms_of(node)), _tree.render(node)


#: Marker variables about the Python: a hint using them is not narrowed by Python.
_PYTHON_VARIABLES = frozenset({"python_version", "python_full_version", "implementation_version"})


def _slot(env: Environment) -> tuple[tuple[int, int], int, int | None]:
    return env.python, env.patch_floor, env.patch_ceiling


def _wide(space: Space) -> Space:
    """The space of ``space``'s Pythons (patch ranges kept) on every known platform."""
    slots = {_slot(e): e for e in space.environments}
    return space_of(Matrix(environments=tuple(
        attrs.evolve(env, platform=platform)
        for env in slots.values() for platform in PLATFORMS.values()
    )))


def simplify(marker: Marker | None, matrix: Matrix) -> Marker | None:
    """``marker`` without atoms and clauses that change nothing over ``matrix``.

    ``platform_python_implementation == "CPython"`` or ``python_version >=
    "3.8"`` on a 3.9+ matrix go away; the set of environments selected stays
    the same. Returns ``None`` when the marker holds everywhere, and the
    marker unchanged when it holds nowhere or cannot be evaluated exactly.
    """
    if marker is None:
        return None
    space = space_of(matrix)
    node = _tree.parse(str(marker))
    masks = space.atom_masks(_tree.atoms_of(node))
    if masks is None:
        return marker
    simple = _tree.simplify(node, masks, space.full)
    if simple is True:
        return None
    if simple is False:
        return marker
    return _tree.to_marker(simple)


def conjoin(*markers: Marker | None) -> Marker | None:
    """``m1 and m2 and ...``, parenthesised where needed; ``None`` means always true.

    Nested ``and`` chains are flattened and repeated clauses dropped.
    """
    present = [m for m in markers if m is not None]
    if not present:
        return None
    return _tree.to_marker(_tree.combine("and", [_tree.parse(str(m)) for m in present]))


def disjoin(*markers: Marker | None) -> Marker | None:
    """``m1 or m2 or ...``; ``None`` (always true) if any of them is ``None``.

    Raises ``ValueError`` when called with no marker: an empty ``or`` is
    never true, which no :class:`Marker` (nor ``None``) can say.
    """
    if not markers:
        raise ValueError("disjoin() needs at least one marker")
    if any(m is None for m in markers):
        return None
    nodes = [_tree.parse(str(m)) for m in markers if m is not None]
    return _tree.to_marker(_tree.combine("or", nodes))
