r"""facenet-export: a model -> a deployable model (SavedModel, LiteRT, ONNX).

    facenet-export --model WORKDIR [--output DIR/saved_model] [--overwrite] \
        [--calibration_pairs FILE [--calibration_images_dir D]]
    facenet-export [--model WORKDIR_OR_SAVED_MODEL] --format litert \
        [--quantization float|dynamic|int8 --representative_dir ALIGNED]
    facenet-export [--model WORKDIR_OR_SAVED_MODEL] --format onnx

--model is a facenet-train workdir (its latest checkpoint is exported) or,
for --format litert / onnx, any facenet_tf SavedModel directory; without
it those formats convert the reference model shipped with facenet_tf.
(--workdir is --model's old name.) `--format litert` writes
model[_dynamic|_int8].tflite and `onnx` model.onnx (facenet_tf/deploy/
convert.py): in the workdir, or for a SavedModel <its name>[...].tflite /
.onnx in the current directory, unless --output says where. int8
calibrates on aligned faces (data_pipelines.align output).
`facenet_tf.export_loaders.load`, the photo API and every app's --model
run every format.

The export carries the model's alignment spec and thresholds: a
workdir's are those of its results.json, or new ones calibrated on
--calibration_pairs (validation pairs of people the model was not trained
on; evaluation/calibration.py); a SavedModel's travel unchanged.
Prints one JSON line: saved_model (or model), format, step (a workdir's),
image_size, embedding_dim, alignment (its name) and thresholds.
"""
import json
import os
import tempfile

from absl import flags

from facenet_tf import export_loaders
from facenet_tf import export_metadata
from facenet_tf import pretrained
from facenet_tf.apps import common

_MODEL_FLAGS = [
    flags.DEFINE_string(
        "model", None, "A facenet-train workdir, or (--format litert / onnx) "
        "a SavedModel directory; default: the reference model shipped with "
        "facenet_tf (--format litert / onnx only)."),
    flags.DEFINE_string("workdir", None, "Same as --model.")]
flags.mark_flags_as_mutual_exclusive([f.name for f in _MODEL_FLAGS])
_OUTPUT = flags.DEFINE_string(
    "output", None, "Where to write; default: <workdir>/saved_model (or "
    "model*.tflite / model.onnx), or <name>*.tflite / .onnx here.")
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
  # pylint: disable=import-outside-toplevel
  from facenet_tf import workdir as workdir_lib
  from facenet_tf.evaluation import calibration
  from facenet_tf.evaluation import eval_lib
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


def _default_output(folder, name="model"):
  """folder/name.onnx, or folder/name[_dynamic|_int8].tflite."""
  if _FORMAT.value == "onnx":
    return os.path.join(folder, f"{name}.onnx")
  suffix = "" if _QUANTIZATION.value == "float" else f"_{_QUANTIZATION.value}"
  return os.path.join(folder, f"{name}{suffix}.tflite")


def _convert(saved_model, output, image_size, channels):
  """The SavedModel at `saved_model` -> the --format file at `output`."""
  # pylint: disable=import-outside-toplevel
  from facenet_tf.deploy import convert
  from facenet_tf.deploy import faces as faces_lib
  output = os.path.abspath(output)
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


def _export_workdir(workdir):
  """A workdir's latest checkpoint -> --format; the output JSON's fields."""
  # pylint: disable=import-outside-toplevel
  from facenet_tf import workdir as workdir_lib
  from facenet_tf.alignment import spec as spec_lib
  from facenet_tf.evaluation import eval_lib
  from facenet_tf.training import hooks
  embedder, step = workdir_lib.restore_embedder(workdir)
  alignment = spec_lib.read(workdir)
  try:
    thresholds = _thresholds(workdir)
  except eval_lib.InputError as error:
    common.fail(str(error))
  if _FORMAT.value == "savedmodel":
    path = hooks.export_run_model(embedder, workdir, thresholds,
                                  _OUTPUT.value, _OVERWRITE.value)
  else:
    with tempfile.TemporaryDirectory() as tmp:
      saved_model = hooks.export_run_model(
          embedder, workdir, thresholds, os.path.join(tmp, "saved_model"))
      path = _convert(saved_model, _OUTPUT.value or _default_output(workdir),
                      tuple(embedder.image_size), embedder.channels)
  return {"path": path, "step": step, "image_size": list(embedder.image_size),
          "embedding_dim": embedder.embedding_dim,
          "alignment": alignment.name if alignment else None,
          "thresholds": thresholds.to_dict() if thresholds else None}


def _convert_saved_model(source):
  """Any facenet_tf SavedModel -> --format litert / onnx, metadata kept."""
  saved_model = export_loaders.export_path(source)
  if not os.path.isdir(saved_model):
    common.fail(f"{source} is already a {os.path.splitext(source)[1]} "
                "file; facenet-export converts a SavedModel or a workdir.")
  if _FORMAT.value == "savedmodel":
    common.fail(f"{source} is already a SavedModel: --format litert or onnx "
                "converts it (--format savedmodel exports a workdir).")
  if _CALIBRATION_PAIRS.value:
    common.fail("--calibration_pairs needs --model WORKDIR; a SavedModel "
                "keeps its own thresholds.")
  metadata = export_metadata.read(saved_model)
  name = os.path.basename(os.path.normpath(saved_model))
  path = _convert(saved_model, _OUTPUT.value or _default_output(".", name),
                  tuple(metadata.image_size), metadata.channels)
  return {"path": path, "step": None, "image_size": list(metadata.image_size),
          "embedding_dim": metadata.embedding_dim,
          "alignment": metadata.alignment.name if metadata.alignment else None,
          "thresholds": (metadata.thresholds.to_dict() if metadata.thresholds
                         else None)}


def main(argv):
  del argv
  _check_flags()
  source = next((f.value for f in _MODEL_FLAGS if f.value is not None), None)
  if source is None and _FORMAT.value == "savedmodel":
    common.fail("--format savedmodel exports a workdir's checkpoint: give "
                "--model WORKDIR.")
  source = source or pretrained.reference_model_path()
  if not os.path.exists(source):
    common.fail(f"No model at {source}: give a facenet-train workdir "
                "(config.json, checkpoints/) or a SavedModel directory.")
  done = (_export_workdir(source) if export_loaders.is_workdir(source)
          else _convert_saved_model(source))
  print(json.dumps({("saved_model" if _FORMAT.value == "savedmodel"
                     else "model"): done.pop("path"), "format": _FORMAT.value,
                    "quantization": _QUANTIZATION.value, **done}),
        flush=True)


def run():
  common.run(main)


if __name__ == "__main__":
  run()
