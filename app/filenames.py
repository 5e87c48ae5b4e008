"""Filenames in Content-Disposition headers (RFC 6266): an ASCII `filename` for old clients and the
exact name as UTF-8 in `filename*` (RFC 8187), so no name can break or extend the header."""

from __future__ import annotations

import re
from urllib.parse import quote

from app.validation import one_line

_UNSAFE = re.compile(r"[^A-Za-z0-9!#$&+.^_`|~ -]")


def content_disposition(disposition: str, filename: str) -> str:
    name = one_line(filename) or "download"
    fallback = _UNSAFE.sub("_", name)
    if fallback == name:
        return f'{disposition}; filename="{name}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
