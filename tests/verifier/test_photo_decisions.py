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


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_a_transparent_colour_of_a_gray_or_rgb_png_is_flattened_onto_white(mode: str) -> None:
    # Light modules of near-black 10, marked transparent: only white makes them light.
    code = qr("YL1:COLOUR-KEY", 4).point(lambda v: 10 if v else 0)
    image = code if mode == "L" else code.convert("RGB")
    data = encode(image, transparency=10 if mode == "L" else (10, 10, 10))
    reopened = Image.open(io.BytesIO(data))
    assert (reopened.mode, "transparency" in reopened.info) == (mode, True)
    assert photo._to_gray(reopened).getpixel((0, 0)) == 255
    assert read_qr_text(data) == "YL1:COLOUR-KEY"


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


# -- regions (docs/verifying.md, "Reading a photo") ----------------------------------------------


def scene(size: tuple[int, int], patches: list[tuple[int, int, int, int, int, int]]) -> Image.Image:
    """A flat grey image with patches of uniform noise (x, y, width, height, low, high)."""
    rng = random.Random(1)
    image = Image.new("L", size, 128)
    for x, y, w, h, low, high in patches:
        noise = bytes(rng.randrange(low, high) for _ in range(w * h))
        image.paste(Image.frombytes("L", (w, h), noise), (x, y))
    return image


LOUD, SOFT = (0, 256), (88, 168)  # busy at 50 % of the busiest block; only at 25 %
VGA = (640, 480)  # blocks of 8 px (the minimum; 640 / 160 is 4)


@pytest.mark.parametrize(
    ("name", "size", "patches", "boxes"),
    [
        # one block of margin around the busy blocks (10..29 x 20..39), in pixels
        ("one code", VGA, [(80, 160, 160, 160, *LOUD)], [(72, 152, 248, 328)]),
        ("two, heaviest first", VGA, [(400, 40, 120, 120, *LOUD), (80, 160, 160, 160, *LOUD)],
         [(72, 152, 248, 328), (392, 32, 528, 168)]),
        # 4 busy blocks + margin = 48 px: kept; 3 blocks (40 px): too small for a code
        ("48 px", VGA, [(80, 160, 32, 32, *LOUD)], [(72, 152, 120, 200)]),
        ("40 px", VGA, [(80, 160, 24, 24, *LOUD)], []),
        # 64 x 128 px is exactly half as wide as long: kept; 64 x 136 is not
        ("half as wide", VGA, [(80, 80, 48, 112, *LOUD)], [(72, 72, 136, 200)]),
        ("narrower", VGA, [(80, 80, 48, 120, *LOUD)], []),
        # a heavy line of text is skipped, the lighter code after it still found
        ("text line", VGA, [(16, 16, 600, 24, *LOUD), (200, 200, 64, 64, *LOUD)], [(192, 192, 272, 272)]),
        # a soft code is found by the looser threshold, after the loud one found again
        ("soft code", VGA, [(16, 16, 160, 160, *LOUD), (400, 200, 64, 64, *SOFT)],
         [(8, 8, 184, 184), (392, 192, 472, 272)]),
        # the looser threshold's box overlaps the stricter one's by exactly 70 %: both kept
        ("70 % overlap", VGA, [(80, 160, 64, 40, *LOUD), (80, 200, 64, 24, *SOFT)],
         [(72, 152, 152, 208), (72, 152, 152, 232)]),
        ("at most 4", VGA,
         [(16, 16, 120, 120, *LOUD), (300, 16, 112, 112, *LOUD), (16, 300, 104, 104, *LOUD),
          (300, 300, 96, 96, *LOUD), (500, 200, 88, 88, *LOUD)],
         [(8, 8, 144, 144), (288, 8, 416, 136), (8, 288, 128, 408), (288, 288, 400, 408)]),
        # 31 x 41 = 1271 busy blocks of 82 x 62 (with the border): exactly a quarter, still
        # localised; one block more and the whole image is the region
        ("a quarter busy", VGA, [(80, 80, 248, 328, *LOUD)], [(72, 72, 336, 416)]),
        ("over a quarter", VGA, [(80, 80, 248, 328, *LOUD), (600, 16, 8, 8, *LOUD)], [(0, 0, 640, 480)]),
        ("all noise, small", (40, 40), [(0, 0, 40, 40, *LOUD)], [(0, 0, 40, 40)]),
        # 1930 px across: blocks of 13 px (1930 / 160 is 12.06)
        ("wide photo", (1930, 600), [(130, 130, 260, 260, *LOUD)], [(117, 117, 403, 403)]),
        # under two blocks across: the whole image; two blocks: a map (empty when flat)
        ("15 px wide", (15, 100), [], [(0, 0, 15, 100)]),
        ("15 px high", (100, 15), [], [(0, 0, 100, 15)]),
        ("16 px", (16, 16), [], []),
        ("flat", VGA, [], []),
        # at the image's edges the margin stops there: the box starts at 0, ends at the size
        ("top left corner", VGA, [(0, 0, 64, 64, *LOUD)], [(0, 0, 72, 72)]),
        ("bottom right corner", VGA, [(576, 416, 64, 64, *LOUD)], [(568, 408, 640, 480)]),
    ],
)
def test_candidate_regions(
    name: str,
    size: tuple[int, int],
    patches: list[tuple[int, int, int, int, int, int]],
    boxes: list[tuple[int, int, int, int]],
) -> None:
    assert photo._candidate_regions(scene(size, patches)) == boxes, name


