"""Any image file or photo -> an upright RGB uint8 array, or a clear error.

The one reader of image files: the photo API, `--aligned` inputs, the
evaluation input (facenet-eval, the training-time verifier, calibration) and
data_pipelines.align all read through `read_photo`. Accepted: a file path
(str or os.PathLike), encoded bytes, a NumPy array (RGB order, [H, W],
[H, W, 1|3|4]; uint8, uint16, or float in 0..1), or a PIL image. EXIF
orientation is applied. Modes: greyscale (L, I;16, I, F), RGBA and LA
(composited on white, as a viewer shows them), palette (P, with or without
transparency), CMYK and YCbCr, 16-bit (scaled to 8 bits). A file
larger than `max_pixels` is refused before it is decoded (a decompression
bomb), as are missing, truncated and non-image files: each raises
`PhotoError` naming the photo, so a batch reports it and goes on.
"""
import io
import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Image files by extension (Pillow also reads PGM, as AT&T/ORL, and TIFF).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".pgm", ".ppm",
                    ".pbm", ".pnm", ".tif", ".tiff", ".webp")
# Pillow warns at 89M pixels and raises at twice that; 100M pixels (a 10k x
# 10k photo, 300 MB as RGB) is more than any camera writes.
DEFAULT_MAX_PIXELS = 100_000_000
_WHITE = (255, 255, 255)


class PhotoError(ValueError):
  """A photo that cannot be read; the message names it and says why."""


def describe(source):
  """A short name for a photo in messages and results."""
  if isinstance(source, (str, os.PathLike)):
    return os.fspath(source)
  if isinstance(source, (bytes, bytearray, memoryview)):
    return f"<{len(source)} bytes>"
  if isinstance(source, np.ndarray):
    return f"<array {'x'.join(map(str, source.shape))} {source.dtype}>"
  if isinstance(source, Image.Image):
    return f"<PIL image {source.size[0]}x{source.size[1]} {source.mode}>"
  return f"<{type(source).__name__}>"


def read_photo(source, max_pixels=DEFAULT_MAX_PIXELS):
  """[H, W, 3] uint8 RGB of `source` (see the module docstring).

  Raises:
    PhotoError: the source cannot be read as a photo.
  """
  name = describe(source)
  try:
    if isinstance(source, np.ndarray):
      return _from_array(source)
    if isinstance(source, Image.Image):
      return _from_pil(source, max_pixels)
    if isinstance(source, (bytes, bytearray, memoryview)):
      stream = io.BytesIO(bytes(source))
    elif isinstance(source, (str, os.PathLike)):
      if not os.path.exists(source):
        raise PhotoError(f"{name}: no such file")
      if os.path.isdir(source):
        raise PhotoError(f"{name}: is a directory, not a photo")
      stream = open(source, "rb")  # pylint: disable=consider-using-with
    else:
      raise PhotoError(f"{name}: not a path, bytes, NumPy array or PIL "
                       "image")
    with stream:
      with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(stream) as image:
          return _from_pil(image, max_pixels)
  except PhotoError:
    raise
  except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
    raise PhotoError(f"{name}: refused as a decompression bomb ({e})") from None
  except (OSError, ValueError, SyntaxError) as e:
    # UnidentifiedImageError (not an image), truncated data, bad headers.
    # Pillow names the open file in the first: say what it means instead.
    detail = ("not a format Pillow decodes"
              if isinstance(e, UnidentifiedImageError) else e)
    raise PhotoError(f"{name}: cannot be read as an image "
                     f"({type(e).__name__}: {detail})") from None


def _from_pil(image, max_pixels):
  width, height = image.size
  if width * height > max_pixels:
    raise PhotoError(f"{describe(image)}: {width}x{height} is more than "
                     f"max_pixels={max_pixels:,} (a decompression bomb?)")
  image = ImageOps.exif_transpose(image)
  image.load()  # decode now: truncated files fail here, not later
  mode = image.mode
  if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
    return _from_array(np.asarray(image))
  if mode == "P":
    image = image.convert("RGBA" if "transparency" in image.info else "RGB")
  elif mode == "PA":
    image = image.convert("RGBA")
  if image.mode in ("RGBA", "LA", "La", "RGBa"):
    background = Image.new("RGB", image.size, _WHITE)
    background.paste(image.convert("RGBA"), mask=image.convert("RGBA"))
    image = background
  return np.asarray(image.convert("RGB"), np.uint8)


def _from_array(array):
  array = np.asarray(array)
  if array.ndim == 3 and array.shape[-1] == 1:
    array = array[..., 0]
  if array.ndim not in (2, 3) or (array.ndim == 3
                                  and array.shape[-1] not in (3, 4)):
    raise PhotoError(f"{describe(array)}: expected [H, W], [H, W, 1], "
                     "[H, W, 3] (RGB) or [H, W, 4] (RGBA)")
  if min(array.shape[:2]) < 1:
    raise PhotoError(f"{describe(array)}: empty image")
  if array.dtype == np.uint8:
    pixels = array
  elif array.dtype == np.uint16:
    pixels = (array >> 8).astype(np.uint8)
  elif np.issubdtype(array.dtype, np.integer):
    top = max(int(array.max()), 1)
    pixels = (array.astype(np.float64) * (255 / top)).round().astype(np.uint8)
  elif np.issubdtype(array.dtype, np.floating):
    if not np.all(np.isfinite(array)):
      raise PhotoError(f"{describe(array)}: holds NaN or infinite values")
    scale = 255.0 if array.max() <= 1.0 else 1.0
    pixels = np.clip(np.round(array * scale), 0, 255).astype(np.uint8)
  else:
    raise PhotoError(f"{describe(array)}: unsupported dtype")
  if pixels.ndim == 2:
    return np.repeat(pixels[..., None], 3, axis=-1)
  if pixels.shape[-1] == 4:  # RGBA on white
    alpha = pixels[..., 3:].astype(np.float64) / 255
    rgb = pixels[..., :3] * alpha + 255 * (1 - alpha)
    return np.round(rgb).astype(np.uint8)
  return np.ascontiguousarray(pixels)
