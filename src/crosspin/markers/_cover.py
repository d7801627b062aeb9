"""Find the most readable ``or`` of terms that selects exactly a set of environments.

Readability is measured as: fewest terms, then fewest atoms, then fewest
``!=`` atoms, then fewest ``python_full_version`` atoms, then the shortest
text, then the text itself (so ties break the same way on every run).
Covers of up to :data:`EXHAUSTIVE_TERMS` terms are searched exhaustively
(branch and bound, branching on the lowest uncovered environment); beyond
that a greedy cover is used, which is still exact but may be longer.
"""

from __future__ import annotations

from collections.abc import Sequence

from crosspin.markers._space import Space, Term

__all__ = ["EXHAUSTIVE_TERMS", "best_cover", "popcount"]

#: Covers with up to this many terms are guaranteed minimal.
EXHAUSTIVE_TERMS = 4

_SolutionKey = tuple[int, int, int, int, int, tuple[str, ...]]


def popcount(mask: int) -> int:
    """Number of set bits (``int.bit_count`` is 3.10+)."""
    return bin(mask).count("1")


def _solution_key(terms: Sequence[Term]) -> _SolutionKey:
    return (
        sum(t.key[0] for t in terms),
        sum(t.key[1] for t in terms),
        sum(t.key[2] for t in terms),
        sum(t.key[3] for t in terms),
        sum(t.key[4] for t in terms),
        tuple(sorted(t.text for t in terms)),
    )


def _pareto(candidates: Sequence[Term]) -> list[Term]:
    """Drop terms that a larger term beats or matches on every count."""
    ordered = sorted(candidates, key=lambda t: (-popcount(t.mask), t.key))
    kept: list[Term] = []
    for t in ordered:
        if not any(
            t.mask & u.mask == t.mask
            and u.key[0] <= t.key[0] and u.key[1] <= t.key[1] and u.key[2] <= t.key[2]
            for u in kept
        ):
            kept.append(t)
    return kept


class _Search:
    def __init__(self, selected: int, pareto: list[Term]) -> None:
        self.selected = selected
        self.pareto = pareto
        self.maximal = [
            t for t in pareto
            if not any(u.mask != t.mask and t.mask & u.mask == t.mask for u in pareto)
        ]
        self.max_size = max((popcount(t.mask) for t in self.maximal), default=0)
        self._feasible: dict[tuple[int, int], bool] = {}
        self.best: tuple[_SolutionKey, tuple[Term, ...]] | None = None

    def feasible(self, uncovered: int, budget: int) -> bool:
        """Whether ``budget`` terms can cover ``uncovered`` (maximal terms suffice)."""
        if uncovered == 0:
            return True
        if budget == 0 or popcount(uncovered) > budget * self.max_size:
            return False
        memo_key = (uncovered, budget)
        if memo_key not in self._feasible:
            low = uncovered & -uncovered
            self._feasible[memo_key] = any(
                self.feasible(uncovered & ~t.mask, budget - 1)
                for t in self.maximal
                if t.mask & low
            )
        return self._feasible[memo_key]

    def cheapest(self, size: int) -> tuple[Term, ...]:
        by_bit: dict[int, list[Term]] = {}
        for t in self.pareto:
            mask = t.mask
            while mask:
                low = mask & -mask
                by_bit.setdefault(low, []).append(t)
                mask ^= low
        self._branch(self.selected, (), 0, size, by_bit)
        assert self.best is not None
        return self.best[1]

    def _branch(self, uncovered: int, chosen: tuple[Term, ...], atoms: int, size: int,
                by_bit: dict[int, list[Term]]) -> None:
        if uncovered == 0:
            key = _solution_key(chosen)
            if self.best is None or key < self.best[0]:
                self.best = (key, chosen)
            return
        budget = size - len(chosen)
        if not self.feasible(uncovered, budget):
            return
        for t in by_bit[uncovered & -uncovered]:
            spent = atoms + t.key[0]
            # every further term costs at least one atom
            if self.best is not None and spent + budget - 1 > self.best[0][0]:
                continue
            self._branch(uncovered & ~t.mask, (*chosen, t), spent, size, by_bit)

    def greedy(self) -> tuple[Term, ...]:
        chosen: list[Term] = []
        uncovered = self.selected
        while uncovered:
            chosen.append(min(self.pareto,
                              key=lambda t: (-popcount(t.mask & uncovered), t.key)))
            uncovered &= ~chosen[-1].mask
        # a later, larger term can make an earlier one redundant
        for t in sorted(chosen, key=lambda t: t.key, reverse=True):
            rest = [u for u in chosen if u is not t]
            union = 0
            for u in rest:
                union |= u.mask
            if union == self.selected:
                chosen = rest
        return tuple(chosen)


def best_cover(space: Space, selected: int) -> tuple[Term, ...]:
    """The most readable terms whose union is exactly ``selected``, sorted by text.

    ``selected`` must be a non-empty union of :attr:`Space.classes`, not
    the full set.
    """
    cached = space.cover_cache.get(selected)
    if cached is not None:
        return cached
    pareto = _pareto([t for t in space.terms if not t.mask & ~selected])
    search = _Search(selected, pareto)
    terms: tuple[Term, ...] | None = None
    for size in range(1, EXHAUSTIVE_TERMS + 1):
        if search.feasible(selected, size):
            terms = search.cheapest(size)
            break
    if terms is None:
        terms = search.greedy()
    result = tuple(sorted(terms, key=lambda t: t.text))
    space.cover_cache[selected] = result
    return result
