"""Shared pytest fixtures: packse scenarios, built indexes and loopback index servers.

The test-only ``fixtures`` package lives at the repository root (it is not
part of the installed ``crosspin`` distribution), so it is put on
``sys.path`` here. See ``fixtures/README.md`` for the whole toolbox.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from fixtures.catalog import IndexFactory, ScenarioIndexes  # noqa: E402
from fixtures.hostile import HostileIndex  # noqa: E402
from fixtures.scenarios import Scenario, load_scenarios  # noqa: E402
from tests.helpers import UNCAUGHT  # noqa: E402


@pytest.fixture(autouse=True)
def _resolve_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests compile the same inputs again and again to check what resolving gives.

    Reusing the last lock (crosspin.pipeline._memo) would answer those from the
    store, so it is off here; tests/test_memo.py turns it on and checks it.
    """
    monkeypatch.setenv("CROSSPIN_MEMO", "0")


@pytest.fixture(autouse=True)
def _no_crash_passes() -> Iterator[None]:
    """An exception escaping the CLI (``run_cli``) fails the test, whatever it asserted.

    ``run_cli`` turns a crash into exit code 1 and a traceback on stderr, as a
    shell would show it; a test that expects "a non-zero exit" must not pass
    on a crash.
    """
    UNCAUGHT.clear()
    yield
    crashes = list(UNCAUGHT)
    UNCAUGHT.clear()
    if crashes:
        pytest.fail(f"crosspin crashed (uncaught {type(crashes[0]).__name__}: {crashes[0]})",
                    pytrace=False)


@pytest.fixture(scope="session")
def scenarios_root() -> Path:
    """The packse scenario tree: $CROSSPIN_SCENARIOS, else ../shared/scenarios."""
    configured = os.environ.get("CROSSPIN_SCENARIOS")
    root = Path(configured) if configured else REPO_ROOT.parent / "shared" / "scenarios"
    if not root.is_dir():
        pytest.skip(f"packse scenarios not found at {root} (set CROSSPIN_SCENARIOS)")
    return root


@pytest.fixture(scope="session")
def scenarios(scenarios_root: Path) -> list[Scenario]:
    """Every scenario, parsed, sorted by name."""
    return load_scenarios(scenarios_root)


@pytest.fixture(scope="session")
def scenario_indexes(
    scenarios: list[Scenario], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScenarioIndexes]:
    """Every scenario built once and served by one multi-index loopback server."""
    with ScenarioIndexes(scenarios, tmp_path_factory.mktemp("scenario-indexes")) as indexes:
        yield indexes


@pytest.fixture
def make_index(tmp_path: Path) -> Iterator[IndexFactory]:
    """Factory for ad-hoc indexes: ``make_index({"a": {"1.0.0": {}}}, api="json")``."""
    factory = IndexFactory(tmp_path / "indexes")
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[HostileIndex]:
    """An empty hostile index (``fixtures.hostile``); servers it ``start()``-ed stop at teardown."""
    index = HostileIndex(tmp_path / "hostile-index")
    try:
        yield index
    finally:
        index.close()


@pytest.fixture
def plain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Output as a pipe sees it: no colour, this test's own cache, no CUSTOM_COMPILE_COMMAND."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("CUSTOM_COMPILE_COMMAND", raising=False)
