"""A real certificate, printed as a QR, photographed badly, verified: the inspector's path."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageFilter

from issuer import make_qr
from protocol import yl1
from protocol.reasons import ReasonCode as R
from testkit import NOW, World
from verifier import Verifier, load_bundle


def photo_of(text: str, *, module_px: int, angle: float, blur: float, seed: int) -> bytes:
    """The QR pasted into a grey 1920x1080 scene, rotated and blurred, saved as JPEG."""
    buf = io.BytesIO()
    make_qr(text).save(buf, kind="png", scale=module_px, border=4)
    code = Image.open(io.BytesIO(buf.getvalue())).convert("L").rotate(angle, expand=True, fillcolor=200)
    rng = random.Random(seed)
    scene = Image.frombytes("L", (1920, 1080), bytes(150 + rng.randrange(60) for _ in range(1920 * 1080)))
    scene.paste(code, (rng.randrange(0, 1920 - code.width), rng.randrange(0, 1080 - code.height)))
    out = io.BytesIO()
    scene.filter(ImageFilter.GaussianBlur(blur)).save(out, format="JPEG", quality=75)
    return out.getvalue()


def test_photo_and_text_give_the_same_verdicts(world: World) -> None:
    text = yl1.encode(world.issue())
    jpeg = photo_of(text, module_px=4, angle=6, blur=0.8, seed=3)
    verifier = Verifier(load_bundle(world.bundle(), pinned_roots=[world.root.public]), country="KZ")
    from_photo, from_text = verifier.verify(jpeg, at=NOW), verifier.verify(text, at=NOW)
    assert from_photo.accepted and from_text.accepted
    assert from_photo.credential == from_text.credential
    # A country without an agreement rejects both the same way.
    uz = Verifier(verifier.snapshot, country="UZ")
    assert uz.verify(jpeg, at=NOW).codes == uz.verify(text, at=NOW).codes == (R.NOT_RECOGNISED,)
