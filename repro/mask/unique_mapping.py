"""Masking a column under a unique constraint or unique index: every distinct source value
mapped before the first row is written, and the mapping proven injective."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from repro.errors import DataGenerationError
from repro.mask.transforms import MAX_RETRIES, rederive


class UniqueMapping:
    """Every distinct source value mapped, proven injective before the first row is written.
    On a collision the smallest source value keeps its output; the others, in sorted order,
    are re-derived with a retry counter in the HMAC message. So the mapping depends on the
    set of values, never on their order.

    ``fold`` is what the unique index compares (``lower`` for an index on ``lower(email)``):
    outputs must differ after it, not only as written."""

    def __init__(
        self,
        transformer: Callable[[str], str | None],
        mapping: dict[str, str | None],
        resolved: int,
    ) -> None:
        self.inner = transformer
        self._mapping = mapping
        self.collisions_resolved = resolved
        self.spec: str = getattr(transformer, "spec", "")
        self.leak: str = getattr(transformer, "leak", "identifying")

    def identifying(self, value: str) -> bool:
        judge = getattr(self.inner, "identifying", None)
        return bool(judge(value)) if judge is not None else True

    def can_differ(self, value: str) -> bool:
        judge = getattr(self.inner, "can_differ", None)
        return bool(judge(value)) if judge is not None else True

    @classmethod
    def build(
        cls,
        transformer: Callable[[str], str | None],
        values: Iterable[str],
        fold: Callable[[str], str] | None = None,
    ) -> UniqueMapping:
        derive = rederive(transformer)
        same = fold or _identity
        column = getattr(transformer, "column", "a unique column")
        spec = getattr(transformer, "spec", "?")
        mapping: dict[str, str | None] = {}
        owner: dict[str, str] = {}
        losers: list[str] = []
        for value in set(values):
            out = (derive or _plain(transformer))(value, 0)
            mapping[value] = out
            if out is None:
                continue  # NULLs never collide
            held = owner.get(same(out))
            if held is None:
                owner[same(out)] = value
            elif value < held:
                owner[same(out)] = value
                losers.append(held)
            else:
                losers.append(value)
        if losers and derive is None:
            raise DataGenerationError(
                f"{column}: {spec!r} maps {len(losers) + 1} or more distinct values of a "
                "unique column to the same output",
                hint="use hash, fake:<kind> or mask for unique columns",
            )
        for value in sorted(losers):
            assert derive is not None
            for attempt in range(1, MAX_RETRIES + 1):
                out = derive(value, attempt)
                if out is not None and same(out) not in owner:
                    owner[same(out)] = value
                    mapping[value] = out
                    break
            else:
                walk = getattr(transformer, "walk", None)
                start = mapping[value]
                for out in walk(value, start) if walk is not None and start is not None else ():
                    if out != value and same(out) not in owner:
                        owner[same(out)] = value
                        mapping[value] = out
                        break
                else:
                    raise DataGenerationError(
                        f"{column}: {spec!r} cannot give {len(mapping)} distinct values of a "
                        f"unique column distinct outputs ({MAX_RETRIES} retries)",
                        hint="too few free characters or values: use hash or a wider fake kind",
                    )
        return cls(transformer, mapping, len(losers))

    def __call__(self, value: str) -> str | None:
        try:
            return self._mapping[value]
        except KeyError:
            pass
        if value.endswith(" "):
            # char(n) values come padded from COPY but unpadded from ::text
            stripped = value.rstrip(" ")
            if stripped in self._mapping:
                out = self._mapping[stripped]
                return None if out is None else out + value[len(stripped) :]
        return self.inner(value)

    def __len__(self) -> int:
        return len(self._mapping)


def _identity(text: str) -> str:
    return text


def _plain(transformer: Callable[[str], str | None]) -> Callable[[str, int], str | None]:
    def derive(value: str, attempt: int) -> str | None:
        return transformer(value)

    return derive
