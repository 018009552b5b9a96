"""Read the QR text out of a photo (PNG or JPEG) of a printed or on-screen certificate.

A plain zxing-cpp read handles ordinary photos in a few milliseconds. Only when it finds
nothing do we try the fallbacks, which target small, slightly blurred codes: find the
regions of the image that are dense with edges (a QR code is), crop each, rescale it so
that a module spans about 5 pixels (upscaling the small codes), sharpen it hard with an
unsharp mask sized to the module and read again. Everything works on a few bounded crops,
so even a photo in which nothing decodes costs tens of milliseconds at 1080p.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Final

import zxingcpp
from PIL import Image, ImageChops, ImageFilter, ImageOps, UnidentifiedImageError

from protocol.errors import InputTooLargeError, MalformedInputError
from protocol.reasons import ReasonCode

MAX_IMAGE_BYTES: Final = 20 * 1024 * 1024
MAX_PIXELS: Final = 40_000_000

#: Pillow decoders we allow on untrusted bytes (the JPEG one also opens phones' MPO files).
_FORMATS: Final = ("PNG", "JPEG")
_QR: Final = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
_PREFIX: Final = "YL1:"

# Region finding: the image is cut into square blocks; a block's score is its mean
# absolute gradient. Blocks are sized so the map is about _MAP_SIDE blocks across.
_MAP_SIDE: Final = 160
_MIN_BLOCK: Final = 8
_MIN_EDGE_SCORE: Final = 6  # mean |gradient| below which a block counts as flat
#: A block is "busy" at this fraction of the busiest block's score; strict first.
_EDGE_FRACTIONS: Final = (0.5, 0.25)
_MAX_REGIONS: Final = 4
_MAX_BUSY_FRACTION: Final = 0.25  # busier than this, the map cannot localise anything
_MIN_REGION_PX: Final = 48  # smaller than this no QR version 17+ code can be read

# Versions 17-22 are 85-105 modules wide; with the quiet zone a code spans ~100 modules.
_MODULES_ACROSS: Final = 100
_TARGET_MODULE_PX: Final = 5.5
_MAX_UPSCALE: Final = 3.0
_MIN_SCALE: Final = 0.5
_MIN_BUDGET_SCALE: Final = 0.25  # the pixel budget may shrink a huge crop down to this
_CROP_MARGIN: Final = 0.08  # of the region's side, for a quiet zone the map cut into
_MAX_CROP_PIXELS: Final = 1_500_000  # after upscaling; bounds the cost of one attempt

# Unsharp masks tried on each rescaled crop: (radius in modules, percent).
_SHARPEN: Final = ((0.3, 800), (0.45, 2000))


def _error(message: str) -> MalformedInputError:
    return MalformedInputError(message, code=ReasonCode.UNREADABLE)


def _too_large(message: str) -> InputTooLargeError:
    return InputTooLargeError(message, code=ReasonCode.UNREADABLE)


def _load_gray(data: bytes) -> Image.Image:
    """Decode ``data`` into an 8-bit grayscale image, refusing oversized input."""
    if len(data) > MAX_IMAGE_BYTES:
        raise _too_large(f"image is larger than {MAX_IMAGE_BYTES} bytes")
    try:
        image = Image.open(io.BytesIO(data), formats=_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large(f"image has more than {MAX_PIXELS} pixels") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise _error("not a readable PNG or JPEG image") from exc
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_large(f"image has more than {MAX_PIXELS} pixels")
    # An image without pixels never gets here: Pillow refuses a PNG or JPEG of width or
    # height 0 when opening it (tests/verifier/test_photo_decisions.py).
    try:
        # A colour JPEG can be decoded straight to grayscale: about twice as fast.
        image.draft("L", None)
        image.load()
        return _to_gray(image)
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # truncated, corrupt
        raise _error("not a readable PNG or JPEG image") from exc


def _to_gray(image: Image.Image) -> Image.Image:
    """Flatten transparency onto white (a QR exported on a transparent background) and go L.

    Transparency is an alpha channel or, in a PNG, a transparent colour (``tRNS``) of a
    palette, gray or RGB image: Pillow gives the latter as ``info["transparency"]``."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, "white")
        flat.alpha_composite(rgba)
        return flat.convert("L")
    if image.mode == "L":
        return image
    return image.convert("L")


def _read(image: Image.Image, *, downscale: bool) -> str | None:
    """One zxing-cpp pass: the first non-empty text, preferring a ``YL1:`` one.

    The QR detector finds codes at any angle, so ``try_rotate`` (which re-scans turned
    copies, for linear barcodes) only costs time; ``try_invert`` costs a third of a pass
    on a busy photo, so light-on-dark codes get one explicit pass of their own, last.
    """
    results = zxingcpp.read_barcodes(
        image, formats=_QR, try_rotate=False, try_downscale=downscale, try_invert=False
    )
    texts = [r.text for r in results if r.text]
    for text in texts:
        if text.startswith(_PREFIX):
            return text
    return texts[0] if texts else None


def _edge_map(gray: Image.Image, block: int) -> Image.Image:
    """Mean absolute horizontal + vertical gradient of each ``block`` x ``block`` square."""
    width, height = gray.size
    # ImageChops works on the overlap of its images, aligned top left: dx is (width - 1) x
    # height, dy width x (height - 1), their sum the pixels with a right and a lower neighbour.
    dx = ImageChops.difference(gray, gray.crop((1, 0, width, height)))
    dy = ImageChops.difference(gray, gray.crop((0, 1, width, height)))
    return ImageChops.add(dx, dy).reduce(block)


