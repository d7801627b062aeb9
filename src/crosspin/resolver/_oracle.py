"""Questions a resolution asks of its environment, memoised across the matrix.

A resolution only depends on its environment through the answers to a few
kinds of questions: is this marker true, does this Python satisfy this
Requires-Python, is this version of this project installable here, and
which version does the existing lock pin here (a preference). An
:class:`EnvironmentView` records each question and its answer; another
environment that gives the same answers to all of them gets the same
resolution without resolving again (DESIGN.md "Speed").

The questions are deliberately coarse: installability is asked per
``(name, version)`` and only for versions the resolver actually looks at,
never per file nor for every version on the page. Per-file questions would
split the matrix on files nobody picks (an old version with a Linux-only
wheel), so environment classes would be far finer than they need to be.
:class:`Oracle` holds the answers for every environment of a run, so a
question asked again by a later fork (or while checking whether a fork can
be reused) is a dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Optional, cast

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Environment
from crosspin.resolver._model import (
    PinsFor,
    Rejection,
    RejectionKind,
    ResolveOptions,
    evaluate_marker,
)

#: A recorded question: its kind and a hashable key.
Question = tuple[str, object]

#: An answer: a truth value, or for a "prefer" question the pinned version (or None).
Answer = object

_MISSING = object()

#: Files of one version with the same Requires-Python: it, whether an sdist
#: among them may be built, and the tag sets of the wheels that may be used.
_InstallGroup = tuple[Optional[SpecifierSet], bool, tuple[frozenset[Tag], ...]]


class Oracle:
    """Environment-independent facts and per-environment answers for one run.

    Facts (a project's versions and files, which versions a specifier
    admits) are computed once; answers are memoised per environment name.
    Objects are keyed by identity where their text would be costly to build
    (specifiers, markers); the oracle keeps them alive so ids stay unique.
    """

    def __init__(
        self, releases: Callable[[str], Mapping[Version, tuple[DistFile, ...]]],
        options: ResolveOptions, *, existing: PinsFor | None = None,
    ) -> None:
        self._releases = releases
        self.options = options
        self._existing = existing
        self._existing_memo: dict[str, Mapping[str, Version]] = {}
        self._versions: dict[str, Mapping[Version, tuple[DistFile, ...]]] = {}
        self._ordered: dict[str, list[Version]] = {}
        self._spec_text: dict[int, tuple[object, str]] = {}
        self._admitted: dict[int, tuple[SpecifierSet, dict[Version, bool]]] = {}
        self._answers: dict[tuple[str, str, object], Answer] = {}
        self._parsed_markers: dict[str, Marker] = {}
        self._marker_names: dict[str, tuple[str, ...]] = {}
        self._marker_values: dict[tuple[str, frozenset[str], tuple[str, ...]], bool] = {}
        self._usable_files: dict[tuple[str, Version, bool], tuple[DistFile, ...]] = {}
        self._install_groups: dict[tuple[str, Version, bool], list[_InstallGroup]] = {}
        #: Candidate dependencies before markers (filled by the provider; see
        #: ``Provider._template``): the same for every environment.
        self.dependency_templates: dict[tuple[object, ...], Any] = {}
        #: (name, version, link) -> why its metadata rules it out, or None when
        #: it is usable (filled by the provider): the same for every environment.
        self.broken: dict[tuple[str, Version, str | None], Rejection | None] = {}
        #: (minor, question) -> the patch numbers where its answer may change
        #: (filled by ``_patches``).
        self.patch_memo: dict[tuple[tuple[int, int], Question], frozenset[int]] = {}
        #: (id of a view's questions, minor) -> (those questions, how many, the
        #: ones naming a patch release with its numbers) (filled by ``_patches``).
        self.patch_questions: dict[tuple[int, tuple[int, int]], tuple[
            object, int, list[tuple[Question, frozenset[int]]]]] = {}
        #: (name, specifier text, preferred version) whose likely pick's metadata
        #: the replay already asked the finder to fetch (``_replay._prefetch``).
        self.prefetched: set[tuple[str, str, Version | None]] = set()
        #: How many questions were computed rather than looked up (for tests).
        self.computed = 0

    # -- facts -------------------------------------------------------------

    def versions(self, name: str) -> Mapping[Version, tuple[DistFile, ...]]:
        """Every version of a project with its files (any environment).

        The finder may build a version's files on first lookup: the
        resolver only ever looks up the versions it reaches.
        """
        got = self._versions.get(name)
        if got is None:
            got = self._releases(name)
            self._versions[name] = got
            self._ordered[name] = sorted(got, reverse=True)
        return got

    def newest_first(self, name: str) -> list[Version]:
        """The project's versions, newest first."""
        self.versions(name)
        return self._ordered[name]

    def text(self, thing: SpecifierSet | Marker) -> str:
        """``str(thing)``, built once per object."""
        got = self._spec_text.get(id(thing))
        if got is None:
            got = (thing, str(thing))
            self._spec_text[id(thing)] = got
        return got[1]

    def admits(self, spec: SpecifierSet, version: Version) -> bool:
        """``spec.contains(version, prereleases=True)``, memoised per specifier object."""
        entry = self._admitted.get(id(spec))
        if entry is None:
            entry = (spec, {})
            self._admitted[id(spec)] = entry
        memo = entry[1]
        got = memo.get(version)
        if got is None:
            got = memo[version] = bool(spec.contains(version, prereleases=True))
        return got

    def usable_files(self, name: str, version: Version, yanked_ok: bool) -> tuple[DistFile, ...]:
        """The files a candidate keeps: live ones, minus sdists that may not be built.

        Wheels are kept for metadata even where none installs (all wheels
        of a version share metadata) unless wheels are forbidden.
        """
        key = (name, version, yanked_ok)
        got = self._usable_files.get(key)
        if got is None:
            build_ok = self.options.may_build(name)
            got = tuple(
                f for f in self.versions(name).get(version, ())
                if (not f.is_yanked or yanked_ok) and (build_ok or f.is_wheel)
            )
            self._usable_files[key] = got
        return got

    # -- per-environment answers -------------------------------------------

    def answer(self, env: Environment, env_key: str, question: Question) -> Answer:
        """The answer ``env`` gives to ``question`` (memoised)."""
        key = (env_key, question[0], question[1])
        got = self._answers.get(key, _MISSING)
        if got is _MISSING:
            self.computed += 1
            got = self._compute(env, env_key, question)
            self._answers[key] = got
        return got

    def _compute(self, env: Environment, env_key: str, question: Question) -> Answer:
        kind, key = question
        if kind == "prefer":
            return self._existing_pins(env, env_key).get(cast(str, key))
        if kind == "marker":
            text, extras = cast("tuple[str, frozenset[str]]", key)
            return self._marker_answer(env, text, extras)
        if kind == "python":
            return env.admits_python(SpecifierSet(cast(str, key)))
        if kind == "installable":
            name, version, yanked_ok = cast("tuple[str, Version, bool]", key)
            return self._installable(env, name, version, yanked_ok)
        raise ValueError(f"unknown question kind {kind!r}")

    def existing_pins(self, env: Environment) -> Mapping[str, Version]:
        """The existing lock's pins for ``env`` (name -> version; empty without a lock)."""
        return self._existing_pins(env, env.name)

    def _existing_pins(self, env: Environment, env_key: str) -> Mapping[str, Version]:
        got = self._existing_memo.get(env_key)
        if got is None:
            got = {} if self._existing is None else dict(self._existing(env))
            self._existing_memo[env_key] = got
        return got

    def _marker_answer(self, env: Environment, text: str, extras: frozenset[str]) -> bool:
        """A marker's value in ``env``, computed once per value of the variables it names.

        Most markers name one or two variables (``sys_platform``,
        ``python_version``), so most environments of a matrix share the
        answer. ``text`` is the marker's canonical text (``str(Marker)``
        spells every variable by its PEP 508 name), so a variable it names
        appears in it; a name that appears only inside a quoted value just
        makes the key finer.
        """
        values = env.marker_environment
        names = self._marker_names.get(text)
        if names is None:
            names = self._marker_names[text] = tuple(n for n in values if n in text)
        key = (text, extras, tuple(values[n] for n in names))
        got = self._marker_values.get(key)
        if got is None:
            got = self._marker_values[key] = evaluate_marker(self._marker(text), env, extras)
        return got

    def marker_of(self, text: str) -> Marker:
        """The parsed marker of a (canonical) marker text, parsed once."""
        return self._marker(text)

    def _marker(self, text: str) -> Marker:
        got = self._parsed_markers.get(text)
        if got is None:
            got = self._parsed_markers[text] = Marker(text)
        return got

    def _installable(self, env: Environment, name: str, version: Version, yanked_ok: bool) -> bool:
        """Whether some live file of ``name==version`` installs in ``env``."""
        key = (name, version, yanked_ok)
        groups = self._install_groups.get(key)
        if groups is None:
            groups = self._install_groups[key] = self._grouped(name, version, yanked_ok)
        admits, supports = env.admits_python, env.supports_wheel
        for requires_python, buildable, tag_sets in groups:
            if requires_python is not None and not admits(requires_python):
                continue
            if buildable or any(supports(tags) for tags in tag_sets):
                return True
        return False

    def _grouped(self, name: str, version: Version, yanked_ok: bool) -> list[_InstallGroup]:
        """The files that may install, by Requires-Python: (it, an sdist may, wheel tags).

        Computed once per version for every environment that asks. Files
        share their Requires-Python objects, so a version has one or two groups.
        """
        wheels_ok = self.options.may_use_wheels(name)
        build_ok = self.options.may_build(name)
        groups: dict[int, tuple[SpecifierSet | None, list[bool], list[frozenset[Tag]]]] = {}
        for f in self.versions(name).get(version, ()):
            if f.is_yanked and not yanked_ok:
                continue
            group = groups.setdefault(id(f.requires_python), (f.requires_python, [False], []))
            if f.is_wheel:
                if wheels_ok:
                    group[2].append(f.tags)
            elif build_ok:
                group[1][0] = True
        return [(rp, buildable[0], tuple(tags)) for rp, buildable, tags in groups.values()]


    def not_installable(self, env: Environment, name: str) -> Rejection:
        """Why no version of ``name`` installs in ``env``: the newest version's reason.

        ``version`` is ``None`` when every version fails the same way (then
        ``requires_python`` is the newest version's, the floor a message names).
        """
        kinds: list[tuple[Version, RejectionKind, SpecifierSet | None]] = []
        for version in self.newest_first(name):
            got = self._why_not(env, name, version)
            if got is not None:
                kinds.append((version, *got))
        if not kinds:
            return Rejection(name=canonicalize_name(name), kind="no-wheel")
        newest, kind, spec = kinds[0]
        same = all(k == kind for _, k, _ in kinds)
        return Rejection(name=canonicalize_name(name), kind=kind, version=None if same else newest,
                         requires_python=spec)

    def _why_not(
        self, env: Environment, name: str, version: Version
    ) -> tuple[RejectionKind, SpecifierSet | None] | None:
        """The kind of one version's uninstallability (``None``: no live file at all)."""
        live = [f for f in self.versions(name).get(version, ()) if not f.is_yanked]
        if not live:
            return None
        fits_python = [
            f for f in live
            if f.requires_python is None or env.admits_python(f.requires_python)
        ]
        if not fits_python:
            return "requires-python", live[0].requires_python
        if any(not f.is_wheel for f in fits_python) and not self.options.may_build(name):
            return "no-build", None
        return "no-wheel", None


