"""Text forms of extensions' types, the k-th of each: PostGIS geometries and geographies
(EWKT, the subtype and SRID of the column's modifier) and pgvector vectors (its
dimensions). Distinct k give distinct values, as every space must."""

from __future__ import annotations

import re
from dataclasses import dataclass

from repro.synth.value_spaces import Ints

_SUBTYPES = ("point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon")


def _coordinates(k: int) -> tuple[float, float]:
    """Longitude and latitude (valid for geographies too), ~1 km apart, never repeating."""
    lon = -179.0 + (k % 3580) * 0.1
    lat = -80.0 + (k // 3580 % 1600) * 0.1 + (k // (3580 * 1600)) * 1e-7
    return round(lon, 7), round(lat, 9)


def _shape(subtype: str, k: int, dims: str = "") -> str:
    """WKT of one shape; ``dims``: "Z", "M" or "ZM" (each extra ordinate 0)."""
    x, y = _coordinates(k)
    d = 0.01
    e = " 0" * len(dims)
    point = f"{x} {y}{e}"
    line = f"{x} {y}{e},{x + d} {y + d}{e}"
    ring = f"{x} {y}{e},{x + d} {y}{e},{x + d} {y + d}{e},{x} {y + d}{e},{x} {y}{e}"
    tag = "M" if dims == "M" else ""  # EWKT: three ordinates mean Z unless said M
    return {
        "point": f"POINT({point})",
        "linestring": f"LINESTRING({line})",
        "polygon": f"POLYGON(({ring}))",
        "multipoint": f"MULTIPOINT(({point}))",
        "multilinestring": f"MULTILINESTRING(({line}))",
        "multipolygon": f"MULTIPOLYGON((({ring})))",
    }[subtype].replace("(", f"{tag}(", 1)


@dataclass
class Geometry:
    """``geometry``, ``geometry(Polygon,4326)``, ``geography(Point)``..."""

    base: str
    typmod: str | None
    size: int | None = None

    def texts(self, ks: Ints) -> list[str]:
        subtype, srid, dims = "point", 4326 if self.base == "geography" else 0, ""
        if self.typmod:
            parts = [p.strip() for p in self.typmod.split(",")]
            found = re.match(r"^(.*?)(ZM|Z|M)?$", parts[0], flags=re.IGNORECASE)
            name = (found.group(1) if found else parts[0]).lower()
            dims = (found.group(2) or "").upper() if found and name in _SUBTYPES else ""
            if name in _SUBTYPES:
                subtype = name
            if len(parts) > 1 and parts[1].lstrip("-").isdigit():
                srid = int(parts[1])
        prefix = f"SRID={srid};" if srid > 0 else ""
        return [prefix + _shape(subtype, k, dims) for k in ks.tolist()]


@dataclass
class Vector:
    """``vector(n)``: n numbers in [-1, 1), the first one k's own (distinct k, distinct
    vectors)."""

    typmod: str | None
    size: int | None = None

    def texts(self, ks: Ints) -> list[str]:
        dims = int(self.typmod) if self.typmod and self.typmod.isdigit() else 3
        out = []
        for k in ks.tolist():
            values = [((k * 2654435761 + i * 40503) % 20000) / 10000 - 1 for i in range(dims)]
            values[0] = round(-1 + (k % 1_000_000) / 500_000 + (k // 1_000_000) * 1e-9, 9)
            out.append(
                "[" + ",".join(f"{v:g}" if i else repr(v) for i, v in enumerate(values)) + "]"
            )
        return out
