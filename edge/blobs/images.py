"""Uploaded photos and signatures made safe and small: sniffed, bounded, upright, no metadata."""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageFile, ImageOps

from edge.kernel.i18n import gettext as _

MAX_PIXELS = 40_000_000
PHOTO_LONG_SIDE = 1600
PHOTO_SHORT_SIDE_MIN = 300  # smaller than this, a document photo cannot be read by staff
PHOTO_QUALITY = 80
SIGNATURE_LONG_SIDE = 1000
SIGNATURE_MAX_BYTES_IN = 2_000_000
SIGNATURE_PNG_MAX_BYTES = 100_000
THUMB_LONG_SIDE = 240
THUMB_MAX_BYTES = 15_000
THUMB_QUALITIES = (75, 65, 55, 45, 35, 25, 15)
WHITE = (255, 255, 255)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_TYPE = "image/jpeg"
PNG_TYPE = "image/png"
CONTENT_TYPES = (JPEG_TYPE, PNG_TYPE)  # what prepared images are stored as
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


class PhotoRejected(ValueError):
    """The upload is not a photo we accept; the message is for the person who sent it."""


@dataclass(frozen=True)
class PreparedImage:
    """Re-encoded pixels ready to store, and a JPEG thumbnail of at most 15 KB."""

    data: bytes
    content_type: str
    width: int
    height: int
    thumb: bytes

    @property
    def thumb_content_type(self) -> str:
        """The thumbnail's content type: always JPEG."""
        return JPEG_TYPE


def prepare_photo(raw: bytes, max_bytes_in: int = 15_000_000) -> PreparedImage:
    """A document photo: upright, metadata dropped, long side <= 1600 px, JPEG quality 80;
    refused when its short side is under 300 px (too small to read)."""
    image = _decode(raw, max_bytes_in, PHOTO_LONG_SIDE)
    if min(image.size) < PHOTO_SHORT_SIDE_MIN:
        raise PhotoRejected(_too_small())
    data = _jpeg(image, PHOTO_QUALITY)
    return PreparedImage(data, JPEG_TYPE, image.width, image.height, _thumbnail(image))


def check_photo(raw: bytes, max_bytes_in: int = 15_000_000) -> None:
    """What prepare_photo refuses that shows without decoding the pixels (type by magic bytes,
    pixel count and short side from the header): PhotoRejected with the same message."""
    image_format = _sniff(raw, max_bytes_in)
    _check_pixels(_declared_size(raw, image_format))
    size = _open(raw, image_format).size
    _check_pixels(size)
    if min(_fit_size(size, PHOTO_LONG_SIDE)) < PHOTO_SHORT_SIDE_MIN:
        raise PhotoRejected(_too_small())


def prepare_signature(raw: bytes, max_bytes_in: int = SIGNATURE_MAX_BYTES_IN) -> PreparedImage:
    """A handwritten signature from a canvas: on white, long side <= 1000 px, PNG if small."""
    image = _decode(raw, max_bytes_in, SIGNATURE_LONG_SIDE)
    data, content_type = _png(image), PNG_TYPE
    if len(data) > SIGNATURE_PNG_MAX_BYTES:
        data, content_type = _jpeg(image, PHOTO_QUALITY), JPEG_TYPE
    return PreparedImage(data, content_type, image.width, image.height, _thumbnail(image))


def _decode(raw: bytes, max_bytes_in: int, long_side: int) -> Image.Image:
    """Check the upload, decode it, and return fresh RGB pixels that fit `long_side`."""
    image_format = _sniff(raw, max_bytes_in)
    _check_pixels(_declared_size(raw, image_format))
    image: Image.Image = _open(raw, image_format)
    _check_pixels(image.size)
    try:
        image.draft("RGB", _fit_size(image.size, long_side))
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        image = _shrink(_rgb_or_rgba(image), long_side)
    except Image.DecompressionBombError:
        raise PhotoRejected(_too_many_pixels()) from None
    except DECODE_ERRORS:
        raise PhotoRejected(_corrupt()) from None
    return _flatten(image)


