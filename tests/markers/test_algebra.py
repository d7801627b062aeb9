"""Tests for crosspin.markers: env-set -> minimal readable marker, and the algebra."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from crosspin.environments import Environment, Matrix
from crosspin.markers import _tree as _markers_tree
from crosspin.markers import (
    conjoin,
    disjoin,
    environments_of,
    evaluate,
    marker_for,
    simplify,
)

DEFAULT = Matrix.from_options()
SPLIT = Matrix.from_options(python=">=3.9", requires_python=SpecifierSet(">=3.9.2,!=3.11.0"))
SPLIT_BOTH = Matrix.from_options(python="3.9.0,3.9.1,3.10", platforms=["linux-x86_64"])
WITH_ARM_WINDOWS = Matrix.from_options(
    python="3.11,3.12",
    platforms=["linux-x86_64", "linux-aarch64", "macos-arm64", "windows-x86_64", "windows-arm64"],
)


def names(matrix: Matrix, pred: Callable[[Environment], bool]) -> frozenset[str]:
    return frozenset(e.name for e in matrix.environments if pred(e))


def atom_count(marker: Marker | None) -> int:
    return 0 if marker is None else len(_markers_tree.atoms_of(_markers_tree.parse(str(marker))))


def os_is(name: str) -> Callable[[Environment], bool]:
    return lambda e: e.platform.sys_platform == name


SHAPES: list[tuple[str, Callable[[Environment], bool], str]] = [
    ("linux", os_is("linux"), 'sys_platform == "linux"'),
    ("windows", os_is("win32"), 'sys_platform == "win32"'),
    ("macos", os_is("darwin"), 'sys_platform == "darwin"'),
    ("not-windows", lambda e: e.platform.sys_platform != "win32", 'sys_platform != "win32"'),
    ("macos-arm64", lambda e: e.platform.name == "macos-arm64",
     'sys_platform == "darwin" and platform_machine == "arm64"'),
    ("linux-aarch64", lambda e: e.platform.name == "linux-aarch64",
     'sys_platform == "linux" and platform_machine == "aarch64"'),
    ("x86_64", lambda e: e.platform.platform_machine == "x86_64",
     'platform_machine == "x86_64"'),
    ("py<3.11", lambda e: e.python < (3, 11), 'python_version < "3.11"'),
    ("py3.9", lambda e: e.python == (3, 9), 'python_version < "3.10"'),
    ("py3.10", lambda e: e.python == (3, 10), 'python_version == "3.10"'),
    ("py3.14", lambda e: e.python == (3, 14), 'python_version >= "3.14"'),
    ("py>=3.12", lambda e: e.python >= (3, 12), 'python_version >= "3.12"'),
    ("py!=3.12", lambda e: e.python != (3, 12), 'python_version != "3.12"'),
    ("py3.10-3.12", lambda e: (3, 10) <= e.python <= (3, 12),
     'python_version >= "3.10" and python_version < "3.13"'),
    ("py>=3.11-linux", lambda e: e.python >= (3, 11) and os_is("linux")(e),
     'python_version >= "3.11" and sys_platform == "linux"'),
    ("py3.10-windows", lambda e: e.python == (3, 10) and os_is("win32")(e),
     'python_version == "3.10" and sys_platform == "win32"'),
    ("py3.9-or-windows", lambda e: e.python == (3, 9) or os_is("win32")(e),
     'python_version < "3.10" or sys_platform == "win32"'),
    ("linux-or-macos-arm64", lambda e: os_is("linux")(e) or e.platform.name == "macos-arm64",
     '(sys_platform == "darwin" and platform_machine == "arm64") or sys_platform == "linux"'),
]


@pytest.mark.parametrize(("selection", "expected"), [(s[1], s[2]) for s in SHAPES],
                         ids=[s[0] for s in SHAPES])
def test_common_shapes_read_like_a_person_wrote_them(
    selection: Callable[[Environment], bool], expected: str
) -> None:
    """Common environment sets get the short marker a person would write."""
    selected = names(DEFAULT, selection)
    marker = marker_for(selected, DEFAULT)
    assert str(marker) == expected
    assert environments_of(marker, DEFAULT) == selected


def test_every_environment_is_no_marker() -> None:
    """A pin chosen everywhere has no marker at all."""
    assert marker_for(names(DEFAULT, lambda e: True), DEFAULT) is None


def test_empty_or_unknown_selection_is_rejected() -> None:
    """Selecting nothing, or an environment outside the matrix, is a programming error."""
    with pytest.raises(ValueError, match="no environment"):
        marker_for(frozenset(), DEFAULT)
    with pytest.raises(ValueError, match="not in the matrix"):
        marker_for({"3.8-linux-x86_64"}, DEFAULT)


def test_platforms_markers_cannot_tell_apart_are_rejected() -> None:
    """Two platforms with the same OS and CPU cannot get different markers."""
    matrix = Matrix.from_options(
        python="3.12", platforms=["linux-x86_64", "linux-x86_64-manylinux_2_17"]
    )
    with pytest.raises(ValueError, match="cannot tell"):
        marker_for({"3.12-linux-x86_64"}, matrix)
    assert marker_for({e.name for e in matrix.environments}, matrix) is None


def test_single_environment_matrix() -> None:
    """A one-environment matrix only ever needs no marker."""
    matrix = Matrix.from_options(python="3.11", platforms=["linux-x86_64"])
    assert marker_for({"3.11-linux-x86_64"}, matrix) is None


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (lambda e: e.python == (3, 9), 'python_version < "3.10"'),
        (lambda e: e.python == (3, 11), 'python_version == "3.11"'),
        (lambda e: e.python >= (3, 11), 'python_version >= "3.11"'),
        (lambda e: e.python < (3, 11), 'python_version < "3.11"'),
    ],
    ids=["3.9.2+", "3.11.1+", ">=3.11.1", "<3.11"],
)
def test_patch_split_minors_use_python_version_when_exact(
    selection: Callable[[Environment], bool], expected: str
) -> None:
    """A minor cut at a patch by requires-python still reads as its minor when exact."""
    selected = names(SPLIT, selection)
    marker = marker_for(selected, SPLIT)
    assert str(marker) == expected
    assert environments_of(marker, SPLIT) == selected


def test_patch_split_inside_one_minor_uses_python_full_version() -> None:
    """Two environments of one minor are told apart with python_full_version."""
    low = names(SPLIT_BOTH, lambda e: e.patch_floor == 0 and e.python == (3, 9))
    assert str(marker_for(low, SPLIT_BOTH)) == 'python_full_version < "3.9.1"'
    high = names(SPLIT_BOTH, lambda e: e.patch_floor == 1)
    marker = marker_for(high, SPLIT_BOTH)
    assert environments_of(marker, SPLIT_BOTH) == high
    assert "python_full_version" in str(marker)
    newer = names(SPLIT_BOTH, lambda e: e.patch_floor == 1 or e.python == (3, 10))
    assert str(marker_for(newer, SPLIT_BOTH)) == 'python_full_version >= "3.9.1"'


def test_windows_on_two_cpus() -> None:
    """With two Windows CPUs, one of them is named by OS and CPU."""
    arm = names(WITH_ARM_WINDOWS, lambda e: e.platform.name == "windows-arm64")
    assert str(marker_for(arm, WITH_ARM_WINDOWS)) == (
        'sys_platform == "win32" and platform_machine == "ARM64"'
    )
    windows = names(WITH_ARM_WINDOWS, os_is("win32"))
    assert str(marker_for(windows, WITH_ARM_WINDOWS)) == 'sys_platform == "win32"'


def test_exact_hint_from_the_graph_is_preferred() -> None:
    """A marker the dependency graph carries wins when it is exact over the matrix."""
    windows = names(DEFAULT, os_is("win32"))
    assert str(marker_for(windows, DEFAULT, hints=[Marker('os_name == "nt"')])) == (
        'os_name == "nt"'
    )


def test_hint_is_simplified_before_use() -> None:
    """Atoms constant over the matrix are dropped from a hint before it is compared."""
    windows = names(DEFAULT, os_is("win32"))
    hint = Marker(
        'os_name == "nt" and platform_python_implementation == "CPython" '
        'and python_version >= "3.8"'
    )
    assert str(marker_for(windows, DEFAULT, hints=[hint])) == 'os_name == "nt"'


def test_inexact_hint_is_ignored() -> None:
    """A hint that selects other environments than the fork results is not used."""
    windows = names(DEFAULT, os_is("win32"))
    hint = Marker('os_name == "nt" and python_version < "3.12"')
    assert str(marker_for(windows, DEFAULT, hints=[hint])) == 'sys_platform == "win32"'


def test_much_longer_hint_loses_to_the_computed_marker() -> None:
    """A hint with more than one atom over the computed marker is not used."""
    windows = names(DEFAULT, os_is("win32"))
    hint = Marker(
        '(os_name == "nt" and platform_system == "Windows") and '
        '(sys_platform == "win32" or python_version < "3.0")'
    )
    assert str(marker_for(windows, DEFAULT, hints=[hint])) == 'sys_platform == "win32"'
    slightly = Marker('platform_system == "Windows" and os_name == "nt"')
    assert str(marker_for(windows, DEFAULT, hints=[slightly])) == 'os_name == "nt"'


def test_among_exact_hints_the_shortest_wins() -> None:
    """Several exact hints: fewest atoms, then string order."""
    old = names(DEFAULT, lambda e: e.python < (3, 11))
    hints = [
        Marker('python_version < "3.11" and platform_python_implementation == "CPython"'),
        Marker('python_version <= "3.10"'),
        Marker('python_full_version < "3.11.0"'),
    ]
    assert str(marker_for(old, DEFAULT, hints=hints)) == 'python_full_version < "3.11.0"'


def test_graph_hint_keeps_atoms_only_the_matrix_makes_redundant() -> None:
    """The graph's CUDA marker stays whole: a shorter one would only be right inside the matrix.

    With linux-aarch64 and no macos-x86_64, ``platform_machine == "x86_64"``
    alone selects the same environments, and would be wrong on an x86_64 Mac
    (issue 14, Markers). Atoms redundant on every known platform still go.
    """
    matrix = Matrix.from_options(python="3.12,3.13",
                                 platforms=["linux-x86_64", "linux-aarch64", "macos-arm64"])
    cuda = names(matrix, lambda e: e.platform.name == "linux-x86_64")
    for text in ('platform_machine == "x86_64" and sys_platform == "linux"',
                 'sys_platform == "linux" and platform_machine == "x86_64"'):
        assert str(marker_for(cuda, matrix, hints=[Marker(text)])) == text
    windows = names(DEFAULT, os_is("win32"))
    both = Marker('platform_system == "Windows" and os_name == "nt"')
    assert str(marker_for(windows, DEFAULT, hints=[both])) == 'os_name == "nt"'


def test_graph_platform_marker_kept_when_versions_change_by_python() -> None:
    """A CUDA package at one version on 3.10 and another on 3.11+: the graph's platform stays.

    Its graph marker is not exact on its own (the pin changes with Python),
    so the Python condition is added to it rather than replacing it with
    ``sys_platform == "linux"``, which is only right while the matrix has
    no linux-aarch64 (issue 14, Markers; torchvision's nvidia packages).
    """
    matrix = Matrix.from_options(python=">=3.10,<3.13",
                                 platforms=["linux-x86_64", "macos-arm64", "windows-x86_64"])
    old = names(matrix, lambda e: e.platform.name == "linux-x86_64" and e.python < (3, 11))
    hint = Marker('platform_machine == "x86_64" and sys_platform == "linux"')
    assert str(marker_for(old, matrix, hints=[hint])) == (
        'python_version < "3.11" and platform_machine == "x86_64" and sys_platform == "linux"'
    )
    assert str(marker_for(old, matrix)) == 'python_version < "3.11" and sys_platform == "linux"'
    # a hint that already speaks of Pythons is not narrowed (it would repeat the cover)
    py310 = names(matrix, lambda e: e.python == (3, 10) and e.platform.name == "linux-x86_64")
    assert str(marker_for(py310, matrix, hints=[Marker('python_version < "3.11"')])) == (
        'python_version < "3.11" and sys_platform == "linux"'
    )
    split = Matrix.from_options(python="3.9.0,3.9.2,3.10,3.11", platforms=["linux-x86_64"])
    middle = names(split, lambda e: e.python == (3, 10) or e.patch_floor == 2)
    assert str(marker_for(middle, split, hints=[Marker('python_full_version < "3.11"')])) == (
        'python_full_version >= "3.9.2" and python_version < "3.11"'
    )


def test_common_terms_are_factored_out() -> None:
    """``(A and B) or (A and C)`` is written ``A and (B or C)`` (issue 14, Markers)."""
    matrix = Matrix.from_options(
        python="3.11,3.12,3.13",
        platforms=["linux-x86_64", "linux-aarch64", "macos-arm64", "windows-x86_64"])
    selected = names(matrix, lambda e: e.python >= (3, 12) and e.platform.name in (
        "macos-arm64", "linux-aarch64"))
    assert str(marker_for(selected, matrix)) == (
        'python_version >= "3.12" and (sys_platform == "darwin" or '
        '(sys_platform == "linux" and platform_machine == "aarch64"))'
    )


@pytest.mark.parametrize(("text", "factored"), [
    ('(os_name == "nt" and python_version < "3.12") or (os_name == "nt" and extra == "x")',
     'os_name == "nt" and (python_version < "3.12" or extra == "x")'),
    ('(os_name == "nt" and python_version < "3.12") or os_name == "nt"', 'os_name == "nt"'),
    ('os_name == "nt" or python_version < "3.12"', 'os_name == "nt" or python_version < "3.12"'),
])
def test_factor_keeps_the_truth_value(text: str, factored: str) -> None:
    """Factoring pulls out what every branch shares and changes no evaluation."""
    node = _markers_tree.factor(_markers_tree.parse(text))
    assert _markers_tree.render(node) == factored
    for env in DEFAULT.environments:
        for extras in ((), ("x",)):
            assert evaluate(Marker(factored), env, extras) == evaluate(Marker(text), env, extras)


def test_hint_cutting_inside_a_minor_is_not_exact() -> None:
    """A python_full_version hint that splits a minor's patch releases is rejected."""
    old = names(DEFAULT, lambda e: e.python < (3, 10))
    hint = Marker('python_full_version < "3.9.5"')
    assert str(marker_for(old, DEFAULT, hints=[hint])) == 'python_version < "3.10"'


def test_result_is_independent_of_selection_order() -> None:
    """The same set, given in any order or container, gives the same marker."""
    selected = sorted(names(DEFAULT, lambda e: e.python == (3, 9) or os_is("win32")(e)))
    a = marker_for(selected, DEFAULT)
    b = marker_for(list(reversed(selected)), DEFAULT)
    c = marker_for(set(selected), DEFAULT)
    assert str(a) == str(b) == str(c)


_SEED_SCRIPT = """
import random
from crosspin.environments import Matrix
from crosspin.markers import marker_for
m = Matrix.from_options()
r = random.Random(7)
for _ in range(40):
    s = {e.name for e in m.environments if r.random() < 0.4} or {m.environments[0].name}
    print(marker_for(s, m))
"""


def test_result_does_not_depend_on_hash_seed() -> None:
    """Markers are byte-identical across interpreter runs with different hash seeds."""
    outputs = []
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", _SEED_SCRIPT], capture_output=True,
                             text=True, env=env, check=True)
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].count("\n") == 40


