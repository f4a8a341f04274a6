"""The models evaluation embeds with, and image files -> embeddings.

    embedder = eval_lib.load_embedder(saved_model=PATH)   # or workdir=DIR
    emb = eval_lib.embed_files(embedder.embed, paths, embedder.image_size)

An Embedder takes float images in 0..255, rounds them to the uint8 pixels
an export takes and returns its embeddings; `embed_files` shows it each
file as the model sees it (eval_input: the central `crop_fraction`,
resized). evaluation/pairs_evaluator.py scores a pairs file with them.
"""
import dataclasses
import os
import typing

import numpy as np
import tensorflow as tf
import tqdm

from facenet_tf import export_loaders
from facenet_tf import export_metadata
from facenet_tf import workdir as workdir_lib
from facenet_tf.alignment import model_crop
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.data import eval_input

# LFW images are 250 x 250, the face detector's box enlarged 2.2 times (LFW
# README §1): the face spans ~114 px. The central 140 px (0.56) keep the face
# and ~13% of margin on each side, close to davidsandberg/facenet's aligned
# 160 px crops (face box + 44 px margin at 182 px, centre 160). Pre-aligned
# images (data_pipelines.align) carry their spec, whose model_crop_fraction
# (160 / 182 = 0.88) is used instead.
DEFAULT_CROP_FRACTION = 0.56


class InputError(ValueError):
  """A pairs file, image or model path the user must fix."""


@dataclasses.dataclass(frozen=True)
class Embedder:
  """embed: float32 images [b, H, W, 3] in 0..255 -> float32 [b, D].

  alignment: the AlignmentSpec of the faces it was trained on, or None.
  thresholds: the calibrated export_metadata.Thresholds of an export, or
    None.
  """
  embed: typing.Callable[[np.ndarray], np.ndarray]
  image_size: tuple
  source: str
  alignment: spec_lib.AlignmentSpec | None = None
  thresholds: export_metadata.Thresholds | None = None


def load_embedder(saved_model=None, workdir=None):
  """The model of a SavedModel, or of a workdir (its saved_model/ if there,
  else the latest checkpoint), as an Embedder.

  Images are rounded to uint8 before either model sees them, as the
  SavedModel takes them, so both give the same embeddings.
  """
  if (saved_model is None) == (workdir is None):
    raise ValueError("Pass exactly one of saved_model and workdir.")
  if workdir is not None and os.path.isdir(os.path.join(workdir,
                                                        "saved_model")):
    saved_model = os.path.join(workdir, "saved_model")
  if saved_model is not None:
    if not os.path.exists(saved_model):
      raise FileNotFoundError(f"Model {saved_model} does not exist.")
    try:
      exported = export_loaders.load(saved_model)
    except ValueError as error:
      raise InputError(str(error)) from None
    return of_exported(exported, saved_model)
  embedder, step = workdir_lib.restore_embedder(workdir)
  return of_keras(embedder, f"{workdir} (checkpoint step {step})",
                  spec_lib.read(workdir))


def of_exported(exported, source):
  """An export_loaders.ExportedModel as an Embedder (uint8 input)."""
  return Embedder(lambda images: exported(to_uint8(images, exported.channels)),
                  exported.image_size, source, exported.alignment,
                  exported.metadata.thresholds)


def of_keras(embedder, source, alignment=None):
  """A Keras FaceEmbedder as an Embedder, fed the uint8 pixels its export
  would take (the training-time verifier's and a checkpoint's view)."""
  forward = tf.function(lambda x: embedder(tf.cast(x, tf.float32),
                                           training=False))
  return Embedder(
      lambda images: forward(to_uint8(images, embedder.channels)).numpy(),
      tuple(embedder.image_size), source, alignment)


def to_uint8(images, channels):
  """float 0..255 RGB images -> the uint8 model input (rounded half to even,
  then grey if channels = 1: model_crop.to_channels)."""
  images = np.clip(np.round(np.asarray(images, np.float32)), 0, 255)
  return model_crop.to_channels(images.astype(np.uint8), channels)


def default_crop_fraction(images_dir):
  """The spec's model crop for an aligned tree, else LFW's centre crop."""
  spec = spec_lib.read(images_dir) if images_dir else None
  return spec.model_crop_fraction if spec else DEFAULT_CROP_FRACTION


def embed_files(embed_fn, paths, image_size,
                crop_fraction=DEFAULT_CROP_FRACTION, batch_size=64, flip=False,
                progress=True, jpeg_quality=None, degrade_pixels=None):
  """Embeddings [N, D] of image files: the model's view (the central
  `crop_fraction` of each side, resized: eval_input), embedded.

  `jpeg_quality` and `degrade_pixels` lower the crops' quality before the
  model sees them (eval_input.degrade, paper Table 4); None: off.

  With `flip`, an image's embedding is L2-normalise(emb(image) +
  emb(mirrored image)): faces are roughly mirror-symmetric, so the two views
  average out some pose and lighting asymmetry (a test-time augmentation;
  the paper reports none).
  """
  dataset = eval_input.image_files_dataset(
      paths, image_size, batch_size, crop_fraction, jpeg_quality,
      degrade_pixels)
  out = []
  with tqdm.tqdm(total=len(paths), unit="img", desc="embedding",
                 disable=not progress) as bar:
    try:
      for images in dataset:
        images = images.numpy()
        emb = embed_fn(images)
        if flip:
          emb = emb + embed_fn(images[:, :, ::-1])
          emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True),
                                 1e-12)
        out.append(np.asarray(emb, np.float32))
        bar.update(len(images))
    except tf.errors.InvalidArgumentError as error:
      raise InputError(error.message.strip().splitlines()[0]) from None
  return np.concatenate(out)
