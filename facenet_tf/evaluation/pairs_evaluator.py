"""The pairs evaluator: embed the images of a pairs file, score the pairs.

    evaluator = PairsEvaluator("lfw/pairsDevTest.txt", flip=True)
    result = evaluator.evaluate(embedder)            # facenet-eval
    result = evaluator.evaluate(v2, gallery=v1)      # §7 compatibility
    dist = evaluator.distances(evaluator.embed(embedder))  # calibration

Every "embed a pairs file and score it" goes through this class: facenet-eval
(one model, or two for arXiv v3 §7's compatibility), the thresholds of
calibration.py, the training-time verifier (training/evaluators.py), the
harmonic evaluation and the photo API's pairs (photos/photo_pairs.py). Each
image of the pairs is embedded once per model; a pair's distance is the
squared L2 distance of its embeddings (paper §2), and verification.evaluate
turns the distances into 10-fold accuracy, VAL at a target FAR, AUC and EER.
The variants are parameters:

  models   one (verification), or two: the gallery's model embeds each
           pair's first image and the probe's its second (§7 Fig. 8)
  images   `embed`: the files of an aligned tree (or raw LFW) through the
           model's window (eval_lib.embed_files); photos: the photo API's
           embeddings (photo_pairs.embed_main_faces), given to `score`

Folds: View 2's pairs.txt carries LFW's 10 folds and they are kept. A
single-set file (View 1's pairsDevTrain/pairsDevTest) has none; its pairs
are dealt into 10 folds by position (pair i goes to fold i mod 10), so every
threshold is still chosen on pairs it is not tested on, and, as the file
lists N same then N different pairs, each fold gets a tenth of each kind.
Unlike View 2's, these folds may share people.
"""
import os
import time

import numpy as np

from facenet_tf.alignment import spec as spec_lib
from facenet_tf.data import eval_input
from facenet_tf.evaluation import calibration
from facenet_tf.evaluation import compatibility
from facenet_tf.evaluation import eval_lib
from facenet_tf.evaluation import lfw_protocol
from facenet_tf.evaluation import verification

NUM_FOLDS = 10


def pair_folds(fold, num_folds=NUM_FOLDS):
  """(fold ids, how they were made): the file's, or dealt by position."""
  fold = np.asarray(fold)
  if np.unique(fold).size > 1:
    return fold, "pairs file"
  return (np.arange(fold.size) % num_folds,
          f"interleaved: pair i in fold i mod {num_folds}")


def tree_alignment(images_dir):
  """(AlignmentSpec or None, stems of fallback crops) of an image tree.

  A tree written by data_pipelines.align has its spec and, in its summary,
  the files where no face was found (their crop, if any, is a fallback).
  """
  fallback = {os.path.join(images_dir, stem)
              for stem in spec_lib.fallback_stems(images_dir)}
  return spec_lib.read(images_dir), fallback


