"""One image file's bytes -> the encoded image a record stores, or why not.

JPEG and PNG files that TensorFlow decodes are stored as their original bytes:
the training reader decodes them with TensorFlow, so TensorFlow is the judge,
and not re-encoding keeps JPEGs free of a second lossy pass. Everything else
(PGM/PPM as in AT&T/ORL, BMP, GIF, TIFF, WebP, and the rare JPEG TensorFlow
refuses but Pillow reads whole, e.g. one missing only its end marker) is
decoded by Pillow and stored as a lossless PNG. Every image is decoded
completely, so a corrupt or truncated file is caught here and never reaches a
record.
"""
import io
import re

from PIL import Image
import tensorflow as tf

# Extensions worth decoding; any other file is reported as `not_an_image`.
IMAGE_EXTENSIONS = frozenset({
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".pgm", ".ppm", ".pbm", ".pnm",
    ".tif", ".tiff", ".webp"})
UNDECODABLE = "undecodable"

# Format by content, not by extension: a PNG named `.jpg` is stored as PNG.
_NATIVE_SIGNATURES = ((b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"))
# Pillow bands of single-channel modes (1, L, LA, I, I;16, F): kept grey.
_GREY_BANDS = frozenset({"1", "L", "I", "F"})
# TF prefixes op errors with `{{function_node ...}}`, noise in a manifest.
_TF_NODE_PREFIX = re.compile(r"^\{\{[^}]*\}\}\s*")
# Pillow names the stream `<_io.BytesIO object at 0x7f...>`: the address
# would make manifests differ from run to run.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class UnusableImage(Exception):
  """A file that gives no image: `reason` is a manifest skip reason."""

  def __init__(self, reason, detail):
    super().__init__(f"{reason}: {detail}")
    self.reason = reason
    self.detail = detail


def convert(data):
  """Validates an encoded image by decoding it and chooses what to store.

  Args:
    data: the file's bytes.

  Returns:
    A dict with `bytes` (what the record stores), `format` ('jpeg' or 'png',
    of the stored bytes), `height`, `width`, `channels` and `source_format`
    (the file's own format, e.g. 'jpeg', 'ppm' for PGM files, 'gif').

  Raises:
    UnusableImage: neither TensorFlow nor Pillow decodes the whole image.
  """
  native = _native_format(data)
  tf_error = None
  if native:
    try:
      pixels = tf.io.decode_image(data, expand_animations=False)
    except tf.errors.OpError as error:
      tf_error = _TF_NODE_PREFIX.sub("", error.message)
    else:
      height, width, channels = pixels.shape
      return {"bytes": data, "format": native, "height": height,
              "width": width, "channels": channels, "source_format": native}
  return _reencode_as_png(data, tf_error)


def _native_format(data):
  for signature, name in _NATIVE_SIGNATURES:
    if data.startswith(signature):
      return name
  return None


def _reencode_as_png(data, tf_error):
  """Pillow decode -> lossless PNG, grey as 1 channel and the rest as RGB."""
  try:
    with Image.open(io.BytesIO(data)) as image:
      image.load()
      source_format = image.format.lower()
      grey = image.getbands()[0] in _GREY_BANDS
      # Alpha and palettes are dropped: the reader wants grey or RGB pixels.
      pixels = image.convert("L" if grey else "RGB")
  # Pillow signals a bad file with many types (OSError, SyntaxError,
  # ValueError, struct.error, DecompressionBombError...); each one means the
  # same thing here: the file gives no image.
  except Exception as error:  # pylint: disable=broad-except
    detail = f"Pillow: {type(error).__name__}: {_ADDRESS.sub('', str(error))}"
    if tf_error:
      detail = f"TensorFlow: {tf_error}; {detail}"
    raise UnusableImage(UNDECODABLE, detail) from None
  buffer = io.BytesIO()
  pixels.save(buffer, format="PNG")
  return {"bytes": buffer.getvalue(), "format": "png",
          "height": pixels.height, "width": pixels.width,
          "channels": 1 if grey else 3, "source_format": source_format}
