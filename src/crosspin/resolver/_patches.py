"""Patch boundaries: where a fork's answers change between patch releases of its minor.

An environment stands for every patch release of its minor (or of a patch
range), and answers a Requires-Python question with "yes" only when every
one of them satisfies it. A candidate whose Requires-Python admits only some
of them (cryptography's ``!=3.9.0,!=3.9.1``, ``>=3.9.2``; a ``!=3.14.1``)
would then hold the whole minor back. :func:`cuts` finds the patch numbers
where any question a fork asked (a Requires-Python, a file's Requires-Python
behind "installable", a ``python_full_version`` marker) changes its answer;
the scheduler splits the environment there and resolves each part, so the
newest release serves every patch release that can install it
(DESIGN.md "Words": Environment).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from typing import cast

from packaging.version import Version

from crosspin.environments import Environment
from crosspin.resolver._oracle import Oracle, Question

__all__ = ["cuts", "split"]

#: Marker variables whose value differs between patch releases of one minor.
_PATCH_VARIABLES = ("python_full_version", "implementation_version")

#: A version a specifier or marker names: major, minor and (optional) patch.
_VERSION_RE = re.compile(r"(?<![\d.])(\d+)\.(\d+)(?:\.(\d+))?")


def cuts(oracle: Oracle, env: Environment, questions: Collection[Question]) -> frozenset[int]:
    """Patch numbers inside ``env`` where the answer to one of ``questions`` changes.

    A cut ``p`` means patch releases ``< p`` and ``>= p`` answer differently.
    Only the patch numbers a question names (``3.9.2`` in ``>=3.9.2``, and
    the one after it) can be cuts, so only those are probed.
    """
    top = env.patches.stop
    found: set[int] = set()
    for question, named in _naming(oracle, env.python, questions):
        for cut in named:
            if env.patch_floor < cut < top and cut not in found and (
                oracle.answer(low := env.at_patch(cut - 1), low.name, question)
                != oracle.answer(high := env.at_patch(cut), high.name, question)
            ):
                found.add(cut)
    return frozenset(found)


def _naming(
    oracle: Oracle, minor: tuple[int, int], questions: Collection[Question]
) -> list[tuple[Question, frozenset[int]]]:
    """The questions that name a patch release of ``minor``, with those patch numbers.

    Most questions name none. The scheduler asks again with the same
    recorded questions for every platform (and part) that reuses a fork:
    the list is kept per collection until it grows (answers are only added).
    """
    key = (id(questions), minor)
    got = oracle.patch_questions.get(key)
    if got is not None and got[0] is questions and got[1] == len(questions):
        return got[2]
    named = [(q, p) for q in questions if (p := _candidates(oracle, minor, q))]
    oracle.patch_questions[key] = (questions, len(questions), named)
    return named


def _candidates(oracle: Oracle, minor: tuple[int, int], question: Question) -> frozenset[int]:
    """Patch numbers of ``minor`` where the answer to ``question`` may change."""
    memo_key = (minor, question)
    got = oracle.patch_memo.get(memo_key)
    if got is None:
        got = oracle.patch_memo[memo_key] = _named_patches(oracle, minor, question)
    return got


def _named_patches(oracle: Oracle, minor: tuple[int, int], question: Question) -> frozenset[int]:
    kind, key = question
    texts: list[str] = []
    if kind == "marker":
        text = cast("tuple[str, frozenset[str]]", key)[0]
        if any(v in text for v in _PATCH_VARIABLES):
            texts.append(text)
    elif kind == "python":
        texts.append(cast(str, key))
    elif kind == "installable":
        name, version, _ = cast("tuple[str, Version, bool]", key)
        texts.extend(str(f.requires_python) for f in oracle.versions(name).get(version, ())
                     if f.requires_python is not None)
    found: set[int] = set()
    for text in texts:
        for major, minor_, patch in _VERSION_RE.findall(text):
            if (int(major), int(minor_)) == minor:
                # "<3.9.2" changes at 2, "<=3.9.2" and ">3.9.2" at 3, "3.9" at 0
                number = int(patch or 0)
                found.update((number, number + 1))
    return frozenset(found)


def split(env: Environment, at: Iterable[int]) -> list[Environment]:
    """``env`` cut at the patch numbers ``at`` (those inside it), oldest part first."""
    inside = sorted(p for p in set(at) if p > env.patch_floor
                    and (env.patch_ceiling is None or p < env.patch_ceiling))
    if not inside:
        return [env]
    bounds: Sequence[int | None] = [env.patch_floor, *inside, env.patch_ceiling]
    return [
        env.with_patches(cast(int, bounds[i]), bounds[i + 1]) for i in range(len(bounds) - 1)
    ]
