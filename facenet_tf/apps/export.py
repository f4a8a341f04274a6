"""facenet-export: a training workdir's latest checkpoint -> a SavedModel.

    facenet-export --workdir DIR [--output DIR/saved_model] [--overwrite] \
        [--calibration_pairs FILE [--calibration_images_dir D]]

The export carries the workdir's alignment spec and thresholds: those of
its results.json, or new ones calibrated on --calibration_pairs (validation
pairs of people the model was not trained on; evaluation/calibration.py).
Prints one JSON line: saved_model, step, image_size, embedding_dim,
alignment (its name) and thresholds.
"""
import json
import os

from absl import flags

from facenet_tf import export
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.apps import common
from facenet_tf.evaluation import calibration
from facenet_tf.evaluation import eval_lib
from facenet_tf.training import workdir as workdir_lib

_WORKDIR = flags.DEFINE_string("workdir", None, "A facenet-train workdir.",
                               required=True)
_OUTPUT = flags.DEFINE_string("output", None,
                              "Export directory; default <workdir>/saved_model.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False,
                               "Replace an existing export (atomically).")
_CALIBRATION_PAIRS = flags.DEFINE_string(
    "calibration_pairs", None, "LFW-format validation pairs on which to "
    "choose the export's thresholds (default: the workdir's results.json).")
_CALIBRATION_IMAGES_DIR = flags.DEFINE_string(
    "calibration_images_dir", None, "Images of --calibration_pairs; default: "
    "images/ beside it.")


def _thresholds(workdir):
  """New thresholds from --calibration_pairs, else results.json's."""
  if _CALIBRATION_PAIRS.value:
    forward = eval_lib.load_embedder(workdir=workdir)
    return calibration.calibrate(forward.embed, forward.image_size,
                                 _CALIBRATION_PAIRS.value,
                                 _CALIBRATION_IMAGES_DIR.value)
  results = workdir_lib.path(workdir, "results.json")
  if os.path.exists(results):
    with open(results) as f:
      return json.load(f).get("thresholds")
  return None


def main(argv):
  del argv
  embedder, step = workdir_lib.restore_embedder(_WORKDIR.value)
  output = _OUTPUT.value or workdir_lib.path(_WORKDIR.value, "saved_model")
  alignment = spec_lib.read(_WORKDIR.value)
  try:
    thresholds = _thresholds(_WORKDIR.value)
  except eval_lib.InputError as error:
    common.fail(str(error))
  path = export.export_saved_model(embedder, output, overwrite=_OVERWRITE.value,
                                   alignment=alignment, thresholds=thresholds)
  print(json.dumps({"saved_model": path, "step": step,
                    "image_size": list(embedder.image_size),
                    "embedding_dim": embedder.embedding_dim,
                    "alignment": alignment.name if alignment else None,
                    "thresholds": thresholds}), flush=True)


def run():
  common.run(main)


if __name__ == "__main__":
  run()