def _components(cells: bytes, map_w: int, threshold: int) -> list[tuple[int, int, int, int, int]]:
    """8-connected runs of blocks scoring >= ``threshold``: (mass, x0, y0, x1, y1) in blocks.

    ``cells`` is the map with a one-block border of zeros, ``map_w`` its padded width, so
    neighbours need no bounds checks; coordinates returned are those of the unpadded map.
    """
    busy = bytearray(cells.translate(bytes(int(v >= threshold) for v in range(256))))
    steps = (-map_w - 1, -map_w, -map_w + 1, -1, 1, map_w - 1, map_w, map_w + 1)
    found: list[tuple[int, int, int, int, int]] = []
    # Each cell is cleared as its component takes it, so it is taken once, and the next
    # search finds the first cell of a component not yet seen: that cell is also the
    # component's first in reading order, hence on its top row.
    start = busy.find(1)
    while start != -1:
        busy[start] = 0
        stack = [start]
        mass = 0
        hi = start
        left = right = start % map_w
        while stack:
            idx = stack.pop()
            mass += cells[idx]
            hi = max(hi, idx)
            x = idx % map_w
            left, right = min(left, x), max(right, x)
            for step in steps:
                nxt = idx + step
                if busy[nxt]:
                    busy[nxt] = 0
                    stack.append(nxt)
        found.append((mass, left - 1, start // map_w - 1, right, hi // map_w))
        start = busy.find(1, start)
    found.sort(reverse=True)
    return found


def _candidate_regions(gray: Image.Image) -> list[tuple[int, int, int, int]]:
    """Boxes (left, top, right, bottom) of edge-dense, squarish regions, best first.

    A QR code is usually the busiest thing in the picture, so the strict threshold finds
    it alone; the looser one catches a blurrier code that is less busy than nearby text.
    When a threshold marks much of the image busy (texture, noise), the whole image is
    the only region worth trying: a code that big would not need finding.
    """
    width, height = gray.size
    block = max(_MIN_BLOCK, -(-max(width, height) // _MAP_SIDE))
    whole = (0, 0, width, height)
    if width < 2 * block or height < 2 * block:
        return [whole]
    emap = ImageOps.expand(_edge_map(gray, block), border=1)  # of zeros (fill=0, the default)
    map_w = emap.width
    cells = emap.tobytes()
    peak = max(cells)
    boxes: list[tuple[int, int, int, int]] = []
    for fraction in _EDGE_FRACTIONS:
        threshold = max(_MIN_EDGE_SCORE, int(peak * fraction))
        if sum(cells.count(v) for v in range(threshold, 256)) > _MAX_BUSY_FRACTION * len(cells):
            found = [whole]
        else:
            found = [
                # One block of margin: the quiet zone, and modules of partly busy blocks.
                (
                    max(0, (x0 - 1) * block),
                    max(0, (y0 - 1) * block),
                    min(width, (x1 + 1) * block),
                    min(height, (y1 + 1) * block),
                )
                for _, x0, y0, x1, y1 in _components(cells, map_w, threshold)
            ]
        for box in found:
            side_w, side_h = box[2] - box[0], box[3] - box[1]
            if box != whole and (
                min(side_w, side_h) < _MIN_REGION_PX or min(side_w, side_h) < 0.5 * max(side_w, side_h)
            ):
                continue
            if any(_overlap(box, other) > 0.7 for other in boxes):
                continue
            boxes.append(box)
            if len(boxes) == _MAX_REGIONS:
                return boxes
    return boxes


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two boxes."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def _rescaled_crops(gray: Image.Image) -> Iterator[tuple[Image.Image, float]]:
    """Each candidate region, rescaled so a module spans about ``_TARGET_MODULE_PX``.

    Yields the crop and its module size in pixels (as estimated from the region's size).
    """
    width, height = gray.size
    for left, top, right, bottom in _candidate_regions(gray):
        pad = round(_CROP_MARGIN * max(right - left, bottom - top))
        crop = gray.crop(
            (max(0, left - pad), max(0, top - pad), min(width, right + pad), min(height, bottom + pad))
        )
        module_px = min(crop.size) / _MODULES_ACROSS
        scale = min(_MAX_UPSCALE, max(_MIN_SCALE, _TARGET_MODULE_PX / module_px))
        budget = (_MAX_CROP_PIXELS / (crop.width * crop.height)) ** 0.5
        scale = max(_MIN_BUDGET_SCALE, min(scale, budget))
        if abs(scale - 1.0) > 0.05:
            size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
            crop = crop.resize(size, Image.Resampling.BICUBIC, reducing_gap=None)
        else:
            scale = 1.0
        yield crop, module_px * scale


def read_qr_text(data: bytes) -> str:
    """Decode the first QR code found in a PNG/JPEG (bytes).

    Tries a plain zxing-cpp read first; only if that finds nothing, crops the edge-dense
    regions of the image, rescales (usually upscales) and sharpens each and reads again,
    then, last, reads the inverted image (a light-on-dark code on a dark-mode screen).
    Among several codes in one read, a ``YL1:`` one is preferred, else the first with
    non-empty text.

    Raises :class:`InputTooLargeError` for files over ``MAX_IMAGE_BYTES`` or images over
    ``MAX_PIXELS``, and :class:`MalformedInputError` for bytes that are not a readable
    PNG/JPEG or an image in which no QR code decodes.
    """
    gray = _load_gray(data)
    text = _read(gray, downscale=True)
    if text is not None:
        return text
    for crop, module_px in _rescaled_crops(gray):
        for radius, percent in _SHARPEN:
            sharp = crop.filter(ImageFilter.UnsharpMask(radius * module_px, percent, 0))
            text = _read(sharp, downscale=False)  # the crop is already at the right scale
            if text is not None:
                return text
    text = _read(ImageOps.invert(gray), downscale=True)  # a light-on-dark (dark mode) screen
    if text is not None:
        return text
    raise _error("no QR code found in the image")
