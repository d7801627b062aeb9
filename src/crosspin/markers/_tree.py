"""A small PEP 508 marker tree: parse, render, evaluate over a matrix, simplify.

:class:`packaging.markers.Marker` has no public tree, and the marker algebra
needs one (to flatten ``and``/``or`` chains, drop atoms that are constant
over a matrix and count atoms). Markers are parsed from their canonical
``str()`` (so legacy spellings such as ``os.name`` are already normalised by
packaging), and every atom is evaluated by packaging itself, one atom at a
time, so truth values always agree with :meth:`Marker.evaluate`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, Union

import attrs
from packaging.markers import Marker
from packaging.utils import canonicalize_name

__all__ = [
    "SET_VARIABLES",
    "Atom",
    "Group",
    "Node",
    "atoms_of",
    "combine",
    "evaluate_atom",
    "factor",
    "fold",
    "node_mask",
    "parse",
    "render",
    "simplify",
    "to_marker",
]

#: Variables whose value is a set (PEP 751 lock-file context).
SET_VARIABLES = frozenset({"extras", "dependency_groups"})


@attrs.frozen
class Atom:
    """``variable op "value"`` (or ``"value" op variable`` when ``reversed``)."""

    variable: str
    op: str
    value: str
    reversed: bool = False

    @property
    def text(self) -> str:
        """The atom in packaging's canonical spelling."""
        value = f"'{self.value}'" if '"' in self.value else f'"{self.value}"'
        if self.reversed:
            return f"{value} {self.op} {self.variable}"
        return f"{self.variable} {self.op} {value}"


@attrs.frozen
class Group:
    """A flat ``and`` or ``or`` of two or more nodes (never of its own kind)."""

    kind: Literal["and", "or"]
    items: tuple[Node, ...]


#: A marker tree; ``True``/``False`` only appear while simplifying.
Node = Union[Atom, Group, bool]

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<lp>\()|(?P<rp>\))
        |(?P<str>'[^']*'|"[^"]*")
        |(?P<op>===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)
        |(?P<kw>and\b|or\b)
        |(?P<var>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"cannot parse marker {text!r} at offset {pos}")
        kind = m.lastgroup
        assert kind is not None
        value = m.group(kind)
        if kind == "op":
            value = re.sub(r"\s+", " ", value)
        tokens.append((kind, value))
        pos = m.end()
    return tokens


