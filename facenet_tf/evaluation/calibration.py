"""Calibrated decision thresholds for a model, stored in its export.

The paper's §5.1 threshold (1.1 or 1.242 squared L2 on LFW) belongs to the
paper's model; any other model has its own distance scale. `calibrate`
chooses two thresholds on a model's own validation pairs (pairs of people
it was not trained on, never the pairs it is tested on):

  accuracy   the threshold with the most correct same/different calls
             (verification.best_threshold);
  far        the largest threshold whose false-accept rate is <= target_far
             (verification.val_threshold), for "unknown" answers in an open
             gallery where a false match costs more than a miss.

The export keeps them (export_metadata.Thresholds, with the pairs they
came from); the apps read them from its metadata by default.
"""
import numpy as np

from facenet_tf import export_metadata
from facenet_tf.evaluation import verification


def thresholds_from_distances(dist, issame, target_far=1e-3, source=None):
  """The two Thresholds and how they do on the pairs they came from."""
  dist, issame = np.asarray(dist, np.float64), np.asarray(issame, bool)
  accuracy_threshold = verification.best_threshold(dist, issame)
  far_threshold = verification.val_threshold(dist, issame, target_far)
  val, far = verification.val_far(dist, issame, far_threshold)
  return export_metadata.Thresholds(
      accuracy=round(accuracy_threshold, 6), far=round(far_threshold, 6),
      target_far=target_far, pairs=source, num_pairs=int(dist.size),
      calibration_accuracy=round(verification.accuracy(
          dist, issame, accuracy_threshold), 6),
      calibration_val=round(val, 6), calibration_far=round(far, 6))


def calibrate(model, pairs_file, images_dir=None, target_far=1e-3,
              crop_fraction=None, batch_size=64):
  """The Thresholds of `model` (an eval_lib.Embedder) on `pairs_file`,
  its images seen as the pairs evaluator sees them."""
  # The pairs evaluator imports TensorFlow; the pure part above must not.
  from facenet_tf.evaluation import pairs_evaluator  # pylint: disable=g-import-not-at-top
  evaluator = pairs_evaluator.PairsEvaluator(
      pairs_file, images_dir, target_far=target_far,
      crop_fraction=crop_fraction, batch_size=batch_size, progress=False)
  dist = evaluator.distances(evaluator.embed(model))
  return thresholds_from_distances(dist, evaluator.issame, target_far,
                                   evaluator.pairs_file)


def default_threshold(metadata, kind="accuracy", fallback=1.1):
  """(threshold, where it comes from) for an app without --threshold.

  `metadata`: the model's ExportMetadata, or None. `kind` "accuracy" for
  same/different calls, "far" for open-set "unknown" answers; a model
  without calibration gets `fallback`, the paper's 1.1 (Fig. 1).
  """
  thresholds = metadata.thresholds if metadata else None
  if thresholds:
    return float(getattr(thresholds, kind)), thresholds.source(kind)
  return fallback, "the paper's 1.1 (this model has no calibrated threshold)"
