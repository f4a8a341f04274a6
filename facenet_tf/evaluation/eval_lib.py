"""Verification of an embedding model on an LFW-format pairs file (§5.1).

    embedder = eval_lib.load_embedder(saved_model=PATH)   # or workdir=DIR
    result = eval_lib.evaluate_pairs(embedder.embed, "lfw/pairs.txt", None,
                                     embedder.image_size, flip=True,
                                     output_dir="/tmp/lfw_eval")

Each image of the pairs is embedded once; a pair's distance is the squared
L2 distance of its embeddings (paper §2), and verification.evaluate turns
the distances into accuracy, VAL at a target FAR, AUC and EER.

Folds: View 2's pairs.txt carries LFW's 10 folds and they are kept. A
single-set file (View 1's pairsDevTrain/pairsDevTest) has none; its pairs
are dealt into 10 folds by position (pair i goes to fold i mod 10), so every
threshold is still chosen on pairs it is not tested on, and, as the file
lists N same then N different pairs, each fold gets a tenth of each kind.
Unlike View 2's, these folds may share people.
"""
import dataclasses
import json
import os
import time
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
from facenet_tf.evaluation import lfw_protocol
from facenet_tf.evaluation import roc
from facenet_tf.evaluation import verification

NUM_FOLDS = 10
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
    to_model = lambda images: exported(to_uint8(images, exported.channels))
    return Embedder(to_model, exported.image_size, saved_model,
                    exported.alignment, exported.metadata.thresholds)
  embedder, step = workdir_lib.restore_embedder(workdir)
  forward = tf.function(lambda x: embedder(tf.cast(x, tf.float32),
                                           training=False))
  to_model = lambda images: forward(to_uint8(images,
                                              embedder.channels)).numpy()
  return Embedder(to_model, tuple(embedder.image_size),
                  f"{workdir} (checkpoint step {step})",
                  spec_lib.read(workdir))


def to_uint8(images, channels):
  """float 0..255 RGB images -> the uint8 model input (rounded half to even,
  then grey if channels = 1: model_crop.to_channels)."""
  images = np.clip(np.round(np.asarray(images, np.float32)), 0, 255)
  return model_crop.to_channels(images.astype(np.uint8), channels)


def pair_folds(fold, num_folds=NUM_FOLDS):
  """(fold ids, how they were made): the file's, or dealt by position."""
  fold = np.asarray(fold)
  if np.unique(fold).size > 1:
    return fold, "pairs file"
  return (np.arange(fold.size) % num_folds,
          f"interleaved: pair i in fold i mod {num_folds}")


def pair_index(pairs_file, images_dir=None):
  """(paths, first, second, issame, folds, fold_source) of a pairs file.

  Each image appears once in `paths`; first and second index it.

  Raises:
    FileNotFoundError: naming the first missing image.
    InputError: a malformed pairs file.
  """
  try:
    pairs = lfw_protocol.read_pairs(pairs_file, images_dir, check_exists=True)
  except ValueError as error:
    raise InputError(str(error)) from None
  except FileNotFoundError as error:
    tree = images_dir or os.path.join(os.path.dirname(pairs_file), "images")
    if os.path.exists(os.path.join(tree, spec_lib.ALIGN_SUMMARY_FILE)):
      raise InputError(
          f"{error}: {tree} was aligned without a crop for images where no "
          "face was found; align evaluation images with --no_face "
          "center_crop, so that every pair is scored (the fallback crops "
          "are counted in the result)") from None
    raise
  paths, first, second, issame, fold = lfw_protocol.pair_image_index(pairs)
  return (paths, first, second, issame, *pair_folds(fold))


def tree_alignment(images_dir):
  """(AlignmentSpec or None, stems of fallback crops) of an image tree.

  A tree written by data_pipelines.align has its spec and, in its summary,
  the files where no face was found (their crop, if any, is a fallback).
  """
  fallback = {os.path.join(images_dir, stem)
              for stem in spec_lib.fallback_stems(images_dir)}
  return spec_lib.read(images_dir), fallback


def _alignment_report(paths, first, second, images_dir, model_alignment,
                      strict):
  """Alignment fields of a result: specs, the warning, fallback counts."""
  data_spec, fallback = tree_alignment(images_dir)
  touched = np.array([os.path.splitext(p)[0] in fallback for p in paths])
  warning = spec_lib.check_compatible(model_alignment, data_spec, strict)
  if warning is None and (model_alignment is None) != (data_spec is None):
    warning = ("the model's alignment spec is unknown" if data_spec else
               f"the images carry no alignment spec (the model wants "
               f"{model_alignment.name}; align them with "
               "data_pipelines.align)")
  return {"alignment": data_spec.to_dict() if data_spec else None,
          "model_alignment": (model_alignment.to_dict() if model_alignment
                              else None),
          "alignment_warning": warning,
          "fallback_images": int(touched.sum()),
          "fallback_pairs": int(np.sum(touched[first] | touched[second]))}


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


