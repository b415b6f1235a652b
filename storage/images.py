"""Study photos as files (R08): is it a real image, a copy without metadata, its perceptual hash.

``prepare(data)`` checks what a trainee sent before anything else looks at it:

- the byte size (at most ``max_bytes``; DingTalk's own media limit is 20 MB);
- that Pillow recognises a format we accept from its *content* (never the file name);
- the pixel count read from the header, before any pixel is decoded (a decompression bomb — a small
  file that claims a huge canvas — is refused here, not after it has filled the memory);
- the smallest side (a thumbnail or an icon is not a study photo);
- that the whole image decodes (a truncated or corrupt file fails).

The stored copy is re-encoded from the pixels alone, upright (EXIF orientation applied), so no EXIF
block (camera, time, GPS position), ICC profile or comment survives: JPEG at quality 90, PNG where the
image has transparency. Re-encoding is deterministic, so the same upload always gives the same stored
bytes and the same SHA-256 (exact duplicates, R08). The perceptual hash (pHash, from the ImageHash
library) is computed on the stored copy, so it does not depend on what metadata the phone added.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import imagehash
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 20 * 1024 * 1024
DOWNLOAD_TOO_LARGE = "fileTooLarge"  # the error code of a download refused for its size (bot.openapi)
MAX_PIXELS = 40_000_000  # a 48-megapixel phone camera saves 8000×6000 = 48 MP at most in "high-res" mode
MIN_SIDE = 64
FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"})  # MPO: some phones' JPEG variant
JPEG_QUALITY = 90

# Why an upload is not a usable photo (the handlers word it for the trainee).
TOO_LARGE = "too_large"
NOT_AN_IMAGE = "not_an_image"
UNSUPPORTED_FORMAT = "unsupported_format"
TOO_MANY_PIXELS = "too_many_pixels"
TOO_SMALL = "too_small"
BROKEN = "broken"


class InvalidImage(ValueError):
    """The bytes are not a photo we accept; ``reason`` is one of the constants above."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PreparedImage:
    data: bytes  # the stored copy: re-encoded, no metadata
    format: str  # JPEG or PNG (of the stored copy)
    width: int
    height: int
    phash: str  # hexadecimal, bits/4 characters


def prepare(data: bytes, *, phash_bits: int = 64, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS,
            min_side: int = MIN_SIDE) -> PreparedImage:
    """Validate ``data`` as a photo; return the metadata-free copy and its perceptual hash.

    Raises ``InvalidImage`` with the reason. Never decodes more than ``max_pixels`` pixels.
    """
    if len(data) > max_bytes:
        raise InvalidImage(TOO_LARGE, f"{len(data)} bytes")
    with warnings.catch_warnings():
        # Pillow warns (DecompressionBombWarning) and then raises above its own process-wide limit;
        # our limit is lower and checked from the header, so its warning is only noise here.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise InvalidImage(TOO_MANY_PIXELS, str(exc)) from None
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise InvalidImage(NOT_AN_IMAGE, str(exc)) from None
        with image:
            if image.format not in FORMATS:
                raise InvalidImage(UNSUPPORTED_FORMAT, str(image.format))
            width, height = image.size
            if width * height > max_pixels:
                raise InvalidImage(TOO_MANY_PIXELS, f"{width}×{height}")
            if min(width, height) < min_side:
                raise InvalidImage(TOO_SMALL, f"{width}×{height}")
            try:
                image.load()
                upright = ImageOps.exif_transpose(image)
                clean = _without_metadata(upright)
            except Image.DecompressionBombError as exc:
                raise InvalidImage(TOO_MANY_PIXELS, str(exc)) from None
            except (OSError, ValueError, SyntaxError, EOFError) as exc:  # truncated, corrupt
                raise InvalidImage(BROKEN, str(exc)) from None
    out = io.BytesIO()
    if clean.mode in ("RGBA", "LA"):
        fmt = "PNG"
        clean.save(out, fmt, optimize=False)
    else:
        fmt = "JPEG"
        clean.convert("RGB").save(out, fmt, quality=JPEG_QUALITY)
    return PreparedImage(out.getvalue(), fmt, clean.width, clean.height, perceptual_hash(clean, phash_bits))


def _without_metadata(image: Image.Image) -> Image.Image:
    """A new image holding only the pixels (first frame of an animation), no info or EXIF."""
    if image.mode in ("P", "PA"):
        image = image.convert("RGBA" if "transparency" in image.info or image.mode == "PA" else "RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGB")
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def perceptual_hash(image: Image.Image, bits: int = 64) -> str:
    """pHash of ``image`` as hexadecimal; ``bits`` must be a square (64 = an 8×8 DCT)."""
    side = math.isqrt(bits)
    if side * side != bits or side < 2:
        raise ValueError(f"phash bits must be a square number, not {bits}")
    return str(imagehash.phash(image, hash_size=side))