@st.composite
def selections(draw: st.DrawFn, matrix: Matrix) -> frozenset[str]:
    all_names = [e.name for e in matrix.environments]
    chosen = draw(st.sets(st.sampled_from(all_names), min_size=1))
    return frozenset(chosen)


@settings(max_examples=150, deadline=None)
@given(selections(DEFAULT))
def test_marker_selects_exactly_the_selection_default(selected: frozenset[str]) -> None:
    """For any subset of the default matrix the marker selects exactly that subset."""
    marker = marker_for(selected, DEFAULT)
    assert environments_of(marker, DEFAULT) == selected
    if marker is not None:
        assert Marker(str(marker)) == marker
        assert str(Marker(str(marker))) == str(marker)


@settings(max_examples=100, deadline=None)
@given(selections(SPLIT))
def test_marker_selects_exactly_the_selection_patch_split(selected: frozenset[str]) -> None:
    """Exactness holds on a matrix whose minors are cut at patch boundaries."""
    marker = marker_for(selected, SPLIT)
    assert environments_of(marker, SPLIT) == selected


RAGGED = Matrix(environments=tuple(
    e for e in SPLIT.environments
    if not (e.python == (3, 11) and e.platform.sys_platform == "win32")
    and not (e.python == (3, 14) and e.platform.name == "linux-aarch64")
))


