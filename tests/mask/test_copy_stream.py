"""COPY text escaping (repro.mask.copy_stream): the fast path changes nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from repro.mask.copy_stream import _ESCAPES, escape, unescape

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["", "\\", "\t", "\n", "\r", "a\\tb", "\\N", "x\ty\nz\r\\"]
)


@given(texts)
def test_escape_is_copys_escaping_and_unescape_undoes_it(text: str) -> None:
    assert escape(text) == text.translate(_ESCAPES)
    assert "\t" not in escape(text) and "\n" not in escape(text)
    assert unescape(escape(text)) == text