def _sniff(raw: bytes, max_bytes_in: int) -> str:
    """The Pillow format named by the magic bytes; the file name and declared type are ignored."""
    if not raw:
        raise PhotoRejected(_("照片文件是空的，请重新拍摄或选择。"))
    if len(raw) > max_bytes_in:
        limit = f"{max_bytes_in / 1_000_000:g}"
        raise PhotoRejected(_("照片文件太大，不能超过 {limit} MB。").format(limit=limit))
    if raw.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if raw.startswith(PNG_MAGIC):
        return "PNG"
    if raw.startswith(b"RIFF") and raw[8:12] == b"WEBP":
        return "WEBP"
    raise PhotoRejected(_("只能上传 JPEG、PNG 或 WebP 格式的照片。"))


def _declared_size(raw: bytes, image_format: str) -> tuple[int, int]:
    """Width and height from a PNG or WebP header, read before any decoder allocates a canvas."""
    if image_format == "PNG" and raw[12:16] == b"IHDR" and len(raw) >= 24:
        return struct.unpack(">II", raw[16:24])
    chunk = raw[12:16]
    if chunk == b"VP8X" and len(raw) >= 30:
        width, height = (int.from_bytes(raw[i : i + 3], "little") + 1 for i in (24, 27))
        return width, height
    if chunk == b"VP8 " and len(raw) >= 30 and raw[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", raw[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(raw) >= 25 and raw[20] == 0x2F:
        bits = int.from_bytes(raw[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return 0, 0  # JPEG: Pillow reads only the markers on open; checked right after.


def _check_pixels(size: tuple[int, int]) -> None:
    """Refuse a picture whose header promises more than MAX_PIXELS pixels."""
    if size[0] * size[1] > MAX_PIXELS:
        raise PhotoRejected(_too_many_pixels())


def _too_small() -> str:
    return _("照片太小，看不清。请靠近材料重新拍摄。")


def _corrupt() -> str:
    return _("照片文件已损坏或不完整，请重新拍摄后上传。")


def _too_many_pixels() -> str:
    return _("照片像素太多（超过 {megapixels} 万像素），请调低相机分辨率后重拍。").format(
        megapixels=MAX_PIXELS // 10_000
    )


def _open(raw: bytes, image_format: str) -> ImageFile.ImageFile:
    """Parse the header only; Pillow's bomb warning becomes a refusal, never a warning."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(raw), formats=[image_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected(_too_many_pixels()) from None
    except DECODE_ERRORS:
        raise PhotoRejected(_corrupt()) from None
    return image


def _fit_size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """`size` scaled down so its long side is at most `long_side` (never up)."""
    width, height = size
    scale = long_side / max(width, height, 1)
    if scale >= 1:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def _rgb_or_rgba(image: Image.Image) -> Image.Image:
    """RGBA if the picture has any transparency, else RGB (palettes, grey, CMYK converted)."""
    mode = "RGBA" if image.has_transparency_data else "RGB"
    return image if image.mode == mode else image.convert(mode)


def _shrink(image: Image.Image, long_side: int) -> Image.Image:
    """A copy resized so the long side is at most `long_side`, or the image if already small."""
    size = _fit_size(image.size, long_side)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _flatten(image: Image.Image) -> Image.Image:
    """Only the pixels, on a new white RGB canvas: no EXIF, GPS, ICC, XMP or comment survives."""
    canvas = Image.new("RGB", image.size, WHITE)
    canvas.paste(image, (0, 0), image if image.mode == "RGBA" else None)
    return canvas


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue()


def _png(image: Image.Image) -> bytes:
    buffer = BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    """A JPEG with long side <= 240 px and at most 15 KB: lower quality, then size, to fit."""
    small = _shrink(image, THUMB_LONG_SIDE)
    while True:
        for quality in THUMB_QUALITIES:
            data = _jpeg(small, quality)
            if len(data) <= THUMB_MAX_BYTES:
                return data
        small = _shrink(small, max(small.size) // 2)
