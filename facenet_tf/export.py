"""SavedModel export of a `FaceEmbedder`, and a loader for evaluation tools.

The export is standalone: `tf.saved_model.load(path)` needs neither facenet_tf
nor any Keras object. Its signatures:

  serving_default  images: uint8 [None, H, W, C]    -> embeddings [None, D]
  encoded_images   images: string [None] (JPEG/PNG) -> embeddings [None, D]

Both run the model in inference mode (BatchNorm uses its moving statistics)
and return float32 unit-norm embeddings whatever the model's dtype policy,
compared by squared L2 distance (paper §2).

The metadata (input size, channels, embedding size, architecture,
preprocessing, distance, format version) is stored twice: as
`assets.extra/facenet_export.json`, readable without TensorFlow, and as
non-trainable variables on the saved module (`loaded.image_size`,
`loaded.embedding_dim`, ..., and the whole JSON in `loaded.metadata_json`).
"""
import json
import os

import numpy as np
import tensorflow as tf

import facenet_tf
from facenet_tf import atomic_files
from facenet_tf.alignment import spec as spec_lib

FORMAT_VERSION = 1
METADATA_FILE = "facenet_export.json"
ENCODED_SIGNATURE = "encoded_images"
# assets.extra/ is the SavedModel place for files the graph does not read
# (assets/ is for tf.saved_model.Asset files the graph opens).
_METADATA_DIR = "assets.extra"
# Metadata keys also saved as variables on the module.
_ATTRIBUTES = ("format_version", "architecture", "image_size", "channels",
               "embedding_dim", "preprocessing", "distance")
_RESIZE = ("bilinear with antialias, then rounded (half to even) and clipped "
           "to uint8, only when the decoded size differs from image_size")


def export_saved_model(embedder, export_dir, overwrite=False, alignment=None,
                       thresholds=None):
  """Writes `embedder` as a standalone SavedModel; returns its absolute path.

  The SavedModel is written to a hidden sibling directory and renamed into
  place (atomic_files.staged_directory), so a reader never sees a
  half-written export, and a failure removes the temporary directory and
  leaves an existing export untouched. Assumes one writer at a time per
  `export_dir`.

  Args:
    embedder: a `FaceEmbedder` (any dtype policy; it outputs float32).
    export_dir: the directory to create.
    overwrite: replace an existing export at `export_dir`. Only a facenet_tf
      export or an empty directory is replaced, so a mistyped path cannot
      delete unrelated files.
    alignment: the AlignmentSpec of the faces the model was trained on; the
      photo API and the evaluation tools align faces with it.
    thresholds: calibrated squared-L2 thresholds (calibration.calibrate),
      the apps' defaults for same/different and unknown.

  Raises:
    FileExistsError: `export_dir` exists and `overwrite` is False, or it is
      not a facenet_tf export.
  """
  export_dir = os.path.abspath(os.fspath(export_dir))
  if os.path.lexists(export_dir):
    if not overwrite:
      raise FileExistsError(f"{export_dir} exists; pass overwrite=True to "
                            "replace it.")
    _check_replaceable(export_dir)
  metadata = _metadata(embedder)
  metadata["alignment"] = alignment.to_dict() if alignment else None
  metadata["thresholds"] = thresholds
  module, signatures = _serving_module(embedder, metadata)
  with atomic_files.staged_directory(export_dir) as staging:
    tf.saved_model.save(module, staging, signatures=signatures)
    os.mkdir(os.path.join(staging, _METADATA_DIR))
    with open(os.path.join(staging, _METADATA_DIR, METADATA_FILE), "w") as f:
      json.dump(metadata, f, indent=2, sort_keys=True)
  return export_dir


def read_metadata(path):
  """The metadata dict of the export at `path` (no TensorFlow needed).

  Raises:
    ValueError: `path` is not a facenet_tf export, or a newer format.
  """
  path = os.fspath(path)
  metadata_path = os.path.join(path, _METADATA_DIR, METADATA_FILE)
  if not os.path.isfile(metadata_path):
    raise ValueError(
        f"{path} is not a facenet_tf export: {metadata_path} is missing. "
        "Write one with facenet_tf.export.export_saved_model.")
  with open(metadata_path) as f:
    metadata = json.load(f)
  version = metadata.get("format_version")
  if not isinstance(version, int) or version > FORMAT_VERSION:
    raise ValueError(f"{path} has export format version {version!r}; this "
                     f"facenet_tf reads versions 1 to {FORMAT_VERSION}.")
  return metadata