def evaluate_pairs(embed_fn, pairs_file, images_dir, image_size,
                   crop_fraction=None, flip=False,
                   target_far=1e-3, batch_size=64, output_dir=None,
                   model=None, progress=True, jpeg_quality=None,
                   degrade_pixels=None, alignment=None,
                   strict_alignment=False):
  """Verification metrics of `embed_fn` on the pairs of `pairs_file`.

  Args:
    embed_fn: float32 images [b, H, W, 3] in 0..255 -> embeddings [b, D].
    pairs_file: an LFW pair list (View 1 or View 2 format).
    images_dir: the `<name>/<name>_NNNN.jpg` tree; None = images/ beside
      `pairs_file`.
    image_size: (height, width) that embed_fn takes.
    crop_fraction: the centre fraction of each side kept before resizing;
      None: the tree's alignment spec's, else DEFAULT_CROP_FRACTION.
    flip: average with the mirrored image's embedding (embed_files).
    target_far: the FAR of the reported VAL.
    batch_size: images per embedding call.
    output_dir: if set, writes `<stem>_verification.json`, `<stem>_roc.png`
      and `<stem>_distances.png` there (<stem>: the pairs file's name).
    model: what embed_fn is (e.g. Embedder.source), stored in the result.
    progress: show a progress bar while embedding.
    jpeg_quality: re-encode every crop as a JPEG of this quality, 1..100,
      before the model (paper Table 4); None: off.
    degrade_pixels: reduce every crop to this many pixels and resize it back
      (paper Table 4); None or 0: off.
    alignment: the model's AlignmentSpec (None: unknown), compared with the
      tree's (`alignment_spec.json` beside it).
    strict_alignment: a mismatch raises instead of warning.

  Returns:
    verification.evaluate's dict, plus model, pairs_file, images_dir,
    fold_source, num_images, image_size, crop_fraction, flip, jpeg_quality,
    degrade_pixels, seconds, files (the paths written), and the alignment
    report: alignment (the tree's spec), model_alignment,
    alignment_warning, fallback_images and fallback_pairs (pairs with an
    image whose face was not found, scored on the aligner's fallback crop).

  Raises:
    FileNotFoundError: naming the first missing image.
    InputError: a malformed pairs file or an undecodable image.
    ValueError: jpeg_quality or degrade_pixels out of range.
  """
  started = time.time()
  eval_input.check_degradation(jpeg_quality, degrade_pixels)
  paths, first, second, issame, folds, fold_source = pair_index(pairs_file,
                                                                images_dir)
  # The root read_pairs used: <root>/<name>/<file>.
  root = os.path.abspath(os.path.dirname(os.path.dirname(paths[0])))
  try:
    report = _alignment_report(paths, first, second, root, alignment,
                               strict_alignment)
  except spec_lib.AlignmentMismatch as error:
    raise InputError(str(error)) from None
  if crop_fraction is None:
    crop_fraction = default_crop_fraction(root)
  image_size = tuple(int(s) for s in image_size)
  emb = embed_files(embed_fn, paths, image_size, crop_fraction, batch_size,
                    flip, progress, jpeg_quality, degrade_pixels)
  dist = np.sum((emb[first] - emb[second]) ** 2, axis=1)  # squared L2, §2
  result = verification.evaluate(dist, issame, folds, target_far)
  result.update({
      "model": model, "pairs_file": os.path.abspath(pairs_file),
      "images_dir": root, **report,
      "fold_source": fold_source, "num_images": len(paths),
      "image_size": list(image_size), "crop_fraction": crop_fraction,
      "flip": flip, "jpeg_quality": jpeg_quality,
      "degrade_pixels": degrade_pixels or None,
      "seconds": round(time.time() - started, 1), "files": []})
  if output_dir:
    result["files"] = write_outputs(result, dist, issame, output_dir,
                                    _stem(pairs_file))
  return result


def _stem(pairs_file):
  return os.path.splitext(os.path.basename(pairs_file))[0]


def write_outputs(result, dist, issame, output_dir, stem):
  """Writes the JSON and the two PNGs; returns their paths."""
  # matplotlib is the `eval` extra: training, which verifies through this
  # module, must not need it.
  from facenet_tf.evaluation import plots  # pylint: disable=g-import-not-at-top
  os.makedirs(output_dir, exist_ok=True)
  json_path = os.path.join(output_dir, f"{stem}_verification.json")
  roc_path = os.path.join(output_dir, f"{stem}_roc.png")
  hist_path = os.path.join(output_dir, f"{stem}_distances.png")
  files = [json_path, roc_path, hist_path]
  _, far, tpr = roc.roc_curve(dist, issame)
  title = (f"{stem}: accuracy {result['accuracy']:.3f}, AUC "
           f"{result['auc']:.3f}, EER {result['eer']:.3f}")
  plots.plot_roc(far, tpr, roc_path, result["target_far"], title)
  # Each fold has its own thresholds; their means summarise them.
  plots.plot_distance_histogram(
      dist, issame, hist_path,
      np.mean([f["threshold"] for f in result["folds"]]),
      np.mean([f["val_threshold"] for f in result["folds"]]), stem)
  with open(json_path, "w") as f:
    json.dump({**result, "files": files}, f, indent=2)
  return files
