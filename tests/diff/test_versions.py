"""Tolerant version comparison: PEP 440, Debian, RPM, Alpine and wordy version strings."""

from __future__ import annotations

import pytest

from repro.diff.versions import classify, compare, parse_version


@pytest.mark.parametrize(
    ("old", "new", "step"),
    [
        ("2.1.0", "1.4.2", "major"),
        ("2.2.2", "2.3.0", "minor"),
        ("2.28.1", "2.28.2", "patch"),
        ("1.0", "1.0.0", "patch"),  # same release, other spelling
        ("2.0.0rc1", "2.0.0", "patch"),
        ("1.2.3+local", "1.2.3", "patch"),
        ("1!1.0", "2.0", "major"),  # PEP 440 epoch
        ("0.4.1", "0.5.0", "major"),  # 0.x: the minor is the breaking part
        ("0.4.1", "0.4.2", "minor"),
        ("2.36-9+deb12u4", "2.36-9+deb12u3", "patch"),  # Debian revision only
        ("1:2.36-9", "2.36-9", "major"),  # Debian epoch
        ("3.0.11-1~deb12u2", "3.1.0-1", "minor"),
        ("3.0.7-24.el9", "3.0.7-25.el9", "patch"),  # RPM release
        ("1.2.4-r2", "1.2.4-r3", "patch"),  # Alpine
        ("OpenSSL 3.0.11 19 Sep 2023", "OpenSSL 1.1.1w 11 Sep 2023", "major"),
        ("glibc 2.36", "glibc 2.31", "minor"),
        ("2024a-0+deb12u1", "2023c-2", "major"),
        ("latest", "stable", "other"),
        (None, "1.0", "other"),
    ],
)
def test_classify(old: object, new: object, step: str) -> None:
    assert classify(old, new) == step


def test_same_text_is_no_change() -> None:
    assert classify("1.0", "1.0") is None


def test_parse_is_total() -> None:
    for text in ["", "abc", "v1.2", "1..2", "99999999999999999999", "1.2.3.4.5.6"]:
        parse_version(text)  # never raises
    assert parse_version("v1.2") is not None and parse_version("v1.2").release == (1, 2)  # type: ignore[union-attr]


def test_compare() -> None:
    assert compare("1.4", "1.8") == -1
    assert compare("1.10", "1.9") == 1
    assert compare("1.0", "1.0.0") == 0
    assert compare("1:1.0", "2.0") == 1
    assert compare("x", "1") is None
