"""A wheel's own Requires-Dist against the lock's subset for the target."""

from __future__ import annotations

from packaging.utils import canonicalize_name
from packaging.version import Version

from crosspin.lock import LockedPackage
from crosspin.sync._closure import unmet_requirement

LINUX_312 = {"python_version": "3.12", "python_full_version": "3.12.1", "sys_platform": "linux",
             "platform_machine": "x86_64", "os_name": "posix", "platform_system": "Linux",
             "implementation_name": "cpython", "platform_python_implementation": "CPython",
             "platform_release": "", "platform_version": "", "implementation_version": "3.12.1"}


def _pins(*pins: str) -> dict:  # type: ignore[type-arg]
    found = {}
    for pin in pins:
        name, _, version = pin.partition("==")
        found[canonicalize_name(name)] = LockedPackage(name=canonicalize_name(name),
                                                      version=Version(version))
    return found


def _unmet(requires: list[str], *pins: str, extras: tuple[str, ...] = ()) -> str | None:
    return unmet_requirement(requires, extras=extras, selected=_pins(*pins), markers=LINUX_312)


def test_pinned_dependencies_satisfy_the_wheel() -> None:
    """Every requirement the target needs is pinned at a version it accepts."""
    assert _unmet(["a>=1", "b; sys_platform == 'linux'"], "a==1.5", "b==2.0") is None


def test_a_dependency_the_lock_lacks_is_named() -> None:
    """A Requires-Dist the index's metadata never mentioned: the wheel is not what was locked."""
    reason = _unmet(["a", "evil-dependency>=1"], "a==1.0")
    assert reason is not None and "evil-dependency>=1" in reason and "METADATA" in reason


def test_a_version_the_pin_does_not_satisfy_is_named() -> None:
    """``a<2`` in METADATA while the lock pins a==2.0."""
    reason = _unmet(["a<2"], "a==2.0")
    assert reason is not None and "a==2.0" in reason


def test_requirements_for_other_environments_and_extras_are_ignored() -> None:
    """Markers false on the target, and extras the lock did not ask for, need no pin."""
    assert _unmet(["w; sys_platform == 'win32'", "old; python_version < '3.9'",
                   "x; extra == 'docs'"]) is None


def test_extras_the_lock_asked_for_are_checked() -> None:
    """With the extra locked, its requirements must be pinned too."""
    assert _unmet(["x; extra == 'docs'"], extras=("docs",)) is not None
    assert _unmet(["x; extra == 'docs'"], "x==1", extras=("docs",)) is None


def test_unsafe_packages_left_out_of_the_lock_are_not_held_against_the_wheel() -> None:
    """pip-tools leaves setuptools/pip out of locks unless asked: that is not a mismatch."""
    assert _unmet(["setuptools>=40"]) is None
    assert _unmet(["setuptools>=70"], "setuptools==60.0") is not None


def test_an_unreadable_requirement_is_refused() -> None:
    """A Requires-Dist line that does not parse is a reason, not a traceback."""
    reason = _unmet(["a (>= 1"])
    assert reason is not None and "cannot be read" in reason