@settings(max_examples=100, deadline=None)
@given(selections(RAGGED))
def test_marker_selects_exactly_the_selection_ragged(selected: frozenset[str]) -> None:
    """Exactness holds on a matrix that is not a full Pythons x platforms product."""
    marker = marker_for(selected, RAGGED)
    assert environments_of(marker, RAGGED) == selected


HINT_POOL = [
    Marker('os_name == "nt"'),
    Marker('sys_platform == "linux" and python_version >= "3.12"'),
    Marker('platform_python_implementation == "CPython" and python_version < "3.11"'),
    Marker('platform_system == "Darwin"'),
    Marker('python_full_version < "3.9.7"'),
]


@settings(max_examples=100, deadline=None)
@given(selections(DEFAULT), st.lists(st.sampled_from(HINT_POOL), max_size=3))
def test_hints_never_break_exactness(selected: frozenset[str], hints: list[Marker]) -> None:
    """Whatever hints are given, the result still selects exactly the selection."""
    marker = marker_for(selected, DEFAULT, hints=hints)
    assert environments_of(marker, DEFAULT) == selected


PYTHON_RANGES = [(lo, hi) for lo in range(9, 15) for hi in range(lo, 15)]
OS_SETS = [("linux",), ("darwin",), ("win32",), ("linux", "darwin"), ("darwin", "win32")]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(PYTHON_RANGES), st.sampled_from(OS_SETS))
def test_python_range_times_os_needs_at_most_three_atoms(
    python: tuple[int, int], systems: tuple[str, ...]
) -> None:
    """A contiguous Python range on one or two OSes needs at most 2 + 1 atoms."""
    lo, hi = python
    selected = names(
        DEFAULT, lambda e: lo <= e.python[1] <= hi and e.platform.sys_platform in systems
    )
    marker = marker_for(selected, DEFAULT)
    python_atoms = (lo > 9) + (hi < 14)
    if lo == hi and 9 < lo < 14:
        python_atoms = 1
    assert atom_count(marker) <= python_atoms + 1
    assert environments_of(marker, DEFAULT) == selected