@pytest.mark.parametrize(("contrast", "boxes"), [(6, [(72, 152, 152, 232)]), (5, [])])
def test_a_faint_texture_counts_from_a_mean_gradient_of_6(contrast: int, boxes: list[object]) -> None:
    """Stripes one pixel wide differing by ``contrast``: every block's score is that."""
    image = Image.new("L", VGA, 128)
    for x in range(80, 144, 2):
        image.paste(128 + contrast, (x, 160, x + 1, 224))
    assert max(photo._edge_map(image, 8).tobytes()) == contrast
    assert photo._candidate_regions(image) == boxes


@pytest.mark.parametrize(
    ("size", "box", "crop", "module_px"),
    [
        # 200 px + 16 (8 %) each side = 232 px, 2.32 px a module: x 5.5 / 2.32 -> 550 px
        ((1000, 1000), (100, 100, 300, 300), (550, 550), 5.5),
        # at the image's edge the margin stops there: 65 px, not 70, upscaled x 3
        ((1000, 1000), (0, 0, 60, 60), (195, 195), 1.95),
        ((1000, 1000), (940, 940, 1000, 1000), (195, 195), 1.95),
        # 70 px (5 px margin): 0.7 px a module, upscaled x 3 at most
        ((1000, 1000), (400, 400, 460, 460), (210, 210), 2.1),
        # 2320 px: downscaled x 0.5 at most (the pixel budget would allow x 0.528)
        ((2400, 2400), (200, 200, 2200, 2200), (1160, 1160), 11.6),
        # 514 px wants x 1.07: rescaled; 535 px wants x 1.03: left as it is
        ((1000, 1000), (0, 0, 476, 476), (550, 550), 5.5),
        ((1000, 1000), (0, 0, 495, 495), (535, 535), 5.35),
    ],
)
def test_rescaled_crops(
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
    box: tuple[int, int, int, int],
    crop: tuple[int, int],
    module_px: float,
) -> None:
    monkeypatch.setattr(photo, "_candidate_regions", lambda gray: [box])
    [(image, module)] = list(photo._rescaled_crops(Image.new("L", size, 200)))
    assert image.size == crop
    assert module == pytest.approx(module_px, abs=0.01)


def test_a_crop_takes_the_pixels_of_its_region_and_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    gray = Image.new("L", (1000, 1000), 255)
    gray.paste(0, (484, 484, 516, 516))  # a black square inside a crop left at its size
    monkeypatch.setattr(photo, "_candidate_regions", lambda image: [(270, 250, 729, 709)])
    [(image, module)] = list(photo._rescaled_crops(gray))
    # 459 px + 37 px (8 %) each side: 533 px, 5.33 px a module, x 1.03: not rescaled
    assert (image.size, module) == ((533, 533), 5.33)
    inverted = image.point(lambda v: 255 - v)
    assert inverted.getbbox() == (484 - 233, 484 - 213, 516 - 233, 516 - 213)


def test_a_crop_is_at_most_1_5_mpx_but_never_below_a_quarter(monkeypatch: pytest.MonkeyPatch) -> None:
    # 300 x 3000 px (a region as the caller may give): x 1.83 wanted, x 1.29 fits 1.5 Mpx
    monkeypatch.setattr(photo, "_candidate_regions", lambda gray: [(0, 0, 300, 3000)])
    [(image, module)] = list(photo._rescaled_crops(Image.new("L", (300, 3000), 200)))
    assert image.size == (387, 3873)
    assert image.width * image.height <= 1_500_000
    assert module == 3.0 * (1_500_000 / 900_000) ** 0.5
    # 5000 px square: the budget would allow x 0.245, the floor is x 0.25
    monkeypatch.setattr(photo, "_candidate_regions", lambda gray: [(0, 0, 5000, 5000)])
    [(image, module)] = list(photo._rescaled_crops(Image.new("L", (5000, 5000), 200)))
    assert (image.size, module) == ((1250, 1250), 12.5)


