"""The environments of one matrix as bits, and the readable terms over them.

A :class:`Space` numbers the environments of a matrix (bit ``i`` is
``matrix.environments[i]``) and lists every *term* a person would write:
a condition on the Python version (a range of the matrix's Pythons, one
minor, or all but one minor) ``and`` a condition on the platform (an OS,
all but one OS, an OS on one CPU, a CPU shared by several OSes). A marker
for a set of environments is then an ``or`` of terms whose union is that
set, which :mod:`crosspin.markers._cover` searches for.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Optional

import attrs
from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.specifiers import InvalidSpecifier

from crosspin.environments import Environment, Matrix
from crosspin.markers._tree import Atom, evaluate_atom

__all__ = ["Space", "Term", "space_of"]

#: Variables whose value differs between patch releases of one minor.
_PATCH_VARIABLES = frozenset({"python_full_version", "implementation_version"})

#: Patch releases probed when checking that an atom is constant over a minor.
_PROBE_PATCHES = 60

#: (atoms, "!=" atoms, python_full_version atoms, python_version ==, length, text):
#: lower reads better. At the edges of the matrix ``python_version < "3.10"``
#: and ``python_version >= "3.14"`` beat ``==``: they say "older"/"newer".
TermKey = tuple[int, int, int, int, int, str]


def _key(atoms: Sequence[Atom]) -> TermKey:
    text = " and ".join(a.text for a in atoms)
    return (
        len(atoms),
        sum(a.op == "!=" for a in atoms),
        sum(a.variable == "python_full_version" for a in atoms),
        sum(a.variable == "python_version" and a.op == "==" for a in atoms),
        len(text),
        text,
    )


@attrs.frozen
class Term:
    """A conjunction of atoms and the environments (bits) where it holds."""

    mask: int
    atoms: tuple[Atom, ...]
    key: TermKey

    @property
    def text(self) -> str:
        """``a and b`` (unparenthesised)."""
        return self.key[5]


def _offer(best: dict[int, tuple[Atom, ...]], mask: int, atoms: tuple[Atom, ...]) -> None:
    if mask and (mask not in best or _key(atoms) < _key(best[mask])):
        best[mask] = atoms


_Slot = tuple[tuple[int, int], int, Optional[int]]


def _python_conditions(slots: Sequence[_Slot]) -> dict[int, tuple[Atom, ...]]:
    """Slot-set bitmask -> the fewest atoms that select exactly those slots."""
    n = len(slots)
    all_slots = (1 << n) - 1
    best: dict[int, tuple[Atom, ...]] = {}

    def lower(i: int) -> Atom:
        (major, minor), floor, _ = slots[i]
        if i > 0 and slots[i - 1][0] == (major, minor):
            return Atom("python_full_version", ">=", f"{major}.{minor}.{floor}")
        return Atom("python_version", ">=", f"{major}.{minor}")

    def upper(j: int) -> Atom:
        (major, minor), _, ceiling = slots[j]
        if slots[j + 1][0] == (major, minor):
            return Atom("python_full_version", "<", f"{major}.{minor}.{ceiling}")
        return Atom("python_version", "<", f"{major}.{minor + 1}")

    for i in range(n):
        for j in range(i, n):
            mask = ((1 << (j + 1)) - 1) & ~((1 << i) - 1)
            atoms = ([lower(i)] if i > 0 else []) + ([upper(j)] if j < n - 1 else [])
            _offer(best, mask, tuple(atoms))
    minors: dict[tuple[int, int], int] = {}
    for i, (python, floor, ceiling) in enumerate(slots):
        minors[python] = minors.get(python, 0) | (1 << i)
        if ceiling == floor + 1:
            # one patch release cut out of its minor (a Requires-Python's
            # "!=3.14.1"): name it rather than the two ranges around it
            value = f"{python[0]}.{python[1]}.{floor}"
            _offer(best, 1 << i, (Atom("python_full_version", "==", value),))
            _offer(best, all_slots & ~(1 << i), (Atom("python_full_version", "!=", value),))
    if len(minors) > 1:
        for (major, minor), mask in minors.items():
            value = f"{major}.{minor}"
            _offer(best, mask, (Atom("python_version", "==", value),))
            _offer(best, all_slots & ~mask, (Atom("python_version", "!=", value),))
    return best


def _platform_conditions(
    systems: Sequence[str], machines: Sequence[str]
) -> dict[int, tuple[Atom, ...]]:
    """Platform-set bitmask -> the fewest atoms (OS first) that select it."""
    n = len(systems)
    best: dict[int, tuple[Atom, ...]] = {(1 << n) - 1: ()}

    def where(atoms: tuple[Atom, ...]) -> int:
        values = {"sys_platform": systems, "platform_machine": machines}
        return sum(
            1 << i
            for i in range(n)
            if all((values[a.variable][i] == a.value) == (a.op == "==") for a in atoms)
        )

    def offer(*atoms: Atom) -> None:
        _offer(best, where(atoms), atoms)

    for system in sorted(set(systems)):
        is_sys = Atom("sys_platform", "==", system)
        offer(is_sys)
        offer(Atom("sys_platform", "!=", system))
        own = sorted({machines[i] for i in range(n) if systems[i] == system})
        if len(own) > 1:
            for machine in own:
                offer(is_sys, Atom("platform_machine", "==", machine))
                offer(is_sys, Atom("platform_machine", "!=", machine))
    for machine in sorted(set(machines)):
        # A bare CPU condition reads well only for a CPU several OSes share
        # (x86_64); "arm64" alone would hide that it means macOS.
        if len({systems[i] for i in range(n) if machines[i] == machine}) > 1:
            offer(Atom("platform_machine", "==", machine))
            offer(Atom("platform_machine", "!=", machine))
    return best


class Space:
    """One matrix's environments as bits, its candidate terms and atom masks."""

    def __init__(self, matrix: Matrix) -> None:
        envs: tuple[Environment, ...] = tuple(matrix.environments)
        self.environments = envs
        self.names: tuple[str, ...] = tuple(e.name for e in envs)
        self.index: dict[str, int] = {name: i for i, name in enumerate(self.names)}
        self.full = (1 << len(envs)) - 1
        self.classes = self._classes()
        self.terms = self._terms()
        self._atom_masks: dict[str, int | None] = {}
        self.cover_cache: dict[int, tuple[Term, ...]] = {}
        #: (selected mask, hint texts) -> marker, filled by ``markers.marker_for``.
        self.marker_cache: dict[tuple[int, tuple[str, ...]], Marker] = {}

    def _classes(self) -> tuple[int, ...]:
        """Masks of environments that no marker can tell apart."""
        groups: dict[tuple[tuple[str, str], ...], int] = {}
        for i, env in enumerate(self.environments):
            key = tuple(sorted(env.marker_environment.items()))
            groups[key] = groups.get(key, 0) | (1 << i)
        return tuple(groups.values())

    def _terms(self) -> tuple[Term, ...]:
        envs = self.environments
        slots = sorted({(e.python, e.patch_floor, e.patch_ceiling) for e in envs},
                       key=lambda s: (s[0], s[1]))
        platforms = sorted({e.platform.name: e.platform for e in envs}.values(),
                           key=lambda p: p.name)
        slot_index = {s: i for i, s in enumerate(slots)}
        plat_index = {p.name: i for i, p in enumerate(platforms)}
        bits = [[0] * len(platforms) for _ in slots]
        for i, e in enumerate(envs):
            bits[slot_index[(e.python, e.patch_floor, e.patch_ceiling)]][
                plat_index[e.platform.name]] |= 1 << i
        pythons = _python_conditions(slots)
        plats = _platform_conditions(
            [p.sys_platform for p in platforms], [p.platform_machine for p in platforms]
        )
        best: dict[int, Term] = {}
        for py_mask, py_atoms in pythons.items():
            py_slots = [i for i in range(len(slots)) if py_mask >> i & 1]
            for pl_mask, pl_atoms in plats.items():
                mask = 0
                for s in py_slots:
                    row = bits[s]
                    for p in range(len(platforms)):
                        if pl_mask >> p & 1:
                            mask |= row[p]
                if not mask:
                    continue
                atoms = py_atoms + pl_atoms
                term = Term(mask=mask, atoms=atoms, key=_key(atoms))
                if mask not in best or term.key < best[mask].key:
                    best[mask] = term
        return tuple(sorted(best.values(), key=lambda t: t.key))

    def mask_of(self, names: Sequence[str] | frozenset[str]) -> int:
        """Bitmask of environment names; ``ValueError`` for a name not in the matrix."""
        mask = 0
        for name in names:
            try:
                mask |= 1 << self.index[name]
            except KeyError:
                raise ValueError(f"environment {name!r} is not in the matrix") from None
        return mask

    def names_of(self, mask: int) -> frozenset[str]:
        """Environment names of a bitmask."""
        return frozenset(n for i, n in enumerate(self.names) if mask >> i & 1)

    def atom_mask(self, atom: Atom) -> int | None:
        """Where ``atom`` holds, or ``None`` when it cannot be used exactly.

        ``None`` means evaluating it fails (an undefined comparison) or it
        differs between patch releases that one environment stands for
        (``python_full_version < "3.9.5"`` on a 3.9 environment).
        """
        text = atom.text
        if text not in self._atom_masks:
            self._atom_masks[text] = self._compute_atom_mask(atom)
        return self._atom_masks[text]

    def atom_masks(self, atoms: Sequence[Atom]) -> Mapping[str, int] | None:
        """Masks of several atoms, or ``None`` if any of them is unusable."""
        out: dict[str, int] = {}
        for atom in atoms:
            mask = self.atom_mask(atom)
            if mask is None:
                return None
            out[atom.text] = mask
        return out

    def _compute_atom_mask(self, atom: Atom) -> int | None:
        mask = 0
        try:
            for i, env in enumerate(self.environments):
                value = evaluate_atom(atom, env.marker_environment)
                if atom.variable in _PATCH_VARIABLES and not _constant_over_patches(
                    atom, env, value
                ):
                    return None
                if value:
                    mask |= 1 << i
        except (UndefinedComparison, UndefinedEnvironmentName, InvalidSpecifier):
            return None
        return mask


def _constant_over_patches(atom: Atom, env: Environment, value: bool) -> bool:
    top = env.patch_ceiling if env.patch_ceiling is not None else _PROBE_PATCHES
    base = dict(env.marker_environment)
    for patch in range(env.patch_floor + 1, top):
        full = f"{env.python_version}.{patch}"
        probe = {**base, "python_full_version": full, "implementation_version": full}
        if evaluate_atom(atom, probe) != value:
            return False
    return True


def space_of(matrix: Matrix) -> Space:
    """The (memoised) space of a matrix.

    A merge asks about the same matrix object for every package: it is
    looked up by identity first, since hashing it hashes every environment.
    """
    last = _last_space[0]
    if last is not None and last[0] is matrix:
        return last[1]
    space = _space_of(matrix)
    _last_space[0] = (matrix, space)  # one tuple: a reader sees a matching pair
    return space


#: The last matrix asked about and its space.
_last_space: list[tuple[Matrix, Space] | None] = [None]


@functools.lru_cache(maxsize=16)
def _space_of(matrix: Matrix) -> Space:
    return Space(matrix)