def test_evaluate_uses_the_target_environment() -> None:
    """Markers are evaluated for the target, not for the host running crosspin."""
    env = DEFAULT.by_name()["3.12-windows-x86_64"]
    assert evaluate(Marker('sys_platform == "win32" and os_name == "nt"'), env)
    assert not evaluate(Marker('python_version < "3.12"'), env)
    assert evaluate(None, env)


def test_evaluate_with_extras() -> None:
    """``extra == "x"`` holds when x is among the requested extras; PEP 751 sets too."""
    env = DEFAULT.by_name()["3.12-linux-x86_64"]
    marker = Marker('extra == "socks" and sys_platform == "linux"')
    assert not evaluate(marker, env)
    assert evaluate(marker, env, extras=["security", "SOCKS"])
    set_marker = Marker('"socks" in extras')
    assert evaluate(set_marker, env, extras=["socks"])
    assert not evaluate(set_marker, env)
    assert environments_of(marker, DEFAULT, extras=["socks"]) == names(DEFAULT, os_is("linux"))


def test_simplify_drops_what_is_constant_over_the_matrix() -> None:
    """Atoms and clauses that change nothing over the matrix are dropped."""
    marker = Marker(
        'platform_python_implementation == "CPython" and python_version >= "3.8" '
        'and (sys_platform == "win32" or python_version < "3.0")'
    )
    assert str(simplify(marker, DEFAULT)) == 'sys_platform == "win32"'
    assert simplify(Marker('python_version >= "3.8"'), DEFAULT) is None
    nowhere = Marker('python_version < "3.0"')
    assert simplify(nowhere, DEFAULT) == nowhere
    assert simplify(None, DEFAULT) is None


