"""The `/clock` test camera's time code: the sender's wall clock drawn as blocks at the top of each frame.

Encoding (1280x720 frame; everything scales with the frame, so a resized video decodes the same way):
  * the value is `time.time_ns() // 1_000_000 % 2**40`: the sender's Unix time in milliseconds, 40 bits,
    taken when the frame is made (before it is encoded);
  * the top 64 rows hold two rows of 40 blocks, each block 32 px wide and 32 px tall;
  * block i (i = 0..39, left to right) carries bit 39 - i (most significant bit first);
  * the upper row (y 0-31) draws each bit as white (luma 235) for 1 and black (luma 16) for 0;
    the lower row (y 32-63) draws the complement, so a bit reads as "upper block brighter than the block
    under it", whatever the brightness, contrast or scaling of the picture; a frame whose blocks and
    complements do not all differ clearly (a frame mid-transition, a smeared encode) decodes to None.

Pure Python, no imports beyond the standard library: the RTSP camera server (Debian's python3, no numpy)
draws with it, and the latency benchmark (the uv venv) decodes with it.
"""

from __future__ import annotations

from collections.abc import Sequence

BITS = 40
BLOCK = 32  # px, at 1280x720
BAND_ROWS = 2 * BLOCK  # the data row and the complement row
WIDTH = BITS * BLOCK  # 1280: the pattern spans the whole width of a 720p frame
MODULUS = 1 << BITS
WHITE = 235
BLACK = 16
MIN_CONTRAST = 40  # luma between a block and its complement; less: not a readable frame


def clock_value(time_ns: int) -> int:
    """The value a frame made at `time_ns` (time.time_ns()) carries."""
    return (time_ns // 1_000_000) % MODULUS


def band_rows(value: int, width: int = WIDTH) -> list[bytes]:
    """The top BAND_ROWS luma rows that encode `value`, `width` bytes each (width a multiple of 40)."""
    block = width // BITS
    bits = [(value >> (BITS - 1 - i)) & 1 for i in range(BITS)]
    upper = b"".join(bytes([WHITE if b else BLACK]) * block for b in bits)
    lower = b"".join(bytes([BLACK if b else WHITE]) * block for b in bits)
    rows = block  # the band is two blocks tall at any scale
    return [upper] * rows + [lower] * rows


def band_height(frame_height: int) -> int:
    """How many rows at the top of a frame of this height hold the band (64 at 720)."""
    return max(2, round(BAND_ROWS * frame_height / 720))


def decode_clock_blocks(gray_rows: Sequence[Sequence[int]]) -> int | None:
    """The value in the band, given its luma rows (the top band_height(h) rows of a grey frame: a numpy
    array or lists/bytes of ints); None when the rows do not hold a readable band."""
    height = len(gray_rows)
    if height < 2:
        return None
    width = len(gray_rows[0])
    if width < BITS:
        return None
    upper, lower = _band_lines(gray_rows, height)
    value = 0
    for i in range(BITS):
        x0 = int((i + 0.3) * width / BITS)
        x1 = max(x0 + 1, int((i + 0.7) * width / BITS))
        top = _mean(upper, x0, x1)
        bottom = _mean(lower, x0, x1)
        if abs(top - bottom) < MIN_CONTRAST:
            return None
        value = (value << 1) | (top > bottom)
    return value


def latency_ms(decoded: int, now_ns: int) -> int:
    """Milliseconds from the frame's making to `now_ns`, across the 2**40 wrap."""
    return (clock_value(now_ns) - decoded) % MODULUS


def _band_lines(gray_rows, height: int) -> tuple[list[float], list[float]]:
    """Each half's middle rows averaged into one line (the edges of a scaled block blur into the next)."""
    half = height / 2
    upper = [int(half * f) for f in (0.3, 0.5, 0.7)]
    lower = [int(half + half * f) for f in (0.3, 0.5, 0.7)]
    return _average_rows(gray_rows, upper), _average_rows(gray_rows, lower)


def _average_rows(gray_rows, indexes: list[int]) -> list[float]:
    rows = [[int(v) for v in gray_rows[min(i, len(gray_rows) - 1)]] for i in indexes]
    return [sum(column) / len(rows) for column in zip(*rows, strict=True)]


def _mean(line: list[float], x0: int, x1: int) -> float:
    part = line[x0:x1]
    return sum(part) / len(part)
