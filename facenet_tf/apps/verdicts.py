"""What the apps that give verdicts share: one operating point, --json and
exit codes (facenet-compare, facenet-recognize; README "Thresholds" and
"Exit codes").

    [--threshold T | --far F]   the operating point (calibration.operating_
                                point): by default the model's best-accuracy
                                threshold; --far 1e-3 its open-set one
    [--json]                    stdout is exactly one JSON document; the
                                readable lines go to stderr

Exit codes: 0 every input was read; 1 some inputs could not be read (the
others are still processed and reported); 2 a usage error, or nothing could
be processed. A photo without a face was read: it counts as read.
"""
import json
import os
import sys

from absl import flags

from facenet_tf.apps import common
from facenet_tf.evaluation import calibration

READ_ALL, SOME_UNREADABLE = 0, 1


def define_operating_point_flags():
  """--threshold | --far; returns their `OperatingPointFlags`."""
  threshold = flags.DEFINE_float(
      "threshold", None, "Squared L2 distance at or below which two faces "
      "are the same person; default: the model's best-accuracy threshold, "
      f"else the paper's {calibration.PAPER_THRESHOLD}.", lower_bound=0)
  far = flags.DEFINE_float(
      "far", None, "Use the model's open-set threshold, calibrated at this "
      "false-accept rate (e.g. 1e-3): fewer strangers accepted, more of the "
      "same person missed.", lower_bound=0, upper_bound=1)
  flags.mark_flags_as_mutual_exclusive(["threshold", "far"])
  return OperatingPointFlags(threshold, far)


class OperatingPointFlags:
  """The values of --threshold and --far, after flag parsing."""

  def __init__(self, threshold, far):
    self._threshold, self._far = threshold, far

  @property
  def kwargs(self):
    """{"threshold": ..., "far": ...}, as FaceRecognizer.operating_point and
    Gallery take them."""
    return {"threshold": self._threshold.value, "far": self._far.value}

  def point(self, metadata):
    """The OperatingPoint for a model's ExportMetadata (a FAR the model
    has no threshold for is a usage error: exit 2)."""
    try:
      return calibration.operating_point(metadata, **self.kwargs)
    except ValueError as error:
      common.fail(str(error))


def define_json_flag():
  """--json; returns a function giving the app's `Output`."""
  as_json = flags.DEFINE_bool(
      "json", False, "Print exactly one JSON document on stdout (the "
      "readable lines go to stderr).")
  return lambda: Output(as_json.value)


class Output:
  """Readable lines on stdout, or with --json on stderr, leaving stdout to
  one JSON document."""

  def __init__(self, as_json):
    self.as_json = as_json

  def say(self, line):
    print(line, file=sys.stderr if self.as_json else sys.stdout, flush=True)

  def document(self, value):
    """The one JSON document (with --json; nothing without)."""
    if self.as_json:
      json.dump(value, sys.stdout)
      sys.stdout.write("\n")
      sys.stdout.flush()


def exit_code(inputs, unreadable):
  """0, 1 or 2 for `unreadable` of `inputs` (see the module docstring)."""
  if inputs and unreadable >= inputs:
    return 2
  return SOME_UNREADABLE if unreadable else READ_ALL


def finish(inputs, unreadable, what="photos"):
  """Exits with `exit_code`, saying why on stderr when it is not 0."""
  code = exit_code(inputs, unreadable)
  if code == 2:
    common.fail(f"none of the {inputs} {what} could be read")
  if code == SOME_UNREADABLE:
    print(f"{os.path.basename(sys.argv[0])}: {unreadable} of {inputs} {what} "
          "could not be read", file=sys.stderr, flush=True)
  sys.exit(code)