class _Parser:
    """Recursive descent over ``or_expr := and_expr ("or" and_expr)*``."""

    def __init__(self, tokens: list[tuple[str, str]], text: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.text = text

    def fail(self) -> ValueError:
        return ValueError(f"cannot parse marker {self.text!r}")

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end":
            raise self.fail()
        self.pos += 1
        return token

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.peek() == ("kw", "or"):
            self.pos += 1
            items.append(self.parse_and())
        return combine("or", items)

    def parse_and(self) -> Node:
        items = [self.parse_atom()]
        while self.peek() == ("kw", "and"):
            self.pos += 1
            items.append(self.parse_atom())
        return combine("and", items)

    def parse_atom(self) -> Node:
        kind, value = self.take()
        if kind == "lp":
            node = self.parse_or()
            if self.take()[0] != "rp":
                raise self.fail()
            return node
        op_kind, op = self.take()
        right_kind, right = self.take()
        if op_kind != "op":
            raise self.fail()
        if kind == "var" and right_kind == "str":
            return Atom(value, op, right[1:-1])
        if kind == "str" and right_kind == "var":
            return Atom(right, op, value[1:-1], reversed=True)
        raise self.fail()


def combine(kind: Literal["and", "or"], items: Sequence[Node]) -> Node:
    """``and``/``or`` of ``items`` as a flat group: same-kind groups merged, repeats dropped."""
    flat: list[Node] = []
    seen: set[str] = set()
    for item in items:
        children = item.items if isinstance(item, Group) and item.kind == kind else (item,)
        for child in children:
            key = render(child)
            if key not in seen:
                seen.add(key)
                flat.append(child)
    if len(flat) == 1:
        return flat[0]
    return Group(kind, tuple(flat))


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Node:
    """Parse a marker string (canonical or not) into a flat tree."""
    canonical = str(Marker(text))
    parser = _Parser(_tokenize(canonical), canonical)
    node = parser.parse_or()
    if parser.peek()[0] != "end":
        raise parser.fail()
    return node


def render(node: Node, *, top: bool = True) -> str:
    """Marker text of a tree; nested groups are parenthesised for readability."""
    if isinstance(node, bool):
        raise ValueError("a constant has no marker text")
    if isinstance(node, Atom):
        return node.text
    text = f" {node.kind} ".join(render(item, top=False) for item in node.items)
    return text if top else f"({text})"


def to_marker(node: Node) -> Marker:
    """The :class:`Marker` for a (non-constant) tree, in packaging's spelling."""
    return Marker(render(node))


def atoms_of(node: Node) -> list[Atom]:
    """Every atom of a tree, left to right."""
    if isinstance(node, bool):
        return []
    if isinstance(node, Atom):
        return [node]
    return [atom for item in node.items for atom in atoms_of(item)]


@functools.lru_cache(maxsize=4096)
def _atom_marker(text: str) -> Marker:
    return Marker(text)


def evaluate_atom(atom: Atom, environment: Mapping[str, str], extras: Iterable[str] = ()) -> bool:
    """Evaluate one atom with packaging, in the context its variable needs."""
    marker = _atom_marker(atom.text)
    wanted = tuple(canonicalize_name(e) for e in extras)
    if atom.variable in SET_VARIABLES:
        env: dict[str, str | frozenset[str]] = {**environment, "extras": frozenset(wanted)}
        env.setdefault("dependency_groups", frozenset())
        return marker.evaluate(env, context="lock_file")
    if atom.variable == "extra":
        return any(marker.evaluate({**environment, "extra": e}) for e in wanted or ("",))
    return marker.evaluate(dict(environment))


def node_mask(node: Node, atom_mask: Mapping[str, int], full: int) -> int:
    """Bitmask of environments where ``node`` is true, from per-atom masks.

    ``atom_mask`` maps an atom's text to its mask; it must hold every atom
    of the tree (see :func:`simplify`, which fills it).
    """
    if node is True:
        return full
    if node is False:
        return 0
    if isinstance(node, Atom):
        return atom_mask[node.text]
    masks = [node_mask(item, atom_mask, full) for item in node.items]
    out = full if node.kind == "and" else 0
    for m in masks:
        out = (out & m) if node.kind == "and" else (out | m)
    return out


def simplify(node: Node, atom_mask: Mapping[str, int], full: int) -> Node:
    """Drop what is constant or redundant over the matrix, keeping the truth set.

    Atoms true (false) everywhere become ``True`` (``False``) and fold away;
    then, left to right, a child of a group is dropped when the group's set
    of environments stays the same without it.
    """
    if isinstance(node, bool):
        return node
    if isinstance(node, Atom):
        mask = atom_mask[node.text]
        if mask == full:
            return True
        if mask == 0:
            return False
        return node
    items = [simplify(item, atom_mask, full) for item in node.items]
    absorbing = node.kind == "or"  # True absorbs an "or", False an "and"
    if any(item is absorbing for item in items):
        return absorbing
    kept: list[Node] = [item for item in items if not isinstance(item, bool)]
    if not kept:
        return not absorbing
    target = node_mask(combine(node.kind, kept), atom_mask, full)
    index = 0
    while len(kept) > 1 and index < len(kept):
        rest = kept[:index] + kept[index + 1:]
        rest_node = rest[0] if len(rest) == 1 else Group(node.kind, tuple(rest))
        if node_mask(rest_node, atom_mask, full) == target:
            kept = rest
        else:
            index += 1
    return combine(node.kind, kept)


def fold(node: Node, atom_mask: Mapping[str, int], full: int) -> Node:
    """Only the constants folded away: atoms true (false) on every environment.

    Unlike :func:`simplify`, an atom that merely repeats what its neighbours
    say inside the matrix stays: ``platform_machine == "x86_64" and
    sys_platform == "linux"`` keeps both atoms even where the matrix has no
    other x86_64 Linux, so the marker stays right outside it too.
    """
    if isinstance(node, bool):
        return node
    if isinstance(node, Atom):
        mask = atom_mask[node.text]
        return True if mask == full else False if mask == 0 else node
    items = [fold(item, atom_mask, full) for item in node.items]
    absorbing = node.kind == "or"
    if any(item is absorbing for item in items):
        return absorbing
    kept = [item for item in items if not isinstance(item, bool)]
    return combine(node.kind, kept) if kept else not absorbing


def factor(node: Node) -> Node:
    """``(A and B) or (A and C)`` as ``A and (B or C)``: terms every branch shares, pulled out.

    The truth value never changes. Applied bottom-up; an ``or`` whose
    branches share no atom is left as it is. A branch that is nothing but
    the shared atoms makes the whole ``or`` just those atoms (absorption).
    """
    if isinstance(node, (bool, Atom)):
        return node
    items = [factor(item) for item in node.items]
    if node.kind == "and":
        return combine("and", items)
    branches = [list(i.items) if isinstance(i, Group) and i.kind == "and" else [i]
                for i in items]
    shared = [c for c in branches[0]
              if all(any(render(c) == render(d) for d in b) for b in branches[1:])]
    if not shared:
        return combine("or", items)
    keys = {render(c) for c in shared}
    rests = [[c for c in b if render(c) not in keys] for b in branches]
    if any(not rest for rest in rests):
        return combine("and", shared)
    inner = factor(combine("or", [combine("and", rest) for rest in rests]))
    return combine("and", [*shared, inner])
