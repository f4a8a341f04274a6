"""SavedModel export of a `FaceEmbedder`, and a loader for evaluation tools.

The export is standalone: `tf.saved_model.load(path)` needs neither facenet_tf
nor any Keras object. Its signatures:

  serving_default  images: uint8 [None, H, W, C]    -> embeddings [None, D]
  encoded_images   images: string [None] (JPEG/PNG) -> embeddings [None, D]

`encoded_images` takes aligned faces (data_pipelines.align's crops, any
size) and cuts the model's view of them as training and evaluation do
(alignment/model_crop_tf): the central `model_crop_fraction` of the
export's alignment spec, or the whole image without a spec. Both run the
model in inference mode (BatchNorm uses its moving statistics) and return
float32 unit-norm embeddings whatever the model's dtype policy, compared by
squared L2 distance (paper §2).

The metadata (export_metadata.ExportMetadata: input size, channels,
embedding size, architecture, alignment spec, thresholds, ...) is stored
twice: as `assets.extra/facenet_export.json`, readable without TensorFlow,
and as non-trainable variables on the saved module (`loaded.image_size`,
`loaded.embedding_dim`, ..., and the whole JSON in `loaded.metadata_json`).
`export_loaders.load` reads it back with the model; deploy/convert.py
carries it into LiteRT and ONNX files.
"""
import os

import tensorflow as tf

from facenet_tf import atomic_files
from facenet_tf import export_metadata
from facenet_tf.alignment import model_crop
from facenet_tf.alignment import model_crop_tf
from facenet_tf.data import augment

# Metadata keys also saved as variables on the module.
_ATTRIBUTES = ("format_version", "architecture", "image_size", "channels",
               "embedding_dim", "preprocessing", "distance")
_RESIZE = ("the central crop_fraction of each side (the alignment spec's "
           "model_crop_fraction; 1 without a spec), resized bilinearly "
           "without antialiasing when its size differs from image_size, "
           "rounded (half to even) and clipped to uint8; grey models: luma "
           "0.2989 R + 0.587 G + 0.114 B, rounded")


def export_saved_model(embedder, export_dir, *, alignment, thresholds,
                       overwrite=False):
  """Writes `embedder` as a standalone SavedModel; returns its absolute path.

  Every export of a model goes through here (the training recipes, the
  facenet-export app, and through it LiteRT and ONNX). `alignment` and
  `thresholds` have no default, so no caller can drop them by omission.

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
    alignment: the AlignmentSpec of the faces the model was trained on (the
      photo API and the evaluation tools align faces with it), or None
      when they had none (synthetic faces).
    thresholds: calibrated export_metadata.Thresholds
      (calibration.calibrate), the apps' defaults for same/different and
      unknown, or None.

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
  metadata = metadata_of(embedder, alignment, thresholds)
  module, signatures = _serving_module(embedder, metadata,
                                       model_crop.crop_fraction(alignment))
  with atomic_files.staged_directory(export_dir) as staging:
    tf.saved_model.save(module, staging, signatures=signatures)
    metadata_path = export_metadata.saved_model_metadata_path(staging)
    os.mkdir(os.path.dirname(metadata_path))
    with open(metadata_path, "w", encoding="utf-8") as f:
      f.write(metadata.to_json())
  return export_dir


def metadata_of(embedder, alignment, thresholds):
  """The ExportMetadata of a SavedModel export of `embedder`."""
  return export_metadata.ExportMetadata(
      architecture=embedder.architecture, image_size=embedder.image_size,
      channels=embedder.channels, embedding_dim=embedder.embedding_dim,
      dtype_policy=embedder.dtype_policy_name, alignment=alignment,
      thresholds=thresholds, encoded_resize=_RESIZE)


def _serving_module(embedder, metadata, crop_fraction):
  """The tf.Module to save and its {name: concrete function} signatures."""
  height, width = embedder.image_size
  channels = embedder.channels
  module = tf.Module(name="facenet_export")
  # Only the variables are tracked, as keras.export.ExportArchive does: the
  # Keras model itself would save its layer objects, which a loader without
  # Keras revives as opaque objects. The functions below capture them.
  module.model_variables = list(embedder.variables)
  described = metadata.to_dict()
  for key in _ATTRIBUTES:
    setattr(module, key, tf.Variable(described[key], trainable=False,
                                     name=key))
  module.metadata_json = tf.Variable(metadata.to_json(), trainable=False,
                                     name="metadata_json")

  @tf.function(input_signature=[
      tf.TensorSpec([None, height, width, channels], tf.uint8, name="images")])
  def embed(images):
    return {"embeddings": embedder(tf.cast(images, tf.float32),
                                   training=False)}

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string,
                                               name="images")])
  def embed_encoded(images):
    pixels = tf.map_fn(
        lambda data: model_crop_tf.model_input(
            augment.decode(data), (height, width), channels, crop_fraction),
        images,
        fn_output_signature=tf.TensorSpec([height, width, channels], tf.uint8))
    return embed(pixels)

  return module, {"serving_default": embed.get_concrete_function(),
                  export_metadata.ENCODED_SIGNATURE:
                      embed_encoded.get_concrete_function()}


def _check_replaceable(export_dir):
  """Raises unless `export_dir` is an export or an empty directory."""
  if not os.path.isdir(export_dir) or os.path.islink(export_dir):
    raise FileExistsError(f"{export_dir} is a file or a symbolic link, not "
                          "an export directory; refusing to replace it.")
  is_export = os.path.isfile(
      export_metadata.saved_model_metadata_path(export_dir))
  if not is_export and os.listdir(export_dir):
    raise FileExistsError(f"{export_dir} is not a facenet_tf export; "
                          "refusing to replace it (remove it yourself).")
