"""pip's own configuration, end to end: a pip.conf steers ``crosspin compile`` (no --isolated).

Every other resolving test passes ``--isolated``; these run the CLI as a
user whose pip.conf names the indexes (``PIP_CONFIG_FILE``), with this
machine's user and XDG files out of the way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from fixtures.builder import BuiltIndex, build_index
from tests.helpers import ONE_ENV, parse_pins, run_cli

ANY = ">=3.8"
MAIN: dict[str, Any] = {"app": {"1.0.0": {"requires_python": ANY, "requires": ["lib"]}}}
EXTRA: dict[str, Any] = {"lib": {"1.0.0": {"requires_python": ANY}}}
LOCAL: dict[str, Any] = {"local": {"1.0.0": {"requires_python": ANY}}}


@pytest.fixture
def pip_conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The pip.conf PIP_CONFIG_FILE names; every other PIP_* setting and user file removed."""
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS"):
        folder = tmp_path / name.lower()
        folder.mkdir()
        monkeypatch.setenv(name, str(folder))
    conf = tmp_path / "pip.conf"
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    (tmp_path / "work").mkdir()
    return conf


def _compile(work: Path, *args: str) -> tuple[int, str, set[str]]:
    result = run_cli(["compile", "requirements.in", "-o", "-", "--cache-dir",
                      str(work / ".cache"), *ONE_ENV, *args], cwd=work)
    pins = {f"{n}=={v}" for n, v, _ in parse_pins(result.stdout)} if result.code == 0 else set()
    return result.code, result.stdout + result.stderr, pins


def _write(conf: Path, **options: str) -> None:
    lines = ["[global]"] + [f"{k.replace('_', '-')} = {v}" for k, v in options.items()]
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _requirements(work: Path, *names: str) -> Path:
    (work / "requirements.in").write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
    return work


def test_index_url_and_extra_index_url_from_pip_conf(make_index: Any, pip_conf: Path) -> None:
    """index-url and extra-index-url in pip.conf are the indexes a compile reads."""
    main, extra = make_index(MAIN), make_index(EXTRA)
    _write(pip_conf, index_url=main.index_url, extra_index_url=extra.index_url)
    work = _requirements(pip_conf.parent / "work", "app")
    code, out, pins = _compile(work)
    assert code == 0, out
    assert pins == {"app==1.0.0", "lib==1.0.0"}
    assert any(r.path == "/simple/app/" for r in main.requests)
    assert any(r.path == "/simple/lib/" for r in extra.requests)


def test_find_links_from_pip_conf(make_index: Any, pip_conf: Path, tmp_path: Path) -> None:
    """find-links in pip.conf adds a folder of wheels beside the index."""
    main = make_index({**MAIN, **EXTRA})
    links: BuiltIndex = build_index(LOCAL, tmp_path / "links")
    _write(pip_conf, index_url=main.index_url, find_links=str(links.files_dir))
    work = _requirements(pip_conf.parent / "work", "app", "local")
    code, out, pins = _compile(work)
    assert code == 0, out
    assert pins == {"app==1.0.0", "lib==1.0.0", "local==1.0.0"}


def test_missing_folders_in_pip_conf_are_not_found(
    make_index: Any, pip_conf: Path, tmp_path: Path
) -> None:
    """A file:// extra index without the project's folder and a missing find-links: not found."""
    main = make_index({**MAIN, **EXTRA})
    other = build_index({"other": {"1.0.0": {"requires_python": ANY}}}, tmp_path / "file-index")
    assert not (other.simple_dir / "app").exists()
    _write(pip_conf, index_url=main.index_url, extra_index_url=other.simple_url,
           find_links=f"{(tmp_path / 'no-such-folder').as_uri()} {tmp_path / 'nor-this'}")
    work = _requirements(pip_conf.parent / "work", "app")
    code, out, pins = _compile(work)
    assert code == 0, out
    assert pins == {"app==1.0.0", "lib==1.0.0"}
    assert "warning" not in out.lower() and "error" not in out.lower(), out


def test_isolated_ignores_pip_conf(make_index: Any, pip_conf: Path) -> None:
    """--isolated: pip.conf's index is not read (the command line's is)."""
    configured, given = make_index(MAIN), make_index({**MAIN, **EXTRA})
    _write(pip_conf, index_url=configured.index_url)
    work = _requirements(pip_conf.parent / "work", "app")
    code, out, pins = _compile(work, "--isolated", "--index-url", given.index_url)
    assert code == 0, out
    assert pins == {"app==1.0.0", "lib==1.0.0"}
    assert configured.requests == []


def test_no_index_from_pip_conf(make_index: Any, pip_conf: Path, tmp_path: Path) -> None:
    """no-index = true in pip.conf: only find-links are read; the index gets no request."""
    main = make_index({**MAIN, **EXTRA, **LOCAL})
    links = build_index(LOCAL, tmp_path / "links")
    _write(pip_conf, index_url=main.index_url, no_index="true",
           find_links=str(links.files_dir))
    work = _requirements(pip_conf.parent / "work", "local")
    code, out, pins = _compile(work)
    assert code == 0, out
    assert pins == {"local==1.0.0"}
    assert main.requests == []
