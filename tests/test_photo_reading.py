"""facenet_tf.data.reading: every photo a user has, or a clear error."""
import io
import struct
import zlib

import numpy as np
from PIL import Image
import pytest

from facenet_tf.data import reading

# A 4 x 2 photo: left half red, right half blue.
RGB = np.zeros((2, 4, 3), np.uint8)
RGB[:, :2] = (255, 0, 0)
RGB[:, 2:] = (0, 0, 255)


def _encoded(image, fmt, **kwargs):
  buffer = io.BytesIO()
  image.save(buffer, format=fmt, **kwargs)
  return buffer.getvalue()


@pytest.mark.unit
@pytest.mark.parametrize("kind", ["path", "bytes", "array", "pil"])
def test_every_input_type_gives_the_same_pixels(kind, tmp_path):
  image = Image.fromarray(RGB)
  path = tmp_path / "photo.png"
  image.save(path)
  source = {"path": str(path), "bytes": path.read_bytes(), "array": RGB,
            "pil": image}[kind]
  np.testing.assert_array_equal(reading.read_photo(source), RGB)


@pytest.mark.unit
def test_exif_orientation_is_applied():
  """Orientation 6 (rotate 90 clockwise to view): the stored 4 x 2 photo is
  shown 2 wide and 4 tall, red on top."""
  exif = Image.Exif()
  exif[0x0112] = 6
  data = _encoded(Image.fromarray(RGB), "JPEG", exif=exif, quality=100)
  upright = reading.read_photo(data)
  assert upright.shape == (4, 2, 3)
  assert upright[0, 0, 0] > 200 and upright[-1, 0, 2] > 200


@pytest.mark.unit
@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK", "I;16", "LA",
                                  "PA"])
def test_modes_become_rgb(mode):
  source = Image.fromarray(RGB)
  if mode == "I;16":
    grey = (np.arange(8).reshape(2, 4) * 8000).astype(np.uint16)
    source = Image.fromarray(grey)
    assert source.mode == "I;16"
    out = reading.read_photo(_encoded(source, "PNG"))
    # 16 bits -> 8 by the top byte, not clipped at 255.
    np.testing.assert_array_equal(out[..., 0], (grey >> 8).astype(np.uint8))
    return
  converted = source.convert(mode)
  out = reading.read_photo(converted)
  assert out.shape == (2, 4, 3) and out.dtype == np.uint8
  if mode in ("RGBA", "P", "CMYK", "PA"):
    np.testing.assert_allclose(out.astype(int), RGB.astype(int), atol=2)


@pytest.mark.unit
def test_transparency_is_composited_on_white():
  rgba = np.zeros((2, 2, 4), np.uint8)
  rgba[0, 0] = (0, 0, 0, 255)      # opaque black
  rgba[1, 1] = (0, 0, 0, 0)        # transparent
  out = reading.read_photo(Image.fromarray(rgba, "RGBA"))
  assert tuple(out[0, 0]) == (0, 0, 0) and tuple(out[1, 1]) == (255,) * 3
  np.testing.assert_array_equal(reading.read_photo(rgba), out)


@pytest.mark.unit
@pytest.mark.parametrize("array, expected", [
    (np.full((2, 2), 0.5, np.float32), 128),    # float in 0..1
    (np.full((2, 2, 1), 65535, np.uint16), 255),
    (np.full((2, 2), 40, np.uint8), 40)])
def test_array_dtypes(array, expected):
  out = reading.read_photo(array)
  assert out.shape == (2, 2, 3) and np.all(out == expected)


def _chunk(kind, data):
  body = kind + data
  return (struct.pack(">I", len(data)) + body
          + struct.pack(">I", zlib.crc32(body)))


def _png_header_only(width, height):
  """A 100-byte PNG that claims width x height (its data is a stub)."""
  ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
  return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
          + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))


@pytest.mark.unit
@pytest.mark.parametrize("case, message", [
    ("missing", "no such file"), ("directory", "is a directory"),
    ("text", "cannot be read as an image"),
    ("truncated", "cannot be read as an image"),
    ("bomb", "decompression bomb"), ("type", "not a path"),
    ("shape", r"expected \[H, W\]"), ("nan", "NaN")])
def test_bad_photos_raise_photo_error_naming_them(case, message, tmp_path):
  jpeg = _encoded(Image.fromarray(np.full((64, 64, 3), 90, np.uint8)),
                  "JPEG")
  sources = {
      "missing": str(tmp_path / "gone.jpg"), "directory": str(tmp_path),
      "text": b"hello, not a photo", "truncated": jpeg[:len(jpeg) // 2],
      "bomb": _png_header_only(30000, 30000), "type": 42,
      "shape": np.zeros((2, 2, 2), np.uint8),
      "nan": np.full((2, 2), np.nan)}
  with pytest.raises(reading.PhotoError, match=message) as info:
    reading.read_photo(sources[case])
  assert reading.describe(sources[case]) in str(info.value)


@pytest.mark.unit
def test_max_pixels_is_the_users_to_set():
  photo = Image.fromarray(np.zeros((100, 100, 3), np.uint8))
  with pytest.raises(reading.PhotoError, match="max_pixels"):
    reading.read_photo(photo, max_pixels=5000)
  assert reading.read_photo(photo, max_pixels=10000).shape == (100, 100, 3)
