"""facenet-export: a training workdir's latest checkpoint -> a deployable model.

    facenet-export --workdir DIR [--output DIR/saved_model] [--overwrite] \
        [--calibration_pairs FILE [--calibration_images_dir D]]
    facenet-export --workdir DIR --format litert \
        [--quantization float|dynamic|int8 --representative_dir ALIGNED]
    facenet-export --workdir DIR --format onnx

`--format litert` writes DIR/model[_dynamic|_int8].tflite and `onnx`
DIR/model.onnx (facenet_tf/deploy/convert.py), each converted from a
SavedModel of the same checkpoint; int8 calibrates on aligned faces
(data_pipelines.align output). `facenet_tf.export_loaders.load` and the
photo API run every format.

The export carries the workdir's alignment spec and thresholds: those of
its results.json, or new ones calibrated on --calibration_pairs (validation
pairs of people the model was not trained on; evaluation/calibration.py).
Prints one JSON line: saved_model (or model), format, step, image_size, embedding_dim,
alignment (its name) and thresholds.
"""
import json
import os
import tempfile

from absl import flags

from facenet_tf import export_metadata
from facenet_tf import workdir as workdir_lib
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.apps import common
from facenet_tf.deploy import convert
from facenet_tf.deploy import faces as faces_lib
from facenet_tf.evaluation import calibration
from facenet_tf.evaluation import eval_lib
from facenet_tf.training import hooks

_WORKDIR = flags.DEFINE_string("workdir", None, "A facenet-train workdir.",
                               required=True)
_OUTPUT = flags.DEFINE_string("output", None,
                              "Export directory; default <workdir>/saved_model.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False,
                               "Replace an existing export (atomically).")
_FORMAT = flags.DEFINE_enum("format", "savedmodel",
                            ["savedmodel", "litert", "onnx"],
                            "What to write.")
_QUANTIZATION = flags.DEFINE_enum(
    "quantization", "float", list(export_metadata.QUANTIZATIONS),
    "--format litert: float32, dynamic-range (int8 weights) or full int8.")
_REPRESENTATIVE_DIR = flags.DEFINE_string(
    "representative_dir", None, "--quantization int8: a tree of aligned "
    "faces (data_pipelines.align output) to calibrate on; 200 are sampled.")
_CALIBRATION_PAIRS = flags.DEFINE_string(
    "calibration_pairs", None, "LFW-format validation pairs on which to "
    "choose the export's thresholds (default: the workdir's results.json).")
_CALIBRATION_IMAGES_DIR = flags.DEFINE_string(
    "calibration_images_dir", None, "Images of --calibration_pairs; default: "
    "images/ beside it.")


def _thresholds(workdir):
  """New Thresholds from --calibration_pairs, else results.json's."""
  if _CALIBRATION_PAIRS.value:
    return calibration.calibrate(eval_lib.load_embedder(workdir=workdir),
                                 _CALIBRATION_PAIRS.value,
                                 _CALIBRATION_IMAGES_DIR.value)
  results = workdir_lib.path(workdir, "results.json")
  if os.path.exists(results):
    with open(results) as f:
      thresholds = json.load(f).get("thresholds")
    return (export_metadata.Thresholds.from_dict(thresholds) if thresholds
            else None)
  return None


def _check_flags():
  if _FORMAT.value != "litert" and _QUANTIZATION.value != "float":
    common.fail("--quantization applies to --format litert only.")
  if (_QUANTIZATION.value == "int8") != bool(_REPRESENTATIVE_DIR.value):
    common.fail("--quantization int8 needs --representative_dir (aligned "
                "faces), and --representative_dir needs int8.")


def _default_output(workdir):
  if _FORMAT.value == "onnx":
    return workdir_lib.path(workdir, "model.onnx")
  suffix = "" if _QUANTIZATION.value == "float" else f"_{_QUANTIZATION.value}"
  return workdir_lib.path(workdir, f"model{suffix}.tflite")


def _convert(saved_model, output, image_size, channels):
  """The SavedModel at `saved_model` -> the --format file at `output`."""
  if os.path.lexists(output) and not _OVERWRITE.value:
    common.fail(f"{output} exists; pass --overwrite to replace it.")
  try:
    if _FORMAT.value == "onnx":
      return convert.to_onnx(saved_model, output)[0]
    faces = None
    if _REPRESENTATIVE_DIR.value:
      faces = faces_lib.aligned_faces(_REPRESENTATIVE_DIR.value, image_size,
                                      channels)
    return convert.to_litert(saved_model, output, _QUANTIZATION.value,
                             faces)[0]
  except (convert.ConversionError, ValueError, FileNotFoundError) as error:
    common.fail(str(error))


def main(argv):
  del argv
  _check_flags()
  embedder, step = workdir_lib.restore_embedder(_WORKDIR.value)
  alignment = spec_lib.read(_WORKDIR.value)
  try:
    thresholds = _thresholds(_WORKDIR.value)
  except eval_lib.InputError as error:
    common.fail(str(error))
  if _FORMAT.value == "savedmodel":
    path = hooks.export_run_model(embedder, _WORKDIR.value, thresholds,
                                  _OUTPUT.value, _OVERWRITE.value)
  else:
    with tempfile.TemporaryDirectory() as tmp:
      saved_model = hooks.export_run_model(
          embedder, _WORKDIR.value, thresholds,
          os.path.join(tmp, "saved_model"))
      path = _convert(saved_model,
                      os.path.abspath(_OUTPUT.value or
                                      _default_output(_WORKDIR.value)),
                      tuple(embedder.image_size), embedder.channels)
  print(json.dumps({("saved_model" if _FORMAT.value == "savedmodel"
                     else "model"): path, "format": _FORMAT.value,
                    "quantization": _QUANTIZATION.value, "step": step,
                    "image_size": list(embedder.image_size),
                    "embedding_dim": embedder.embedding_dim,
                    "alignment": alignment.name if alignment else None,
                    "thresholds": (thresholds.to_dict() if thresholds
                                   else None)}), flush=True)


def run():
  common.run(main)


if __name__ == "__main__":
  run()
