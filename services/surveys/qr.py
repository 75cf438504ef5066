"""QR codes of a campaign's public link, to print at the counter (segno: pure Python)."""

from __future__ import annotations

import io

import segno
from flask import Response

CONTENT_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def make(url: str, kind: str = "svg", scale: int = 8, title: str | None = None) -> bytes:
    """The QR code of ``url`` (error correction M: survives a smudged print) as SVG or PNG bytes."""
    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    if kind == "svg":
        code.save(out, kind="svg", scale=scale, border=4, xmldecl=False, title=title or url)
    elif kind == "png":
        code.save(out, kind="png", scale=scale, border=4)
    else:  # pragma: no cover - callers validate
        raise ValueError(f"unknown QR format {kind!r}")
    return out.getvalue()


def response(url: str, kind: str, scale: int, filename: str) -> Response:
    return Response(
        make(url, kind, scale),
        mimetype=CONTENT_TYPES[kind],
        headers={
            "Content-Disposition": f'inline; filename="{filename}.{kind}"',
            "Cache-Control": "public, max-age=3600",
            "X-Content-Type-Options": "nosniff",
        },
    )
