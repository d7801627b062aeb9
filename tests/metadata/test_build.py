"""PEP 517 metadata builds get exactly the run's indexes, through pip's environment."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from crosspin.errors import BuildError
from crosspin.index import IndexSettings
from crosspin.metadata import BuildSettings, Release
from crosspin.metadata._build import prepare_metadata, summary
from crosspin.settings import Tuning, build_settings, pip_environment


def test_the_runs_indexes_reach_the_build_pip_through_its_environment() -> None:
    """The PIP_* variables are sync's (one rule); the user's own PIP_* never reach pip."""
    index = IndexSettings(index_url="https://u:secret@private/simple",
                          extra_index_urls=("https://extra/simple",), find_links=("/w",),
                          trusted_hosts=("private",), cert="/etc/ca.pem")
    settings = build_settings(index, Tuning())
    env = settings.pip_environment({"PATH": "/bin", "PIP_INDEX_URL": "https://pypi.org/simple",
                                    "pip_extra_index_url": "https://evil/simple"})
    assert env == pip_environment(index, {"PATH": "/bin"})
    assert env["PIP_INDEX_URL"] == "https://u:secret@private/simple"
    assert env["PIP_CONFIG_FILE"] == os.devnull
    assert "pip_extra_index_url" not in env


def test_without_index_settings_pip_keeps_its_own_configuration() -> None:
    """BuildSettings() (a library caller without settings) leaves the environment alone."""
    assert BuildSettings().pip_environment({"PIP_INDEX_URL": "x"}) == {"PIP_INDEX_URL": "x"}


def test_build_settings_follow_the_crosspin_variables() -> None:
    """CROSSPIN_BUILD_TIMEOUT and the sdist caps reach the build settings."""
    tuning = Tuning.from_environ({"CROSSPIN_BUILD_TIMEOUT": "7", "CROSSPIN_MAX_SDIST_SIZE": "99",
                                  "CROSSPIN_MAX_SDIST_MEMBERS": "5"})
    built = build_settings(IndexSettings(), tuning)
    assert (built.timeout, built.limits.size, built.limits.members) == (7.0, 99, 5)
    assert build_settings(IndexSettings(), Tuning()).limits == BuildSettings().limits


NVIDIA_TAIL = [
    '    exec(code, locals())  # noqa: S102 # exec is intentional here',
    '  File "<string>", line 152, in <module>',
    "RuntimeError:",
    "#" * 40,
    "The package you are trying to install is only a placeholder project on PyPI.org.",
    "This package can be installed as:",
    "$ pip install nvidia-pyindex",
    "#" * 40,
]


@pytest.mark.parametrize(("lines", "expected"), [
    (["noise", 'ERROR: Dependency "dbus-1" not found', "A full log can be found at x"],
     'ERROR: Dependency "dbus-1" not found'),
    (["Traceback (most recent call last):", "  File x", "ValueError: bad version 'x'"],
     "ValueError: bad version 'x'"),
    (NVIDIA_TAIL, "RuntimeError: The package you are trying to install is only a placeholder "
                  "project on PyPI.org."),
    (["building", "=====", ""], "building"),
    ([], ""),
])
def test_the_reason_is_the_line_that_says_what_went_wrong(
    lines: list[str], expected: str
) -> None:
    """The error's one line is the backend's error line, not its last banner."""
    assert summary(lines) == expected


def test_temporary_paths_never_reach_the_output(tmp_path: Path) -> None:
    """A failing backend's traceback names its files: the temporary folders are replaced."""
    tree = tmp_path / "crosspin-sdist-x" / "src" / "a-1.0"
    tree.mkdir(parents=True)
    (tree / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n')
    (tree / "backend.py").write_text(
        "import os\ndef get_requires_for_build_wheel(config_settings=None):\n"
        "    print(os.getcwd(), os.path.dirname(__file__))\n"
        "    raise RuntimeError('no')\n")
    seen: list[str] = []
    with pytest.raises(BuildError) as caught:
        prepare_metadata(tree, Release(name="a", version="1.0", file="a-1.0.tar.gz"),
                         settings=BuildSettings(), log=seen.append)
    shown = str(caught.value) + "\n".join(seen)
    assert str(tmp_path) not in shown and "crosspin-build-" not in shown
    assert "<a-1.0.tar.gz> <a-1.0.tar.gz>" in shown
    assert caught.value.reason == "the build backend failed: RuntimeError: no"
    assert all(line.startswith("    ") for line in seen)


def test_backend_warnings_are_not_printed(tmp_path: Path) -> None:
    """A backend's warnings (setuptools' setup.cfg banners) never reach stderr.

    pyproject_hooks re-issues them in crosspin's process; on the live index
    ``sentence-transformers==2.2.2`` printed a page of setuptools
    deprecation banners, naming the temporary build folder.
    """
    tree = tmp_path / "a-1.0"
    tree.mkdir()
    (tree / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n')
    (tree / "backend.py").write_text(
        "import os, warnings\n"
        "def prepare_metadata_for_build_wheel(directory, config_settings=None):\n"
        "    warnings.warn('dash-separated key description-file')\n"
        "    info = os.path.join(directory, 'a-1.0.dist-info')\n"
        "    os.mkdir(info)\n"
        "    with open(os.path.join(info, 'METADATA'), 'w') as f:\n"
        "        f.write('Metadata-Version: 2.1\\nName: a\\nVersion: 1.0\\n')\n"
        "    return 'a-1.0.dist-info'\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metadata = prepare_metadata(tree, Release(name="a", version="1.0"),
                                    settings=BuildSettings())
    assert metadata.startswith(b"Metadata-Version: 2.1")
    assert [str(w.message) for w in caught] == []
