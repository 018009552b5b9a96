"""Read the QR text out of a photo (PNG or JPEG) of a printed or on-screen certificate.

A plain zxing-cpp read handles ordinary photos in a few milliseconds. Only when it finds
nothing do we try the fallbacks, which target small, slightly blurred codes: find the
regions of the image that are dense with edges (a QR code is), crop each, upscale it so
that a module spans a few pixels, sharpen it hard with an unsharp mask and read again.
Everything works on crops, so a failing 1080p photo costs tens of milliseconds, not
hundreds.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Final

import zxingcpp
from PIL import Image, ImageChops, ImageFilter, UnidentifiedImageError

from yilu.protocol.errors import InputTooLargeError, MalformedInputError
from yilu.protocol.reasons import ReasonCode

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
_MIN_REGION_PX: Final = 48  # smaller than this no QR version 17+ code can be read

# Versions 17-22 are 85-105 modules wide; with the quiet zone a code spans ~100 modules.
_MODULES_ACROSS: Final = 100
_TARGET_MODULE_PX: Final = 5.5
_MAX_UPSCALE: Final = 3.0
_MIN_SCALE: Final = 0.5
_CROP_MARGIN: Final = 0.08  # of the region's side, for a quiet zone the map cut into
_MAX_CROP_PIXELS: Final = 1_500_000  # after upscaling; bounds the cost of one attempt

# Unsharp masks tried on each rescaled crop: (radius in modules, percent).
_SHARPEN: Final = ((0.3, 800), (0.45, 2000))


def _error(message: str) -> MalformedInputError:
    return MalformedInputError(message, code=ReasonCode.MALFORMED)


def _too_large(message: str) -> InputTooLargeError:
    return InputTooLargeError(message, code=ReasonCode.MALFORMED)


def _load_gray(data: bytes) -> Image.Image:
    """Decode ``data`` into an 8-bit grayscale image, refusing oversized input."""
    if len(data) > MAX_IMAGE_BYTES:
        raise _too_large(f"image is larger than {MAX_IMAGE_BYTES} bytes")
    try:
        image = Image.open(io.BytesIO(data), formats=_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large(f"image has more than {MAX_PIXELS} pixels") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise _error("not a readable PNG or JPEG image") from exc
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_large(f"image has more than {MAX_PIXELS} pixels")
    if width < 1 or height < 1:
        raise _error("image is empty")
    try:
        # A colour JPEG can be decoded straight to grayscale: about twice as fast.
        image.draft("L", None)
        image.load()
        return _to_gray(image)
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # truncated, corrupt
        raise _error("not a readable PNG or JPEG image") from exc


def _to_gray(image: Image.Image) -> Image.Image:
    """Flatten transparency onto white (a QR exported on a transparent background) and go L."""
    if image.mode == "L":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        return flat.convert("L")
    return image.convert("L")


def _read(image: Image.Image, *, try_downscale: bool) -> str | None:
    """One zxing-cpp pass: the first non-empty text, preferring a ``YL1:`` one."""
    results = zxingcpp.read_barcodes(image, formats=_QR, try_downscale=try_downscale)
    texts = [r.text for r in results if r.text]
    for text in texts:
        if text.startswith(_PREFIX):
            return text
    return texts[0] if texts else None


def _edge_map(gray: Image.Image, block: int) -> Image.Image:
    """Mean absolute horizontal + vertical gradient of each ``block`` x ``block`` square."""
    width, height = gray.size
    core = gray.crop((0, 0, width - 1, height - 1))
    dx = ImageChops.difference(core, gray.crop((1, 0, width, height - 1)))
    dy = ImageChops.difference(core, gray.crop((0, 1, width - 1, height)))
    return ImageChops.add(dx, dy).reduce(block)


def _components(cells: bytes, map_w: int, map_h: int, threshold: int) -> list[tuple[int, int, int, int, int]]:
    """8-connected runs of blocks scoring >= ``threshold``: (mass, x0, y0, x1, y1) in blocks."""
    seen = bytearray(len(cells))
    found: list[tuple[int, int, int, int, int]] = []
    for start, value in enumerate(cells):
        if value < threshold or seen[start]:
            continue
        seen[start] = 1
        stack = [start]
        mass = 0
        x0, y0, x1, y1 = map_w, map_h, -1, -1
        while stack:
            idx = stack.pop()
            mass += cells[idx]
            y, x = divmod(idx, map_w)
            x0, x1, y0, y1 = min(x0, x), max(x1, x), min(y0, y), max(y1, y)
            for ny in range(max(0, y - 1), min(map_h, y + 2)):
                row = ny * map_w
                for nx in range(max(0, x - 1), min(map_w, x + 2)):
                    nxt = row + nx
                    if not seen[nxt] and cells[nxt] >= threshold:
                        seen[nxt] = 1
                        stack.append(nxt)
        found.append((mass, x0, y0, x1 + 1, y1 + 1))
    found.sort(reverse=True)
    return found


def _candidate_regions(gray: Image.Image) -> list[tuple[int, int, int, int]]:
    """Boxes (left, top, right, bottom) of edge-dense, squarish regions, best first.

    A QR code is usually the busiest thing in the picture, so the strict threshold finds
    it alone; the looser one catches a blurrier code that is less busy than nearby text.
    """
    width, height = gray.size
    block = max(_MIN_BLOCK, -(-max(width, height) // _MAP_SIDE))
    if width < 2 * block or height < 2 * block:
        return [(0, 0, width, height)]
    emap = _edge_map(gray, block)
    map_w, map_h = emap.size
    cells = emap.tobytes()
    peak = max(cells)
    boxes: list[tuple[int, int, int, int]] = []
    for fraction in _EDGE_FRACTIONS:
        threshold = max(_MIN_EDGE_SCORE, int(peak * fraction))
        for _, x0, y0, x1, y1 in _components(cells, map_w, map_h, threshold):
            # One block of margin: the quiet zone, and modules of partly busy blocks.
            box = (
                max(0, (x0 - 1) * block),
                max(0, (y0 - 1) * block),
                min(width, (x1 + 1) * block),
                min(height, (y1 + 1) * block),
            )
            side_w, side_h = box[2] - box[0], box[3] - box[1]
            if min(side_w, side_h) < _MIN_REGION_PX or min(side_w, side_h) < 0.5 * max(side_w, side_h):
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
        scale = min(scale, max(1.0, budget))
        if abs(scale - 1.0) > 0.05:
            size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
            crop = crop.resize(size, Image.Resampling.BICUBIC, reducing_gap=None)
        yield crop, module_px * scale


def read_qr_text(data: bytes) -> str:
    """Decode the first QR code found in a PNG/JPEG (bytes).

    Tries a plain zxing-cpp read first; only if that finds nothing, crops the edge-dense
    regions of the image, upscales and sharpens each and reads again. Among several codes
    in one read, a ``YL1:`` one is preferred, else the first with non-empty text.

    Raises :class:`InputTooLargeError` for files over ``MAX_IMAGE_BYTES`` or images over
    ``MAX_PIXELS``, and :class:`MalformedInputError` for bytes that are not a readable
    PNG/JPEG or an image in which no QR code decodes.
    """
    gray = _load_gray(data)
    text = _read(gray, try_downscale=True)
    if text is not None:
        return text
    for crop, module_px in _rescaled_crops(gray):
        for radius, percent in _SHARPEN:
            sharp = crop.filter(ImageFilter.UnsharpMask(radius * module_px, percent, 0))
            text = _read(sharp, try_downscale=False)
            if text is not None:
                return text
    raise _error("no QR code found in the image")
