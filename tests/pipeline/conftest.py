"""Fixtures of the pipeline tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import PROJECT_INDEX


@pytest.fixture
def index(make_index: Any) -> Any:
    """A loopback index serving :data:`tests.helpers.PROJECT_INDEX`."""
    return make_index(PROJECT_INDEX)
