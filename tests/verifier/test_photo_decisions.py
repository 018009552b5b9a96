"""Decisions of verifier/_photo.py pinned: the documented bounds (docs/verifying.md, step 1:
<= 20 MiB, <= 40 Mpx), grayscale flattening, which code a read prefers, and the region
finder's helpers checked against plain reference implementations written here.

Images are real: codes made by segno, read by zxing-cpp.
"""

from __future__ import annotations

import io
import random
from collections import deque

import pytest
import segno
from PIL import Image

import verifier._photo as photo
from protocol.errors import InputTooLargeError, MalformedInputError
from protocol.reasons import ReasonCode
from verifier._photo import read_qr_text


def qr(text: str, scale: int, border: int = 4) -> Image.Image:
    buf = io.BytesIO()
    code = segno.make(text, error="m", boost_error=False, micro=False)
    code.save(buf, kind="png", scale=scale, border=border)
    return Image.open(io.BytesIO(buf.getvalue())).convert("L")


def encode(image: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


# -- bounds --------------------------------------------------------------------------------------


def test_the_bounds_are_the_documented_ones() -> None:
    assert photo.MAX_IMAGE_BYTES == 20 * 1024 * 1024
    assert photo.MAX_PIXELS == 40_000_000


def test_a_file_of_exactly_20_mib_is_read_and_one_byte_more_refused() -> None:
    code = encode(qr("YL1:EXACT", 4))
    exact = code + b"\0" * (photo.MAX_IMAGE_BYTES - len(code))  # trailing bytes after IEND are ignored
    assert len(exact) == 20 * 1024 * 1024
    assert read_qr_text(exact) == "YL1:EXACT"
    with pytest.raises(InputTooLargeError, match="image is larger than 20971520 bytes") as info:
        read_qr_text(exact + b"\0")
    assert info.value.code is ReasonCode.UNREADABLE


def test_an_image_of_exactly_max_pixels_is_decoded_and_one_pixel_more_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The check is on width x height, before decoding: shown with a small bound on a real
    # image (40 Mpx would cost seconds), then the documented bound on a header alone.
    image = qr("YL1:PIXELS", 3)
    width, height = image.size
    monkeypatch.setattr(photo, "MAX_PIXELS", width * height)
    assert read_qr_text(encode(image)) == "YL1:PIXELS"
    monkeypatch.setattr(photo, "MAX_PIXELS", width * height - 1)
    with pytest.raises(InputTooLargeError, match=f"more than {width * height - 1} pixels"):
        read_qr_text(encode(image))


def test_a_wide_image_is_judged_by_its_area_not_its_aspect() -> None:
    # 40,000,001 pixels in one row would pass a check on width / height.
    with pytest.raises(InputTooLargeError):
        read_qr_text(_png_header(40_000_001, 1))
    with pytest.raises(InputTooLargeError):
        read_qr_text(_png_header(8_000, 5_001))


def _png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    data = bytearray(encode(Image.new("L", (1, 1), 255)))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize("size", [(1, 1), (1, 5), (5, 1)])
def test_a_one_pixel_wide_image_is_an_image_without_a_code(size: tuple[int, int]) -> None:
    with pytest.raises(MalformedInputError, match="no QR code found") as info:
        read_qr_text(encode(Image.new("L", size, 255)))
    assert info.value.code is ReasonCode.UNREADABLE


@pytest.mark.parametrize("size", [(0, 5), (5, 0)])
def test_an_image_without_pixels_is_refused(size: tuple[int, int]) -> None:
    with pytest.raises(MalformedInputError) as info:
        read_qr_text(_png_header(*size))
    assert info.value.code is ReasonCode.UNREADABLE


def test_a_truncated_image_is_refused_as_unreadable() -> None:
    data = encode(qr("YL1:TRUNCATED", 4).convert("RGB"), "JPEG", quality=90)
    with pytest.raises(MalformedInputError, match="not a readable PNG or JPEG image") as info:
        read_qr_text(data[: len(data) // 2])
    assert info.value.code is ReasonCode.UNREADABLE


def test_a_colour_jpeg_is_decoded_to_grayscale_at_full_size() -> None:
    image = qr("YL1:COLOUR", 4)
    data = encode(Image.merge("RGB", (image, image, image)), "JPEG", quality=95)
    gray = photo._load_gray(data)
    assert (gray.mode, gray.size) == ("L", image.size)
    assert read_qr_text(data) == "YL1:COLOUR"


# -- grayscale -----------------------------------------------------------------------------------


def _dark_on_transparent(mode: str) -> Image.Image:
    code = qr("YL1:ALPHA", 4)
    alpha = code.point(lambda v: 255 - v)
    black = Image.new("L", code.size, 0)
    if mode == "LA":
        return Image.merge("LA", (black, alpha))
    if mode == "RGBA":
        return Image.merge("RGBA", (black, black, black, alpha))
    assert mode == "PA"
    pa = Image.new("PA", code.size, (0, 0))
    pa.putpalette([0, 0, 0] * 256)
    pa.putalpha(alpha)
    return pa


@pytest.mark.parametrize("mode", ["RGBA", "LA", "PA"])
def test_transparency_is_flattened_onto_white(mode: str) -> None:
    image = _dark_on_transparent(mode)
    assert image.mode == mode
    gray = photo._to_gray(image)
    assert gray.mode == "L"
    assert gray.getpixel((0, 0)) == 255  # transparent quiet zone -> white
    assert gray.tobytes() == qr("YL1:ALPHA", 4).tobytes()


def test_a_palette_image_with_a_transparent_colour_is_flattened_onto_white() -> None:
    code = qr("YL1:PALETTE", 4)
    pal = code.convert("P")
    index_of_white = pal.getpixel((0, 0))
    pal.info["transparency"] = index_of_white
    # The transparent colour is made black: only flattening onto white shows the code.
    palette = pal.getpalette() or []
    palette[3 * index_of_white : 3 * index_of_white + 3] = [0, 0, 0]
    pal.putpalette(palette)
    data = encode(pal)
    reopened = Image.open(io.BytesIO(data))
    assert reopened.mode == "P" and "transparency" in reopened.info
    gray = photo._to_gray(reopened)
    assert gray.getpixel((0, 0)) == 255
    assert read_qr_text(data) == "YL1:PALETTE"


def test_a_palette_image_without_transparency_keeps_its_colours() -> None:
    pal = Image.new("P", (4, 4), 0)
    pal.putpalette([10, 20, 30] + [0, 0, 0] * 255)
    assert "transparency" not in pal.info
    expected = Image.new("RGB", (1, 1), (10, 20, 30)).convert("L").getpixel((0, 0))
    assert photo._to_gray(pal).getpixel((0, 0)) == expected


def test_gray_images_are_kept_and_others_converted() -> None:
    gray = Image.new("L", (3, 3), 77)
    assert photo._to_gray(gray) is gray
    rgb = photo._to_gray(Image.new("RGB", (3, 3), (200, 100, 0)))
    expected = Image.new("RGB", (1, 1), (200, 100, 0)).convert("L").getpixel((0, 0))
    assert (rgb.mode, rgb.getpixel((1, 1))) == ("L", expected)
    # Opaque RGBA: flattening changes nothing, the colour is converted.
    rgba = photo._to_gray(Image.new("RGBA", (3, 3), (0, 0, 0, 255)))
    assert (rgba.mode, rgba.getpixel((0, 0))) == ("L", 0)
    half = photo._to_gray(Image.new("LA", (3, 3), (0, 128)))
    assert half.getpixel((0, 0)) == 127  # half-transparent black on white


# -- one read ------------------------------------------------------------------------------------


def _sheet(*codes: Image.Image) -> Image.Image:
    width = sum(c.width for c in codes) + 40 * len(codes)
    sheet = Image.new("L", (width, max(c.height for c in codes) + 40), 255)
    x = 20
    for code in codes:
        sheet.paste(code, (x, 20))
        x += code.width + 40
    return sheet


def test_a_read_prefers_the_yl1_code_wherever_it_is() -> None:
    for order in ((0, 1), (1, 0)):
        codes = [qr("HTTPS://LAB.EXAMPLE/A", 5), qr("YL1:OURS", 5)]
        sheet = _sheet(*(codes[i] for i in order))
        assert photo._read(sheet, downscale=True) == "YL1:OURS"


def test_without_a_yl1_code_a_read_gives_a_code_and_none_without_any() -> None:
    sheet = _sheet(qr("HTTPS://LAB.EXAMPLE/A", 5), qr("HTTPS://LAB.EXAMPLE/B", 5))
    assert photo._read(sheet, downscale=True) in {"HTTPS://LAB.EXAMPLE/A", "HTTPS://LAB.EXAMPLE/B"}
    assert photo._read(qr("HTTPS://LAB.EXAMPLE/A", 5), downscale=False) == "HTTPS://LAB.EXAMPLE/A"
    assert photo._read(Image.new("L", (50, 50), 255), downscale=True) is None


def test_a_plain_read_does_not_invert() -> None:
    dark = qr("YL1:DARK", 5).point(lambda v: 255 - v)
    assert photo._read(dark, downscale=True) is None
    assert read_qr_text(encode(dark)) == "YL1:DARK"  # the last, inverted pass


# -- the region finder's helpers, against references written here --------------------------------


@pytest.mark.parametrize(
    ("a", "b", "iou"),
    [
        ((1, 2, 11, 22), (6, 7, 21, 17), 50 / 300),
        ((6, 7, 21, 17), (1, 2, 11, 22), 50 / 300),
        ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
        ((0, 0, 10, 10), (9, 0, 20, 10), 10 / 200),
        ((0, 0, 10, 10), (0, 9, 10, 20), 10 / 200),
        ((0, 0, 10, 10), (10, 0, 20, 10), 0.0),
        ((0, 0, 10, 10), (20, 0, 30, 10), 0.0),
        ((0, 0, 10, 10), (0, 20, 10, 30), 0.0),
        ((0, 0, 10, 10), (20, 20, 30, 30), 0.0),
        ((0, 0, 0, 10), (0, 0, 0, 10), 0.0),  # no area: no intersection (and no division by 0)
        ((0, 0, 10, 0), (0, 0, 10, 0), 0.0),
    ],
)
def test_overlap_is_intersection_over_union(
    a: tuple[int, int, int, int], b: tuple[int, int, int, int], iou: float
) -> None:
    assert photo._overlap(a, b) == pytest.approx(iou)


def _reference_edge_map(image: Image.Image, block: int) -> tuple[tuple[int, int], list[float]]:
    width, height = image.size
    px = image.load()
    assert px is not None
    w, h = width - 1, height - 1
    grad = [
        [min(255, abs(px[x, y] - px[x + 1, y]) + abs(px[x, y] - px[x, y + 1])) for x in range(w)]  # type: ignore[operator,misc]
        for y in range(h)
    ]
    cells = []
    for by in range(0, h, block):
        for bx in range(0, w, block):
            rows = range(by, min(by + block, h))
            values = [grad[y][x] for y in rows for x in range(bx, min(bx + block, w))]
            cells.append(sum(values) / len(values))
    return (-(-w // block), -(-h // block)), cells


@pytest.mark.parametrize("seed", range(12))
def test_edge_map_is_the_mean_gradient_of_each_block(seed: int) -> None:
    rng = random.Random(seed)
    width, height = rng.randrange(9, 41), rng.randrange(9, 41)
    pixels = bytes(rng.choice((0, 90, 255)) for _ in range(width * height))
    image = Image.frombytes("L", (width, height), pixels)
    block = rng.choice((1, 3, 8))
    emap = photo._edge_map(image, block)
    size, cells = _reference_edge_map(image, block)
    assert emap.size == size
    assert all(abs(got - want) <= 1 for got, want in zip(emap.tobytes(), cells, strict=True))


def _reference_components(grid: list[list[int]], threshold: int) -> list[tuple[int, int, int, int, int]]:
    height, width = len(grid), len(grid[0])
    seen: set[tuple[int, int]] = set()
    found = []
    for y in range(height):
        for x in range(width):
            if grid[y][x] < threshold or (x, y) in seen:
                continue
            seen.add((x, y))
            queue, cells = deque([(x, y)]), []
            while queue:
                cx, cy = queue.popleft()
                cells.append((cx, cy))
                for dx in (-1, 0, 1):
                    for dy in (-1, 0, 1):
                        nx, ny = cx + dx, cy + dy
                        inside = 0 <= nx < width and 0 <= ny < height
                        if inside and grid[ny][nx] >= threshold and (nx, ny) not in seen:
                            seen.add((nx, ny))
                            queue.append((nx, ny))
            xs, ys = [c[0] for c in cells], [c[1] for c in cells]
            found.append((sum(grid[cy][cx] for cx, cy in cells), min(xs), min(ys), max(xs) + 1, max(ys) + 1))
    return sorted(found, reverse=True)


def _padded(grid: list[list[int]]) -> tuple[bytes, int]:
    width = len(grid[0]) + 2
    rows = [[0] * width] + [[0, *row, 0] for row in grid] + [[0] * width]
    return bytes(v for row in rows for v in row), width


@pytest.mark.parametrize("seed", range(30))
def test_components_are_the_8_connected_busy_regions_heaviest_first(seed: int) -> None:
    rng = random.Random(seed)
    width, height = rng.randrange(1, 14), rng.randrange(1, 14)
    grid = [[rng.choice((0, 0, 0, 5, 6, 7, 200, 254, 255)) for _ in range(width)] for _ in range(height)]
    threshold = rng.choice((6, 7, 200, 255))
    cells, map_w = _padded(grid)
    assert photo._components(cells, map_w, threshold) == _reference_components(grid, threshold)


def test_components_join_cells_through_every_one_of_the_8_neighbours() -> None:
    # Each shape is one component only if the step it needs is followed (the scan starts
    # at the first busy cell; the other cells are reached from there).
    shapes = {
        "east": ["xx"],
        "south": ["x", "x"],
        "south-east": ["x.", ".x"],
        "south-west": [".x", "x."],
        "north-east": ["x.x", ".x."],
        "north-west": ["....x", "...x.", "x.x..", ".x..."],
        "north": ["x.x", "x.x", ".x."],
        "west": ["x...", ".x..", "..x.", "xx.x", "...x"],
    }
    for name, rows in shapes.items():
        grid = [[9 if c == "x" else 0 for c in row] for row in rows]
        cells, map_w = _padded(grid)
        found = photo._components(cells, map_w, 9)
        assert len(found) == 1, name
        assert found == _reference_components(grid, 9), name