class PairsEvaluator:
  """An LFW-format pairs file, read once, and how its images are seen.

  Attributes: paths (each image once), first / second (their indices per
  pair), issame, folds, fold_source, pairs_file, root (the tree the paths
  are in), crop_fraction and the other arguments.

  Args:
    pairs_file: an LFW pair list (View 1 or View 2 format).
    images_dir: the `<name>/<name>_NNNN.<ext>` tree; None = images/ beside
      `pairs_file`.
    target_far: the FAR of the reported VAL (paper §5.1: 1e-3).
    crop_fraction: the centre fraction of each side kept before resizing;
      None: the tree's alignment spec's, else eval_lib.DEFAULT_CROP_FRACTION.
    flip: average with the mirrored image's embedding (eval_lib.embed_files).
    batch_size: images per embedding call.
    jpeg_quality: re-encode every crop as a JPEG of this quality, 1..100,
      before the model (paper Table 4); None: off.
    degrade_pixels: reduce every crop to this many pixels and resize it back
      (paper Table 4); None or 0: off.
    progress: show a progress bar while embedding.

  Raises:
    FileNotFoundError: naming the first missing image.
    eval_lib.InputError: a malformed pairs file.
    ValueError: jpeg_quality or degrade_pixels out of range (checked before
      anything is read).
  """

  def __init__(self, pairs_file, images_dir=None, *, target_far=1e-3,
               crop_fraction=None, flip=False, batch_size=64,
               jpeg_quality=None, degrade_pixels=None, progress=True):
    eval_input.check_degradation(jpeg_quality, degrade_pixels)
    self.pairs_file = os.path.abspath(pairs_file)
    pairs = self._read(pairs_file, images_dir)
    self.paths, self.first, self.second, self.issame, fold = (
        lfw_protocol.pair_image_index(pairs))
    self.folds, self.fold_source = pair_folds(fold)
    # The root read_pairs used: <root>/<name>/<file>.
    self.root = os.path.abspath(os.path.dirname(os.path.dirname(
        self.paths[0])))
    self.crop_fraction = (eval_lib.default_crop_fraction(self.root)
                          if crop_fraction is None else crop_fraction)
    self.target_far, self.flip, self.batch_size = target_far, flip, batch_size
    self.jpeg_quality = jpeg_quality
    self.degrade_pixels = degrade_pixels or None
    self.progress = progress

  @staticmethod
  def _read(pairs_file, images_dir):
    try:
      return lfw_protocol.read_pairs(pairs_file, images_dir,
                                     check_exists=True)
    except ValueError as error:
      raise eval_lib.InputError(str(error)) from None
    except FileNotFoundError as error:
      tree = images_dir or os.path.join(os.path.dirname(pairs_file), "images")
      if os.path.exists(os.path.join(tree, spec_lib.ALIGN_SUMMARY_FILE)):
        raise eval_lib.InputError(
            f"{error}: {tree} was aligned without a crop for images where no "
            "face was found; align evaluation images with --no_face "
            "center_crop, so that every pair is scored (the fallback crops "
            "are counted in the result)") from None
      raise

  def check_folds(self):
    """Raises eval_lib.InputError if the file is too small for k-fold
    verification (verification.check_folds: a single-set file needs >= 10
    same and >= 10 different pairs for its 10 dealt folds). `evaluate` and
    the training-time verifier check before embedding; distances alone
    (calibration) need no folds."""
    try:
      verification.check_folds(self.issame, self.folds)
    except ValueError as error:
      raise eval_lib.InputError(
          f"{self.pairs_file} has too few pairs for 10-fold verification "
          f"(folds: {self.fold_source}): {error}") from None

  @property
  def names(self):
    """The identity of each image (its directory's name)."""
    return [os.path.basename(os.path.dirname(p)) for p in self.paths]

  def embed(self, model):
    """Embeddings [N, D] of `paths` by `model` (an eval_lib.Embedder), each
    image once, at the model's own input size."""
    return eval_lib.embed_files(
        model.embed, self.paths, tuple(int(s) for s in model.image_size),
        self.crop_fraction, self.batch_size, self.flip, self.progress,
        self.jpeg_quality, self.degrade_pixels)

  def distances(self, emb, probe_emb=None):
    """Squared L2 distance of each pair (§2): first image from `emb`,
    second from `probe_emb` (default `emb`)."""
    probe_emb = emb if probe_emb is None else probe_emb
    return np.sum((emb[self.first] - probe_emb[self.second]) ** 2, axis=1)

  def score(self, emb, probe_emb=None):
    """verification.evaluate's dict of the pairs' distances."""
    return verification.evaluate(self.distances(emb, probe_emb), self.issame,
                                 self.folds, self.target_far)

  def fallback_counts(self, touched):
    """Images (bool [N]) scored on a fallback crop, and the pairs they touch."""
    touched = np.asarray(touched, bool)
    return {"fallback_images": int(touched.sum()),
            "fallback_pairs": int(np.sum(touched[self.first]
                                         | touched[self.second]))}

  def alignment_report(self, model_alignment, strict=False):
    """Alignment fields of a result: specs, the warning, fallback counts.

    Raises:
      eval_lib.InputError: `strict` and the specs differ.
    """
    data_spec, fallback = tree_alignment(self.root)
    try:
      warning = spec_lib.check_compatible(model_alignment, data_spec, strict)
    except spec_lib.AlignmentMismatch as error:
      raise eval_lib.InputError(str(error)) from None
    if warning is None and (model_alignment is None) != (data_spec is None):
      warning = ("the model's alignment spec is unknown" if data_spec else
                 f"the images carry no alignment spec (the model wants "
                 f"{model_alignment.name}; align them with "
                 "data_pipelines.align)")
    touched = [os.path.splitext(p)[0] in fallback for p in self.paths]
    return {"alignment": data_spec.to_dict() if data_spec else None,
            "model_alignment": (model_alignment.to_dict() if model_alignment
                                else None),
            "alignment_warning": warning, **self.fallback_counts(touched)}

  def _view(self):
    """How the images were seen, for a result."""
    return {"pairs_file": self.pairs_file, "fold_source": self.fold_source,
            "num_images": len(self.paths),
            "crop_fraction": self.crop_fraction, "flip": self.flip,
            "jpeg_quality": self.jpeg_quality,
            "degrade_pixels": self.degrade_pixels}

  def evaluate(self, model, gallery=None, output_dir=None,
               strict_alignment=False):
    """facenet-eval's result for `model` (an eval_lib.Embedder).

    Alone: verification.evaluate's dict, plus model, pairs_file, images_dir,
    fold_source, num_images, image_size, crop_fraction, flip, jpeg_quality,
    degrade_pixels, seconds, files (the paths written), at_model_thresholds
    (an export with calibrated thresholds: calibration.at_thresholds), and
    the alignment
    report: alignment (the tree's spec), model_alignment,
    alignment_warning, fallback_images and fallback_pairs (pairs with an
    image whose face was not found, scored on the aligner's fallback
    crop). `output_dir`: `<stem>_verification.json`, `<stem>_roc.png` and
    `<stem>_distances.png` (<stem>: the pairs file's name).

    With a `gallery` model (§7: v1, the gallery; `model` is v2, the
    probes): {v1_v1, v2_v2, v1_v2} verification.evaluate dicts, plus
    v1_model, v2_model and the fields above from pairs_file to seconds
    and files; `output_dir`: `<stem>_compatibility.json` and
    `<stem>_compatibility_roc.png`.

    Raises:
      eval_lib.InputError: a file too small for its folds (before any
        image is embedded), an undecodable image, an alignment mismatch
        with `strict_alignment`, or two models of different embedding sizes.
    """
    self.check_folds()
    started = time.time()
    stem = os.path.splitext(os.path.basename(self.pairs_file))[0]
    if gallery is not None:
      return self._compatibility(gallery, model, output_dir, stem, started)
    report = self.alignment_report(model.alignment, strict_alignment)
    dist = self.distances(self.embed(model))
    result = verification.evaluate(dist, self.issame, self.folds,
                                   self.target_far)
    result.update({
        "model": model.source, **self._view(), "images_dir": self.root,
        **report, "image_size": list(int(s) for s in model.image_size),
        "seconds": round(time.time() - started, 1), "files": []})
    if model.thresholds is not None:
      result["at_model_thresholds"] = calibration.at_thresholds(
          dist, self.issame, model.thresholds)
    if output_dir:
      # matplotlib is the `eval` extra: training, which scores through
      # this module, must not need it.
      from facenet_tf.evaluation import pairs_outputs  # pylint: disable=g-import-not-at-top
      result["files"] = pairs_outputs.write_verification(
          result, dist, self.issame, output_dir, stem)
    return result

  def _compatibility(self, v1, v2, output_dir, stem, started):
    """The three §7 modes: v1 embeds the gallery, v2 the probes."""
    emb = [self.embed(m) for m in (v1, v2)]
    try:
      dists = compatibility.mode_distances(emb[0], emb[1], self.first,
                                           self.second)
    except ValueError as error:
      raise eval_lib.InputError(str(error)) from None
    result = compatibility.evaluate_distances(dists, self.issame, self.folds,
                                              self.target_far)
    result.update({"v1_model": v1.source, "v2_model": v2.source,
                   **self._view(),
                   "seconds": round(time.time() - started, 1), "files": []})
    if output_dir:
      # matplotlib is the `eval` extra (see evaluate).
      from facenet_tf.evaluation import pairs_outputs  # pylint: disable=g-import-not-at-top
      result["files"] = pairs_outputs.write_compatibility(
          result, dists, self.issame, output_dir, stem)
    return result
