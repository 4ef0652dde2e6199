"""Test suite. A package so that shared code is importable as ``tests.helpers``."""
