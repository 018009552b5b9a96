"""Render ``YL1:`` text as a QR image (alphanumeric mode, ECC M, no silent ECC boost)."""

from __future__ import annotations

from pathlib import Path

import segno


def make_qr(text: str) -> segno.QRCode:
    """The QR symbol for ``text`` at ECC level M (docs/formats.md, "QR")."""
    return segno.make(text, error="m", boost_error=False, mode="alphanumeric", micro=False)


def qr_version(text: str) -> int:
    """The QR version ``text`` needs at ECC M (the number the QR size targets speak of)."""
    return int(make_qr(text).version)


def write_qr_png(text: str, path: Path, *, scale: int = 4) -> None:
    """Write the QR as a PNG (4 px per module and the standard 4-module quiet zone)."""
    make_qr(text).save(str(path), kind="png", scale=scale, border=4)
