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
came from, in words); the apps read them from its metadata by default.

One operating point for every verdict (`operating_point`): by default the
`accuracy` threshold, for same/different calls (facenet-compare,
FaceRecognizer.verify) and for identification (facenet-recognize,
Gallery) alike, so the two never disagree on a pair; `far` (the open-set
point, where a stranger is rarely accepted) only when asked for with the
FAR it was calibrated at (`--far 1e-3`). Each verdict carries its
`OperatingPoint`, which says the threshold, what it was chosen for and on
which data, in words.
"""
import dataclasses
import math

import numpy as np

from facenet_tf import export_metadata
from facenet_tf.evaluation import verification


PAPER_THRESHOLD = 1.1  # FaceNet Fig. 1, for a model without calibration


@dataclasses.dataclass(frozen=True)
class OperatingPoint:
  """A squared-L2 threshold and, in words, what it was chosen for
  ("best accuracy", "FAR 1e-3", "set by hand", ...) and on which data
  ("LFW DevTrain pairs"; None when not calibrated). A distance <=
  threshold is the same person."""
  threshold: float
  calibrated_for: str
  calibrated_on: str | None = None

  @property
  def description(self):
    """"best accuracy on LFW DevTrain pairs", "set by hand", ..."""
    if self.calibrated_on is None:
      return self.calibrated_for
    return f"{self.calibrated_for} on {self.calibrated_on}"

  def __str__(self):
    return f"threshold {self.threshold:.4g} ({self.description})"

  def to_json(self):
    return {"threshold": self.threshold, "calibrated_for": self.calibrated_for,
            "calibrated_on": self.calibrated_on,
            "description": self.description}


def operating_point(metadata, far=None, threshold=None,
                    fallback=PAPER_THRESHOLD):
  """The OperatingPoint of a verdict.

  Args:
    metadata: the model's ExportMetadata, or None.
    far: None for the default (the `accuracy` threshold); the FAR of the
      open-set threshold, which must be the one it was calibrated at.
    threshold: a threshold set by hand (exclusive with `far`).
    fallback: the threshold of a model without calibration.

  Raises:
    ValueError: `far` and `threshold` together, or a `far` the model was
      not calibrated at.
  """
  if threshold is not None:
    if far is not None:
      raise ValueError("give a threshold or a FAR, not both")
    return OperatingPoint(float(threshold), "set by hand")
  thresholds = metadata.thresholds if metadata else None
  if thresholds is None:
    if far is not None:
      raise ValueError(f"this model has no calibrated thresholds, so no FAR "
                       f"{export_metadata.far_words(far)} threshold: give a "
                       "threshold instead")
    return OperatingPoint(float(fallback), "the FaceNet paper's default; "
                          "this model has no calibrated threshold")
  if far is None:
    kind = "accuracy"
  elif math.isclose(far, thresholds.target_far, rel_tol=1e-6):
    kind = "far"
  else:
    calibrated = export_metadata.far_words(thresholds.target_far)
    raise ValueError(
        f"this model's open-set threshold is calibrated at FAR {calibrated}, "
        f"not {export_metadata.far_words(far)}: use FAR {calibrated}, give a "
        "threshold, or calibrate again (facenet-export --calibration_pairs)")
  return OperatingPoint(float(getattr(thresholds, kind)),
                        thresholds.purpose(kind),
                        export_metadata.describe_pairs(thresholds.pairs))


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


def at_thresholds(dist, issame, thresholds):
  """How an export's own Thresholds do on other pairs (a dict): accuracy at
  its accuracy threshold, VAL and FAR at its FAR threshold. The FAR reached
  is the check of the calibration: on unseen people it can be several times
  the target."""
  dist, issame = np.asarray(dist, np.float64), np.asarray(issame, bool)
  val, far = verification.val_far(dist, issame, thresholds.far)
  return {"accuracy_threshold": thresholds.accuracy,
          "accuracy": verification.accuracy(dist, issame, thresholds.accuracy),
          "far_threshold": thresholds.far, "target_far": thresholds.target_far,
          "far": far, "val": val,
          "calibrated_on": export_metadata.describe_pairs(thresholds.pairs)}


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


def default_threshold(metadata, kind="accuracy", fallback=PAPER_THRESHOLD):
  """(threshold, what it is in words) for an app without --threshold.

  `metadata`: the model's ExportMetadata, or None. `kind` "accuracy" for
  same/different calls, "far" for the open-set point; a model without
  calibration gets `fallback`, the paper's 1.1 (Fig. 1).
  """
  thresholds = metadata.thresholds if metadata else None
  point = operating_point(metadata, thresholds.target_far
                          if thresholds and kind == "far" else None,
                          fallback=fallback)
  return point.threshold, point.description
