"""Blobs: uploads sniffed, bounded and stripped of metadata; files content-addressed; rows once."""

from __future__ import annotations

import asyncio
import hashlib
import os
import struct
import warnings
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageDraw, ImageFile

from edge.blobs import images
from edge.blobs.images import PhotoRejected, prepare_photo, prepare_signature
from edge.blobs.queries import record
from edge.kernel.blobstore import BlobStore
from edge.kernel.db import Database
from edge.schema import migrate_database

RED = (200, 30, 30)
BLUE = (30, 30, 200)
UNSUPPORTED = "只能上传 JPEG、PNG 或 WebP 格式的照片。"
CORRUPT = "照片文件已损坏或不完整，请重新拍摄后上传。"
TOO_MANY_PIXELS = "照片像素太多（超过 4000 万像素），请调低相机分辨率后重拍。"


def _encode(image: Image.Image, image_format: str, **params) -> bytes:
    buffer = BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def _photo(size: tuple[int, int]) -> Image.Image:
    """A photo-like picture: left half red, right half blue, shaded, with sensor noise."""
    width, height = size
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    shade = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 12).convert("RGB")
    image = Image.blend(image, Image.merge("RGB", (shade, shade, shade)), 0.15)
    return Image.blend(image, noise, 0.08)


def _with_hole(image: Image.Image) -> Image.Image:
    """RGBA with a transparent top-left corner (so WebP must keep alpha: a VP8X file)."""
    image = image.convert("RGBA")
    image.paste((0, 0, 0, 0), (0, 0, image.width // 4, image.height // 4))
    return image


def _phone_jpeg() -> bytes:
    """3000x2000 stored sideways (Orientation=6), with GPS, camera make, ICC and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "CheapPhone"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (24.0, 12.0, 30.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (109.0, 24.0, 10.0),
    }
    return _encode(
        _photo((3000, 2000)),
        "JPEG",
        quality=90,
        exif=exif,
        icc_profile=b"not-really-an-icc-profile" * 4,
        comment=b"resident 450521199001011234",
    )


def _segments(jpeg: bytes) -> list[int]:
    """The JPEG markers before the first scan (SOS)."""
    markers, offset = [], 2
    while jpeg[offset + 1] != 0xDA:
        marker, length = jpeg[offset + 1], struct.unpack(">H", jpeg[offset + 2 : offset + 4])[0]
        markers.append(marker)
        offset += 2 + length
    return markers


def _patch_png_size(png: bytes, width: int, height: int) -> bytes:
    """Claim another size in IHDR and fix the chunk's CRC so the header looks valid."""
    ihdr = png[12:16] + struct.pack(">II", width, height) + png[24:29]
    return png[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + png[33:]


def _patch_jpeg_size(jpeg: bytes, width: int, height: int) -> bytes:
    offset = 2
    while jpeg[offset + 1] != 0xC0:
        offset += 2 + struct.unpack(">H", jpeg[offset + 2 : offset + 4])[0]
    start = offset + 5
    return jpeg[:start] + struct.pack(">HH", height, width) + jpeg[start + 4 :]


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any pixel data is decoded."""

    def refuse(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_phone_photo_is_upright_small_and_has_no_metadata(tmp_path: Path):
    source = tmp_path / "IMG_0001.jpg"
    source.write_bytes(_phone_jpeg())
    with Image.open(source) as original:  # the fixture really carries what we strip
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert original.getexif()[ExifTags.Base.Orientation] == 6
        assert "icc_profile" in original.info

    result = prepare_photo(source.read_bytes())

    assert result.content_type == "image/jpeg"
    assert (result.width, result.height) == (1067, 1600)
    with Image.open(BytesIO(result.data)) as out:
        assert out.format == "JPEG"
        assert out.size == (1067, 1600)
        assert len(out.getexif()) == 0
        assert not {"exif", "icc_profile", "comment", "xmp"} & set(out.info)
        assert out.info.get("progressive") == 1
        top, bottom = out.getpixel((533, 100)), out.getpixel((533, 1500))
    assert top[0] > top[2] + 80  # the left (red) half of the sensor is now on top
    assert bottom[2] > bottom[0] + 80
    assert set(_segments(result.data)) <= {0xE0, 0xDB, 0xC2, 0xC4}  # JFIF, tables, frame only
    assert b"CheapPhone" not in result.data
    assert b"450521199001011234" not in result.data

    assert len(result.thumb) <= 15_000
    with Image.open(BytesIO(result.thumb)) as thumb:
        assert thumb.format == "JPEG"
        assert max(thumb.size) <= 240
        assert thumb.size == (160, 240)
        assert len(thumb.getexif()) == 0


def test_png_with_alpha_is_flattened_on_white_and_never_upscaled():
    image = Image.new("RGBA", (800, 600), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((300, 200, 500, 400), fill=(0, 0, 0, 255))
    result = prepare_photo(_encode(image, "PNG"))
    assert (result.content_type, result.width, result.height) == ("image/jpeg", 800, 600)
    with Image.open(BytesIO(result.data)) as out:
        assert out.mode == "RGB"
        assert min(out.getpixel((10, 10))) > 245
        assert max(out.getpixel((400, 300))) < 10


def test_palette_png_with_transparency_is_accepted():
    image = Image.new("P", (450, 300), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (0, 0, 225, 300))
    result = prepare_photo(_encode(image, "PNG", transparency=0))
    with Image.open(BytesIO(result.data)) as out:
        assert min(out.getpixel((375, 150))) > 245  # transparent red became white
        assert out.getpixel((75, 150))[2] > 200


@pytest.mark.parametrize(
    ("size", "kept"), [((640, 299), False), ((299, 640), False), ((400, 300), True)]
)
def test_a_photo_too_small_to_read_is_refused(size: tuple[int, int], kept: bool):
    raw = _encode(_photo(size), "JPEG")
    if kept:
        assert prepare_photo(raw).width == size[0]
        return
    with pytest.raises(PhotoRejected, match="照片太小"):
        prepare_photo(raw)


@pytest.mark.parametrize(
    ("mode", "lossless", "chunk"),
    [("RGB", False, b"VP8 "), ("RGB", True, b"VP8L"), ("RGBA", False, b"VP8X")],
)
def test_webp_is_accepted(mode, lossless, chunk):
    image = _photo((2000, 1000))
    image = _with_hole(image) if mode == "RGBA" else image
    raw = _encode(image, "WEBP", lossless=lossless, quality=80, method=0)
    assert raw[12:16] == chunk
    result = prepare_photo(raw)
    assert (result.content_type, result.width, result.height) == ("image/jpeg", 1600, 800)
    if mode == "RGBA":
        with Image.open(BytesIO(result.data)) as out:
            assert min(out.getpixel((20, 20))) > 245


def test_a_text_file_named_jpg_is_refused(tmp_path: Path):
    fake = tmp_path / "身份证.jpg"
    fake.write_text("这不是照片\n", encoding="utf-8")
    with pytest.raises(PhotoRejected) as caught:
        prepare_photo(fake.read_bytes())
    assert str(caught.value) == UNSUPPORTED
    assert isinstance(caught.value, ValueError)


def test_a_real_image_of_another_type_is_refused():
    with pytest.raises(PhotoRejected, match=UNSUPPORTED):
        prepare_photo(_encode(Image.new("RGB", (50, 50)), "GIF"))


def test_empty_and_oversized_uploads_are_refused():
    with pytest.raises(PhotoRejected, match="空的"):
        prepare_photo(b"")
    raw = _encode(_photo((400, 300)), "JPEG")
    with pytest.raises(PhotoRejected, match=r"不能超过 0\.001 MB"):
        prepare_photo(raw, max_bytes_in=1_000)


def test_png_claiming_50000_by_50000_is_refused_before_decoding(no_decoding, monkeypatch):
    png = _patch_png_size(_encode(Image.new("RGB", (16, 16)), "PNG"), 50_000, 50_000)
    assert zlib.crc32(png[12:29]) == struct.unpack(">I", png[29:33])[0]

    def no_open(*args, **kwargs):
        raise AssertionError("Pillow opened the file")

    monkeypatch.setattr(Image, "open", no_open)
    with pytest.raises(PhotoRejected) as caught:
        prepare_photo(png)
    assert str(caught.value) == TOO_MANY_PIXELS


@pytest.mark.parametrize("size", [(8000, 6000), (10_000, 10_000), (50_000, 50_000)])
def test_jpeg_claiming_too_many_pixels_is_refused_cleanly(no_decoding, size):
    """Over our limit, over Pillow's warning limit, over Pillow's error limit: one refusal."""
    jpeg = _patch_jpeg_size(_encode(Image.new("RGB", (16, 16)), "JPEG"), *size)
    with warnings.catch_warnings(record=True) as caught_warnings:
        warnings.simplefilter("always")
        with pytest.raises(PhotoRejected) as caught:
            prepare_photo(jpeg)
    assert str(caught.value) == TOO_MANY_PIXELS
    assert caught_warnings == []


def test_webp_claiming_too_many_pixels_is_refused_before_decoding(no_decoding):
    webp = bytearray(_encode(_with_hole(_photo((64, 64))), "WEBP"))
    assert webp[12:16] == b"VP8X"
    webp[24:30] = (9999).to_bytes(3, "little") * 2
    with pytest.raises(PhotoRejected, match="像素太多"):
        prepare_photo(bytes(webp))


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_truncated_image_is_refused(image_format):
    raw = _encode(_photo((600, 400)), image_format)
    with pytest.raises(PhotoRejected) as caught:
        prepare_photo(raw[: len(raw) // 2])
    assert str(caught.value) == CORRUPT


def test_garbage_after_jpeg_magic_is_refused():
    with pytest.raises(PhotoRejected, match="损坏"):
        prepare_photo(b"\xff\xd8\xff" + os.urandom(2000))


def test_thumbnail_fits_budget_even_for_pure_noise():
    noise = Image.frombytes("RGB", (1600, 1600), os.urandom(1600 * 1600 * 3))
    result = prepare_photo(_encode(noise, "PNG", compress_level=1))
    assert len(result.thumb) <= images.THUMB_MAX_BYTES


def _signature(size: tuple[int, int]) -> Image.Image:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.line(
        [
            (width // 10, height // 2),
            (width // 3, height // 5),
            (width // 2, height * 3 // 4),
            (width * 9 // 10, height // 3),
        ],
        fill=(10, 10, 60, 255),
        width=max(3, width // 150),
    )
    return image


def test_signature_stays_png_on_white_without_metadata():
    raw = _encode(_signature((900, 300)), "PNG", pnginfo=None, dpi=(300, 300))
    result = prepare_signature(raw)
    assert (result.content_type, result.width, result.height) == ("image/png", 900, 300)
    assert len(result.data) <= images.SIGNATURE_PNG_MAX_BYTES
    with Image.open(BytesIO(result.data)) as out:
        assert out.mode == "RGB"
        assert out.getpixel((5, 5)) == (255, 255, 255)
        assert "dpi" not in out.info
    assert len(result.thumb) <= 15_000
    with Image.open(BytesIO(result.thumb)) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (240, 80)


def test_large_signature_is_shrunk_and_noisy_one_falls_back_to_jpeg():
    big = prepare_signature(_encode(_signature((3000, 1200)), "PNG"))
    assert (big.width, big.height) == (1000, 400)
    noise = Image.frombytes("RGB", (900, 400), os.urandom(900 * 400 * 3))
    noisy = prepare_signature(_encode(noise, "PNG"))
    assert noisy.content_type == "image/jpeg"


def test_signature_gets_the_same_checks():
    with pytest.raises(PhotoRejected, match=UNSUPPORTED):
        prepare_signature(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    png = _patch_png_size(_encode(Image.new("RGB", (16, 16)), "PNG"), 50_000, 50_000)
    with pytest.raises(PhotoRejected, match="像素太多"):
        prepare_signature(png)


def test_blob_store_is_content_addressed_and_idempotent(tmp_path: Path):
    store = BlobStore(tmp_path / "blobs")
    data = _encode(_photo((64, 48)), "JPEG")
    sha256 = store.put(data)
    assert sha256 == hashlib.sha256(data).hexdigest()
    path = store.path(sha256)
    assert path == tmp_path / "blobs" / sha256[:2] / sha256
    assert path.read_bytes() == data
    assert store.has(sha256)
    assert store.read(sha256) == data
    inode = path.stat().st_ino

    assert store.put(data) == sha256
    assert path.stat().st_ino == inode  # not rewritten
    assert sorted(p.name for p in path.parent.iterdir()) == [sha256]  # no temp files left
    other = store.put(b"another blob")
    assert other != sha256
    assert store.read(other) == b"another blob"


def test_blob_store_refuses_names_that_are_not_sha256(tmp_path: Path):
    store = BlobStore(tmp_path / "blobs")
    sha256 = hashlib.sha256(b"x").hexdigest()
    for bad in ["../x", "", sha256[:63], sha256.upper(), sha256 + "\n", "../" + sha256[3:] + "abc"]:
        with pytest.raises(ValueError):
            store.path(bad)
    assert not store.has(sha256)
    with pytest.raises(FileNotFoundError):
        store.read(sha256)


def test_record_twice_leaves_one_row(tmp_path: Path):
    sha256 = hashlib.sha256(b"photo").hexdigest()

    async def scenario() -> list:
        db = Database(tmp_path / "edge.db")
        await db.open()
        try:
            await migrate_database(db)
            async with db.write() as conn:
                await record(conn, sha256, "image/jpeg", 5, "2026-11-23T09:00:00+00:00")
            async with db.write() as conn:
                await record(conn, sha256, "image/png", 99, "2026-11-24T09:00:00+00:00")
            async with db.read() as conn, conn.execute("SELECT * FROM blobs") as cursor:
                return [dict(row) for row in await cursor.fetchall()]
        finally:
            await db.close()

    rows = asyncio.run(scenario())
    assert len(rows) == 1
    assert rows[0]["content_type"] == "image/jpeg"
    assert rows[0]["bytes"] == 5
    assert rows[0]["created_at"] == "2026-11-23T09:00:00+00:00"
    assert rows[0]["rev"] > 0
