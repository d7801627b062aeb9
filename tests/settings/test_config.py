"""Tests for crosspin.settings: pip's configuration and [tool.crosspin]."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crosspin.errors import InputError
from crosspin.settings import (
    ConfigChoice,
    PipConfig,
    ToolConfig,
    load_config,
    load_pip_config,
    load_tool_config,
)
from tests.helpers import chdir


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environ isolated from this machine's real pip configuration."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    env.update(extra)
    return env


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_no_config_gives_defaults(tmp_path: Path) -> None:
    """Without files or PIP_* variables every setting is unset."""
    assert load_pip_config(_env(tmp_path), global_files=[]) == PipConfig()


def test_user_file_is_read_with_multi_value_lists(tmp_path: Path) -> None:
    """The XDG user file is read; list options split on whitespace and newlines."""
    env = _env(tmp_path)
    _write(
        Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf",
        "[global]\nindex-url = https://example.com/simple\n"
        "extra-index-url =\n  file:///a/simple\n  file:///b/simple file:///c/simple\n"
        "find-links = /opt/wheels\ntrusted-host = a.example b.example\n"
        "cert = /etc/ca.pem\ntimeout = 60\n",
    )
    config = load_pip_config(env, global_files=[])
    assert config == PipConfig(
        index_url="https://example.com/simple",
        extra_index_urls=("file:///a/simple", "file:///b/simple", "file:///c/simple"),
        find_links=("/opt/wheels",),
        trusted_hosts=("a.example", "b.example"),
        cert="/etc/ca.pem",
        timeout=60.0,
    )


def test_file_precedence_global_user_site(tmp_path: Path) -> None:
    """Later files win: global < legacy user < XDG user < $VIRTUAL_ENV/pip.conf."""
    env = _env(tmp_path, VIRTUAL_ENV=str(tmp_path / "venv"))
    global_file = _write(tmp_path / "etc" / "pip.conf", "[global]\nindex-url = g\ncert = g\n")
    _write(Path(env["HOME"]) / ".pip" / "pip.conf", "[global]\nindex-url = legacy\ntimeout = 5\n")
    _write(Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf", "[global]\nindex-url = user\n")
    _write(tmp_path / "venv" / "pip.conf", "[global]\nfind-links = site\n")
    config = load_pip_config(env, global_files=[global_file])
    assert config.index_url == "user"
    assert config.cert == "g"
    assert config.timeout == 5.0
    assert config.find_links == ("site",)


def test_install_section_overrides_global_across_files(tmp_path: Path) -> None:
    """[install] beats [global] even when [global] comes from a later file, as in pip."""
    env = _env(tmp_path)
    global_file = _write(tmp_path / "etc" / "pip.conf", "[install]\nindex-url = install-global\n")
    _write(Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf", "[global]\nindex-url = user\n")
    assert load_pip_config(env, global_files=[global_file]).index_url == "install-global"


def test_env_vars_win_over_files(tmp_path: Path) -> None:
    """PIP_* variables override every file; list variables split on whitespace."""
    env = _env(
        tmp_path,
        PIP_INDEX_URL="https://env/simple",
        PIP_EXTRA_INDEX_URL="https://x/simple  https://y/simple",
        PIP_FIND_LINKS="/w1 /w2",
        PIP_TRUSTED_HOST="x",
        PIP_CERT="/ca.pem",
        PIP_DEFAULT_TIMEOUT="180",
    )
    _write(Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf", "[global]\nindex-url = file\n")
    config = load_pip_config(env, global_files=[])
    assert config == PipConfig(
        index_url="https://env/simple",
        extra_index_urls=("https://x/simple", "https://y/simple"),
        find_links=("/w1", "/w2"),
        trusted_hosts=("x",),
        cert="/ca.pem",
        timeout=180.0,
    )


def test_timeout_aliases_follow_source_order(tmp_path: Path) -> None:
    """'timeout' and 'default-timeout' are one option: the later source wins."""
    env = _env(tmp_path, PIP_TIMEOUT="7")
    _write(Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf", "[global]\ndefault-timeout = 99\n")
    assert load_pip_config(env, global_files=[]).timeout == 7.0


def test_underscore_keys_are_normalised(tmp_path: Path) -> None:
    """pip accepts index_url as a spelling of index-url in files."""
    env = _env(tmp_path)
    _write(Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf", "[global]\nindex_url = u\n")
    assert load_pip_config(env, global_files=[]).index_url == "u"


def test_pip_config_file_replaces_user_files(tmp_path: Path) -> None:
    """PIP_CONFIG_FILE naming an existing file skips the user files and wins over site."""
    env_file = _write(tmp_path / "custom.conf", "[global]\nindex-url = custom\n")
    env = _env(tmp_path, PIP_CONFIG_FILE=str(env_file), VIRTUAL_ENV=str(tmp_path / "venv"))
    _write(Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf", "[global]\nfind-links = user\n")
    _write(tmp_path / "venv" / "pip.conf", "[global]\nindex-url = site\n")
    config = load_pip_config(env, global_files=[])
    assert config.index_url == "custom"
    assert config.find_links == ()


def test_pip_config_file_devnull_disables_files(tmp_path: Path) -> None:
    """PIP_CONFIG_FILE=os.devnull turns off every file; PIP_* variables still apply."""
    env = _env(tmp_path, PIP_CONFIG_FILE=os.devnull, PIP_FIND_LINKS="/w")
    global_file = _write(tmp_path / "etc" / "pip.conf", "[global]\nindex-url = g\n")
    _write(Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf", "[global]\nindex-url = user\n")
    assert load_pip_config(env, global_files=[global_file]) == PipConfig(find_links=("/w",))


def test_xdg_config_dirs_are_global_files(tmp_path: Path) -> None:
    """Without an override, $XDG_CONFIG_DIRS/pip/pip.conf is a global file."""
    xdg = tmp_path / "xdg"
    _write(xdg / "pip" / "pip.conf", "[global]\nextra-index-url = https://xdg/simple\n")
    env = _env(tmp_path, XDG_CONFIG_DIRS=str(xdg))
    # /etc/pip.conf of this machine may add settings; only check what xdg gives.
    assert "https://xdg/simple" in load_pip_config(env).extra_index_urls


def test_bad_timeout_is_an_input_error(tmp_path: Path) -> None:
    """A non-numeric timeout names where it came from."""
    env = _env(tmp_path, PIP_DEFAULT_TIMEOUT="soon")
    with pytest.raises(InputError, match="PIP_DEFAULT_TIMEOUT"):
        load_pip_config(env, global_files=[])


def test_no_index_is_a_flag_from_files_and_pip_no_index(tmp_path: Path) -> None:
    """pip's ``no-index`` is read as pip reads a flag: ``true``/``yes``/``1``, ``PIP_NO_INDEX``."""
    _write(tmp_path / "home/.config/pip/pip.conf", "[global]\nno-index = yes\n")
    assert load_pip_config(_env(tmp_path), global_files=[]).no_index
    assert not load_pip_config(_env(tmp_path, PIP_NO_INDEX="off"), global_files=[]).no_index
    assert load_pip_config({"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull}).no_index


def test_bad_flag_is_an_input_error(tmp_path: Path) -> None:
    """A flag that is no boolean names where it came from, as pip refuses it."""
    with pytest.raises(InputError, match=r"PIP_NO_INDEX.*not a boolean"):
        load_pip_config(_env(tmp_path, PIP_NO_INDEX="maybe"), global_files=[])


def test_broken_file_is_skipped(tmp_path: Path) -> None:
    """A config file that is not INI is ignored rather than crashing."""
    env = _env(tmp_path)
    _write(Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf", "index-url = no section\n")
    assert load_pip_config(env, global_files=[]) == PipConfig()


def test_config_import_does_not_load_httpx() -> None:
    """Importing crosspin.settings keeps start-up light: no httpx."""
    code = "import sys, crosspin.settings; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- [tool.crosspin] ---------------------------------------------------------


def test_missing_pyproject_gives_defaults(tmp_path: Path) -> None:
    """No pyproject.toml means no tool settings."""
    assert load_tool_config(tmp_path / "pyproject.toml") == ToolConfig()


def test_missing_table_gives_defaults(tmp_path: Path) -> None:
    """A pyproject.toml without [tool.crosspin] gives defaults."""
    path = _write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n[tool.other]\na = 1\n")
    assert load_tool_config(path) == ToolConfig()


def test_full_table(tmp_path: Path) -> None:
    """Every documented key is read, kebab-case."""
    path = _write(
        tmp_path / "pyproject.toml",
        """
[tool.crosspin]
python = ">=3.10,<3.14"
platforms = ["linux-x86_64", "macos-arm64"]
index-url = "https://example.com/simple"
extra-index-urls = ["https://a/simple", "https://b/simple"]
find-links = ["./wheels"]
generate-hashes = true
allow-unsafe = false
annotation-style = "line"
exclude-newer = "2024-05-01T00:00:00Z"
""",
    )
    assert load_tool_config(path) == ToolConfig(
        python=">=3.10,<3.14",
        platforms=("linux-x86_64", "macos-arm64"),
        index_url="https://example.com/simple",
        extra_index_urls=("https://a/simple", "https://b/simple"),
        find_links=("./wheels",),
        generate_hashes=True,
        allow_unsafe=False,
        annotation_style="line",
        exclude_newer="2024-05-01T00:00:00Z",
    )


def test_snake_case_keys_and_toml_datetime(tmp_path: Path) -> None:
    """snake_case spellings work and a TOML datetime becomes ISO text."""
    path = _write(
        tmp_path / "pyproject.toml",
        "[tool.crosspin]\ngenerate_hashes = true\nexclude-newer = 2024-05-01T12:00:00Z\n",
    )
    config = load_tool_config(path)
    assert config.generate_hashes is True
    assert config.exclude_newer is not None
    assert datetime.datetime.fromisoformat(config.exclude_newer) == datetime.datetime(
        2024, 5, 1, 12, tzinfo=datetime.timezone.utc
    )


def test_single_string_is_a_list_of_one(tmp_path: Path) -> None:
    """platforms = "linux-x86_64" is taken as a one-element list."""
    path = _write(tmp_path / "pyproject.toml", '[tool.crosspin]\nplatforms = "linux-x86_64"\n')
    assert load_tool_config(path).platforms == ("linux-x86_64",)


def test_all_problems_reported_together_with_locations(tmp_path: Path) -> None:
    """Unknown keys and wrong types are collected, each at tool.crosspin.<key>."""
    path = _write(
        tmp_path / "pyproject.toml",
        "[tool.crosspin]\nindex_urls = 'x'\ngenerate-hashes = 'yes'\n"
        "annotation-style = 'fancy'\nplatforms = ['amiga-m68k']\nexclude-newer = 'later'\n"
        "find-links = [1]\n",
    )
    with pytest.raises(InputError) as info:
        load_tool_config(path)
    locations = [p.location for p in info.value.problems]
    assert locations == [
        "pyproject.toml: tool.crosspin.index_urls",
        "pyproject.toml: tool.crosspin.generate-hashes",
        "pyproject.toml: tool.crosspin.annotation-style",
        "pyproject.toml: tool.crosspin.platforms",
        "pyproject.toml: tool.crosspin.exclude-newer",
        "pyproject.toml: tool.crosspin.find-links",
    ]
    assert "unknown key" in info.value.problems[0].reason
    assert "amiga-m68k" in info.value.problems[3].reason


def test_invalid_toml_is_an_input_error(tmp_path: Path) -> None:
    """A syntax error in pyproject.toml is one clear input error, not a traceback."""
    path = _write(tmp_path / "pyproject.toml", "[tool.crosspin\n")
    with pytest.raises(InputError, match=r"pyproject\.toml: invalid TOML"):
        load_tool_config(path)


def test_table_must_be_a_table(tmp_path: Path) -> None:
    """tool.crosspin = 1 is reported at tool.crosspin."""
    path = _write(tmp_path / "pyproject.toml", "[tool]\ncrosspin = 1\n")
    with pytest.raises(InputError, match=r"pyproject\.toml: tool\.crosspin: must be a table"):
        load_tool_config(path)


def test_pip_tools_file_is_the_first_found_beside_the_inputs(tmp_path: Path) -> None:
    """.pip-tools.toml beats pyproject.toml, the inputs' folder beats the current one."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.pip-tools]\ndry-run = true\n",
                                             encoding="utf-8")
    (tmp_path / "sub" / "pyproject.toml").write_text("[tool.pip-tools]\npre = true\n",
                                                     encoding="utf-8")
    (tmp_path / "sub" / ".pip-tools.toml").write_text(
        "[tool.pip-tools]\nquiet = true\n[tool.pip-tools.sync]\nask = true\n", encoding="utf-8")
    with chdir(tmp_path):
        config = load_config(["sub/requirements.in"], ConfigChoice(), "compile")
        assert dict(config.piptools) == {"quiet": True}
        assert config.piptools_label == "sub/.pip-tools.toml"
        assert dict(load_config(["requirements.in"], ConfigChoice(), "compile").piptools) == {
            "dry-run": True}
        given = load_config(["sub/requirements.in"], ConfigChoice(path="pyproject.toml"),
                            "sync")
        assert dict(given.piptools) == {"dry-run": True}
        assert load_config(["requirements.in"], ConfigChoice(enabled=False),
                           "compile").digest is None