class EnvironmentView:
    """An environment that remembers every question a resolution asked it.

    Two environments that answer every recorded question the same way get
    the same resolution, so the scheduler replays the questions instead of
    resolving again.
    """

    def __init__(self, environment: Environment, oracle: Oracle | None = None) -> None:
        self.environment = environment
        self.oracle = oracle if oracle is not None else Oracle(lambda _name: {}, ResolveOptions())
        self._key = environment.name
        self.answers: dict[Question, Answer] = {}

    def ask(self, question: Question) -> Answer:
        """The answer to a question, recorded (see :meth:`marker_question`)."""
        got = self.answers.get(question, _MISSING)
        if got is _MISSING:
            got = self.oracle.answer(self.environment, self._key, question)
            self.answers[question] = got
        return got

    def marker_question(self, marker: Marker, extras: frozenset[str] = frozenset()) -> Question:
        """The question :meth:`marker` asks: built once, asked in every environment."""
        return ("marker", (self.oracle.text(marker), extras))

    def marker(self, marker: Marker, extras: frozenset[str] = frozenset()) -> bool:
        """Evaluate a marker (with the given extras active)."""
        return bool(self.ask(self.marker_question(marker, extras)))

    def python(self, spec: SpecifierSet) -> bool:
        """Whether every covered patch release satisfies a Requires-Python."""
        return bool(self.ask(("python", self.oracle.text(spec))))

    def installable(self, name: str, version: Version, yanked_ok: bool) -> bool:
        """Whether some live file of ``name==version`` installs here."""
        return bool(self.ask(("installable", (name, version, yanked_ok))))

    def preferred(self, name: str) -> Version | None:
        """The version the existing lock pins for ``name`` here, if any.

        A question like the others: two environments whose existing pins
        differ resolve differently, so one must not reuse the other's answer.
        """
        return cast("Version | None", self.ask(("prefer", name)))

    def same_answers(self, other: Environment) -> bool:
        """Whether ``other`` answers every recorded question identically."""
        key = other.name
        answer = self.oracle.answer
        return all(answer(other, key, q) == a for q, a in self.answers.items())


def any_installable(view: EnvironmentView, name: str, versions: Iterable[Version]) -> bool:
    """Whether any of ``versions`` installs in the view (asks about each)."""
    return any(view.installable(name, v, False) for v in versions)
