"""Fixtures shared with the dashboards tests."""

from tests.dashboards.conftest import seeded  # noqa: F401 - a fixture
