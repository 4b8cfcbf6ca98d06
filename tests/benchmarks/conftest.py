"""Fixtures for benchmark tests: the serving tests' real server processes."""

from tests.inference.conftest import server_factory  # noqa: F401 - a fixture, registered for this folder by import