def test_conjoin_parenthesises_and_flattens() -> None:
    """``and`` of markers keeps ``or`` groups in parentheses and drops repeats."""
    a = Marker('os_name == "nt" or sys_platform == "darwin"')
    b = Marker('python_version < "3.11"')
    assert str(conjoin(a, b, None)) == (
        '(os_name == "nt" or sys_platform == "darwin") and python_version < "3.11"'
    )
    assert str(conjoin(b, Marker('python_version < "3.11" and os_name == "nt"'))) == (
        'python_version < "3.11" and os_name == "nt"'
    )
    assert conjoin() is None
    assert conjoin(None, None) is None
    assert conjoin(b) == b


def test_disjoin_is_none_when_any_side_is_always_true() -> None:
    """``or`` with an always-true side is always true; otherwise flat and bracketed."""
    a = Marker('os_name == "nt" and python_version < "3.11"')
    b = Marker('sys_platform == "linux"')
    assert disjoin(a, None) is None
    assert str(disjoin(a, b, b)) == (
        '(os_name == "nt" and python_version < "3.11") or sys_platform == "linux"'
    )
    with pytest.raises(ValueError, match="at least one"):
        disjoin()


def test_conjoin_disjoin_agree_with_evaluation() -> None:
    """Combined markers evaluate as the boolean combination of their parts."""
    a = Marker('python_version < "3.11" or os_name == "nt"')
    b = Marker('sys_platform != "darwin" and python_version >= "3.10"')
    both = conjoin(a, b)
    either = disjoin(a, b)
    for env in DEFAULT.environments:
        assert evaluate(both, env) == (evaluate(a, env) and evaluate(b, env))
        assert evaluate(either, env) == (evaluate(a, env) or evaluate(b, env))


def test_reversed_atoms_and_single_quotes_parse() -> None:
    """``"value" op var`` atoms and single-quoted values survive the tree round trip."""
    marker = Marker("'linux' in sys_platform and platform_release != 'a\"b'")
    assert conjoin(marker) == marker
    node = _markers_tree.parse(str(marker))
    assert _markers_tree.render(node) == str(marker)