def test_a_one_pixel_wide_crop_stays_one_pixel_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(photo, "_candidate_regions", lambda gray: [(0, 0, 1, 700_000)])
    [(image, _)] = list(photo._rescaled_crops(Image.new("L", (1, 700_000), 200)))
    assert image.size == (1, round(700_000 * (1_500_000 / 700_000) ** 0.5))


def test_a_one_pixel_high_crop_stays_one_pixel_high(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(photo, "_candidate_regions", lambda gray: [(0, 0, 700_000, 1)])
    [(image, _)] = list(photo._rescaled_crops(Image.new("L", (700_000, 1), 200)))
    assert image.size == (round(700_000 * (1_500_000 / 700_000) ** 0.5), 1)


# -- the passes of a read ------------------------------------------------------------------------


def test_the_passes_plain_then_each_crop_sharpened_twice_then_inverted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gray = Image.new("L", (1000, 1000), 200)
    gray.paste(0, (0, 0, 10, 10))
    boxes = [(100, 100, 300, 300), (0, 0, 495, 495)]  # module 5.5 px after x 2.37, then 5.35 px as is
    monkeypatch.setattr(photo, "_candidate_regions", lambda image: boxes)
    reads: list[tuple[tuple[int, int], bool, int]] = []
    masks: list[tuple[float, int, int]] = []
    real_mask = photo.ImageFilter.UnsharpMask

    def read(image: Image.Image, *, downscale: bool) -> None:
        reads.append((image.size, downscale, image.getpixel((0, 0))))  # type: ignore[arg-type]

    def mask(radius: float, percent: int, threshold: int) -> object:
        masks.append((round(radius, 6), percent, threshold))
        return real_mask(radius, percent, threshold)

    monkeypatch.setattr(photo, "_read", read)
    monkeypatch.setattr(photo.ImageFilter, "UnsharpMask", mask)
    with pytest.raises(MalformedInputError, match="no QR code found"):
        read_qr_text(encode(gray))
    assert reads == [
        ((1000, 1000), True, 0),
        ((550, 550), False, 200),
        ((550, 550), False, 200),
        ((535, 535), False, 0),
        ((535, 535), False, 0),
        ((1000, 1000), True, 255),  # inverted
    ]
    assert masks == [(1.65, 800, 0), (2.475, 2000, 0), (1.605, 800, 0), (2.4075, 2000, 0)]


def test_a_read_stops_at_the_first_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(photo, "_candidate_regions", lambda image: [(0, 0, 100, 100), (0, 0, 90, 90)])
    answers = iter([None, None, "YL1:SECOND-MASK", "never"])
    calls: list[bool] = []

    def read(image: Image.Image, *, downscale: bool) -> str | None:
        calls.append(downscale)
        return next(answers)

    monkeypatch.setattr(photo, "_read", read)
    assert read_qr_text(encode(Image.new("L", (200, 200), 200))) == "YL1:SECOND-MASK"
    assert calls == [True, False, False]


def test_zxing_is_asked_for_qr_codes_without_rotation_or_inversion(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, object]] = []
    real = photo.zxingcpp.read_barcodes

    def read_barcodes(image: Image.Image, **options: object) -> object:
        seen.append(options)
        return real(image, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(photo.zxingcpp, "read_barcodes", read_barcodes)
    assert photo._read(qr("YL1:OPTIONS", 4), downscale=False) == "YL1:OPTIONS"
    assert photo._read(qr("YL1:OPTIONS", 4), downscale=True) == "YL1:OPTIONS"
    qr_only = photo.zxingcpp.BarcodeFormats(photo.zxingcpp.BarcodeFormat.QRCode)
    assert seen == [
        {"formats": qr_only, "try_rotate": False, "try_downscale": False, "try_invert": False},
        {"formats": qr_only, "try_rotate": False, "try_downscale": True, "try_invert": False},
    ]


def test_a_colour_jpeg_is_decoded_straight_to_grayscale(monkeypatch: pytest.MonkeyPatch) -> None:
    modes: list[str] = []
    real = photo._to_gray
    monkeypatch.setattr(photo, "_to_gray", lambda image: modes.append(image.mode) or real(image))
    image = qr("YL1:DRAFT", 4)
    assert read_qr_text(encode(Image.merge("RGB", (image, image, image)), "JPEG", quality=95)) == "YL1:DRAFT"
    assert modes == ["L"]