class ExportedEmbedder:
  """A loaded export: numpy images in, numpy float32 embeddings [N, D] out.

  Attributes:
    metadata: the export's metadata dict; `image_size` (H, W), `channels`,
      `embedding_dim` and `architecture` are copied from it.
  """

  def __init__(self, path):
    self.metadata = read_metadata(path)
    self.image_size = tuple(self.metadata["image_size"])
    self.channels = self.metadata["channels"]
    self.embedding_dim = self.metadata["embedding_dim"]
    self.architecture = self.metadata["architecture"]
    alignment = self.metadata.get("alignment")
    self.alignment = (spec_lib.AlignmentSpec.from_dict(alignment)
                      if alignment else None)
    # The signatures hold only weak references to the loaded variables: the
    # loaded object must stay alive as long as they are used.
    self._loaded = tf.saved_model.load(os.fspath(path))
    self._embed = self._loaded.signatures["serving_default"]
    self._embed_encoded = self._loaded.signatures[ENCODED_SIGNATURE]

  def __call__(self, images, batch_size=256):
    """Embeds uint8 images [N, H, W, C] (RGB or grey as the model takes)."""
    images = checked_images(images, self.image_size, self.channels)
    return self._batched(self._embed, images, batch_size)

  def embed_encoded(self, encoded, batch_size=256):
    """Embeds a sequence of encoded JPEG/PNG images (bytes), any size."""
    return self._batched(self._embed_encoded,
                         np.asarray(encoded, dtype=object), batch_size)

  def _batched(self, signature, inputs, batch_size):
    outputs = [signature(images=tf.constant(inputs[i:i + batch_size]))
               ["embeddings"].numpy()
               for i in range(0, len(inputs), batch_size)]
    if not outputs:
      return np.zeros((0, self.embedding_dim), np.float32)
    return np.concatenate(outputs)


def checked_images(images, image_size, channels):
  """`images` as a uint8 array [N, H, W, C], or ValueError saying why not."""
  images = np.asarray(images)
  expected = (*image_size, channels)
  if images.dtype != np.uint8 or images.shape[1:] != expected:
    raise ValueError(f"Expected uint8 images of shape [N, {expected}], got "
                     f"{images.dtype} {images.shape}.")
  return images


def load_exported(path):
  """The loader of the export at `path`: an `ExportedEmbedder` for a
  SavedModel directory, a LiteRT / ONNX runtime for a `.tflite` / `.onnx`
  file (facenet_tf/deploy/runtimes.py), all with the same interface."""
  from facenet_tf.deploy import runtimes  # pylint: disable=import-outside-toplevel
  return runtimes.load(path)


def _metadata(embedder):
  colour = "RGB" if embedder.channels == 3 else "grey"
  return {
      "format_version": FORMAT_VERSION,
      "facenet_tf_version": facenet_tf.__version__,
      "architecture": embedder.architecture,
      "image_size": list(embedder.image_size),
      "channels": embedder.channels,
      "embedding_dim": embedder.embedding_dim,
      "dtype_policy": embedder.dtype_policy_name,
      "preprocessing": (f"{colour} uint8 0..255, scaled inside the model as "
                        "x/127.5 - 1"),
      "encoded_resize": _RESIZE,
      "distance": "squared_l2",
      "signatures": {
          "serving_default": "images: uint8 [None, H, W, C] -> embeddings: "
                             "float32 [None, D], unit norm",
          ENCODED_SIGNATURE: "images: string [None] encoded JPEG/PNG -> "
                             "embeddings: float32 [None, D], unit norm",
      },
  }


def _serving_module(embedder, metadata):
  """The tf.Module to save and its {name: concrete function} signatures."""
  height, width = embedder.image_size
  channels = embedder.channels
  module = tf.Module(name="facenet_export")
  # Only the variables are tracked, as keras.export.ExportArchive does: the
  # Keras model itself would save its layer objects, which a loader without
  # Keras revives as opaque objects. The functions below capture them.
  module.model_variables = list(embedder.variables)
  for key in _ATTRIBUTES:
    setattr(module, key, tf.Variable(metadata[key], trainable=False, name=key))
  module.metadata_json = tf.Variable(json.dumps(metadata, sort_keys=True),
                                     trainable=False, name="metadata_json")

  @tf.function(input_signature=[
      tf.TensorSpec([None, height, width, channels], tf.uint8, name="images")])
  def embed(images):
    return {"embeddings": embedder(tf.cast(images, tf.float32),
                                   training=False)}

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string,
                                               name="images")])
  def embed_encoded(images):
    pixels = tf.map_fn(
        lambda data: _decode(data, height, width, channels), images,
        fn_output_signature=tf.TensorSpec([height, width, channels], tf.uint8))
    return embed(pixels)

  return module, {"serving_default": embed.get_concrete_function(),
                  ENCODED_SIGNATURE: embed_encoded.get_concrete_function()}


def _decode(data, height, width, channels):
  """uint8 [height, width, channels] from encoded bytes (see _RESIZE)."""
  # `channels` makes the decoder convert grey <-> RGB; expand_animations=False
  # keeps a GIF to its first frame, so every image is 3-D.
  image = tf.io.decode_image(data, channels=channels, expand_animations=False)

  def resize():
    resized = tf.image.resize(image, (height, width), method="bilinear",
                              antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)

  shape = tf.shape(image)
  same_size = tf.logical_and(shape[0] == height, shape[1] == width)
  image = tf.cond(same_size, lambda: image, resize)
  return tf.ensure_shape(image, [height, width, channels])


def _check_replaceable(export_dir):
  """Raises unless `export_dir` is an export or an empty directory."""
  if not os.path.isdir(export_dir) or os.path.islink(export_dir):
    raise FileExistsError(f"{export_dir} is a file or a symbolic link, not "
                          "an export directory; refusing to replace it.")
  is_export = os.path.isfile(
      os.path.join(export_dir, _METADATA_DIR, METADATA_FILE))
  if not is_export and os.listdir(export_dir):
    raise FileExistsError(f"{export_dir} is not a facenet_tf export; "
                          "refusing to replace it (remove it yourself).")
