r"""facenet-eval: LFW-protocol verification of a model on a pairs file (§5.1).

    facenet-eval --model PATH --pairs FILE \
        [--images_dir D] [--flip] [--target_far 1e-3] [--crop_fraction F] \
        [--strict_alignment] \
        [--batch_size 64] [--output_dir OUT] [--json] \
        [--jpeg_quality Q] [--degrade_pixels N] \
        [--v1_model PATH]

--model is a SavedModel directory, a .tflite or .onnx file, or a
facenet-train workdir (its saved_model/ if present, else its latest
checkpoint); --saved_model and --workdir are its old names.
Prints accuracy (10-fold, thresholds chosen on the other 9), VAL at the
target FAR with the FAR achieved, AUC and EER; for an export with calibrated
thresholds, also how those do here (accuracy at its accuracy threshold,
VAL and the FAR reached at its FAR threshold). With --json the last line is
one JSON object with every metric and the per-fold values. --output_dir gets
<pairs>_verification.json, <pairs>_roc.png and <pairs>_distances.png.
--jpeg_quality and --degrade_pixels lower every crop's quality before the
model sees it, as in the paper's Table 4 (see eval_input.degrade).
With a v1 model (--v1_model; the --model one is then v2) it reports compatibility as in the paper's §7
Fig. 8: v1-v1, v2-v2 and v1->v2 (each pair's first image embedded by v1,
the gallery, its second by v2, the probe); --output_dir gets
<pairs>_compatibility.json and the three ROC curves in
<pairs>_compatibility_roc.png.
--images_dir may be the output of data_pipelines.align as it is (any image
extension): its alignment spec sets the default crop, is compared with the
model's (a mismatch warns; --strict_alignment makes it an error), and the
pairs scored on a fallback crop (no face found) are counted.
A missing image, a malformed pairs file, an undecodable image or an
out-of-range flag exits with code 2 and a one-line message naming it.
"""
import json

from absl import flags

from facenet_tf import export_loaders
from facenet_tf.apps import common
from facenet_tf.apps import embedding_flags
from facenet_tf.evaluation import compatibility

_MODEL_FLAGS = [
    flags.DEFINE_string("model", None, embedding_flags.MODEL_HELP + " A "
                        "workdir without an export is evaluated at its "
                        "latest checkpoint."),
    flags.DEFINE_string("saved_model", None, "Same as --model."),
    flags.DEFINE_string("workdir", None, "Same as --model.")]
flags.mark_flags_as_mutual_exclusive([f.name for f in _MODEL_FLAGS],
                                     required=True)
_PAIRS = flags.DEFINE_string(
    "pairs", None, "LFW pair list: pairs.txt (View 2, 10 folds) or "
    "pairsDevTest.txt-style (one set, dealt into 10 folds).", required=True)
_IMAGES_DIR = flags.DEFINE_string(
    "images_dir", None, "Root of <name>/<name>_NNNN.<ext> (LFW, or its "
    "data_pipelines.align output); default: images/ beside --pairs.")
_STRICT_ALIGNMENT = flags.DEFINE_bool(
    "strict_alignment", False, "Stop when the images' alignment spec differs "
    "from the model's (default: warn).")
_FLIP = flags.DEFINE_bool(
    "flip", False, "Embed each image as L2-normalise(emb(image) + "
    "emb(mirrored image)).")
_TARGET_FAR = flags.DEFINE_float("target_far", 1e-3,
                                 "FAR at which VAL is reported (paper: 1e-3).",
                                 lower_bound=0, upper_bound=1)
_CROP_FRACTION = flags.DEFINE_float(
    "crop_fraction", None,
    "Centre fraction of each side kept, then resized to the model's input. "
    "Default: the alignment spec's (160/182) for an aligned tree, else "
    "0.56 (the face of 250x250 LFW images).")
flags.register_validator("crop_fraction",
                         lambda f: f is None or 0 < f <= 1,
                         "--crop_fraction must be in (0, 1].")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 64, "Images per model call.",
                                   lower_bound=1)
_JPEG_QUALITY = flags.DEFINE_integer(
    "jpeg_quality", None, "Re-encode every crop as a JPEG of this quality "
    "(1..100) before the model (paper Table 4). Default: no re-encoding.")
flags.register_validator("jpeg_quality", lambda q: q is None or 1 <= q <= 100,
                         "--jpeg_quality must be in 1..100.")
_DEGRADE_PIXELS = flags.DEFINE_integer(
    "degrade_pixels", 0, "Reduce every crop to this many pixels (a square of "
    "round(sqrt(N)) px a side), then resize it back to the model's input "
    "(paper Table 4). 0: off.")
flags.register_validator("degrade_pixels", lambda n: n >= 0,
                         "--degrade_pixels must be >= 0 (0: off).")
_OUTPUT_DIR = flags.DEFINE_string(
    "output_dir", None, "Write the JSON and the ROC and distance PNGs here.")
_JSON = flags.DEFINE_bool("json", False,
                          "End with one line: the result as a JSON object.")
_V1_MODEL_FLAGS = [
    flags.DEFINE_string(
        "v1_model", None, "The old model (v1) whose embeddings form the "
        "gallery: compare it with this model (v2) as in the paper's §7; "
        "any model --model takes."),
    flags.DEFINE_string("v1_saved_model", None, "Same as --v1_model."),
    flags.DEFINE_string("v1_workdir", None, "Same as --v1_model.")]
flags.mark_flags_as_mutual_exclusive([f.name for f in _V1_MODEL_FLAGS])


def _given(model_flags):
  """The path the first set flag of `model_flags` names, or None."""
  return next((f.value for f in model_flags if f.value is not None), None)


def load_model(path):
  """An eval_lib.Embedder of what a model flag names: an export, or a
  workdir (its saved_model/ if present, else its latest checkpoint)."""
  workdir = path if export_loaders.is_workdir(path) else None
  saved_model = None if workdir else export_loaders.export_path(path)
  from facenet_tf.evaluation import eval_lib  # pylint: disable=import-outside-toplevel
  return eval_lib.load_embedder(saved_model, workdir)


def summary(result):
  """Human-readable lines of a result."""
  return [
      f"model: {result['model']}",
      f"pairs: {result['num_pairs']} ({result['num_same']} same) from "
      f"{result['pairs_file']}, {result['num_images']} images, folds: "
      f"{result['fold_source']}",
      f"accuracy: {result['accuracy']:.4f} +- {result['accuracy_std']:.4f}",
      f"VAL: {result['val']:.4f} +- {result['val_std']:.4f} @ FAR "
      f"{result['far']:.5f} (target {result['target_far']:g})",
      f"AUC: {result['auc']:.4f}  EER: {result['eer']:.4f}",
  ] + _own_thresholds(result) + _alignment(result) + _degradation(result) + [
      f"wrote {path}" for path in result["files"]]


def _own_thresholds(result):
  """The export's calibrated thresholds on these pairs, if it has them."""
  t = result.get("at_model_thresholds")
  if t is None:
    return []
  return [f"the model's own thresholds (calibrated on {t['calibrated_on']}): "
          f"accuracy {t['accuracy']:.4f} at {t['accuracy_threshold']:g}; "
          f"VAL {t['val']:.4f} @ FAR {t['far']:.5f} at {t['far_threshold']:g} "
          f"(target FAR {t['target_far']:g})"
          + ("; they were calibrated without --flip, as the apps embed"
             if result["flip"] else "")]


def _alignment(result):
  """Lines on the images' alignment: spec, fallback crops, a mismatch."""
  spec = result.get("alignment")
  lines = [f"alignment: {spec['name'] if spec else 'none recorded'}; "
           f"{result['fallback_pairs']} pairs use a fallback crop "
           f"({result['fallback_images']} images without a detected face)"]
  if result.get("alignment_warning"):
    lines.append(f"WARNING: {result['alignment_warning']}")
  return lines


def _degradation(result):
  """A line naming what eval_input.degrade did to the images, if anything."""
  done = []
  if result.get("degrade_pixels"):
    done.append(f"{result['degrade_pixels']} pixels")
  if result.get("jpeg_quality"):
    done.append(f"JPEG quality {result['jpeg_quality']}")
  return [f"images degraded: {', '.join(done)}"] if done else []


def compatibility_summary(result):
  """Human-readable lines of a compatibility result (§7 Fig. 8)."""
  lines = [f"v1 (gallery): {result['v1_model']}",
           f"v2 (probes): {result['v2_model']}",
           f"pairs: {result['v1_v1']['num_pairs']} from "
           f"{result['pairs_file']}, {result['num_images']} images"]
  for mode in compatibility.MODES:
    r = result[mode]
    lines.append(
        f"{mode}: accuracy {r['accuracy']:.4f} +- {r['accuracy_std']:.4f}  "
        f"VAL {r['val']:.4f} @ FAR {r['far']:.5f}  AUC {r['auc']:.4f}  "
        f"EER {r['eer']:.4f}")
  return (lines + _degradation(result)
          + [f"wrote {path}" for path in result["files"]])


def _evaluate(embedder, with_v1):
  """Verification of `embedder`, or (with_v1) the three §7 modes with the
  --v1_* model as the gallery and `embedder` as the probes."""
  from facenet_tf.evaluation import pairs_evaluator  # pylint: disable=import-outside-toplevel
  evaluator = pairs_evaluator.PairsEvaluator(
      _PAIRS.value, _IMAGES_DIR.value, target_far=_TARGET_FAR.value,
      crop_fraction=_CROP_FRACTION.value, flip=_FLIP.value,
      batch_size=_BATCH_SIZE.value, jpeg_quality=_JPEG_QUALITY.value,
      degrade_pixels=_DEGRADE_PIXELS.value)
  gallery = load_model(_given(_V1_MODEL_FLAGS)) if with_v1 else None
  return evaluator.evaluate(embedder, gallery, _OUTPUT_DIR.value,
                            _STRICT_ALIGNMENT.value)


def main(argv):
  del argv
  with_v1 = _given(_V1_MODEL_FLAGS) is not None
  if _OUTPUT_DIR.value:  # its plots need the `eval` extra: say so up front
    from facenet_tf.evaluation import plots  # pylint: disable=g-import-not-at-top,unused-import
  embedder = load_model(_given(_MODEL_FLAGS))
  from facenet_tf.evaluation import eval_lib  # pylint: disable=import-outside-toplevel
  try:
    result = _evaluate(embedder, with_v1)
  except eval_lib.InputError as error:
    common.fail(str(error))
  lines = (compatibility_summary if with_v1 else summary)(result)
  print("\n".join(lines), flush=True)
  if _JSON.value:
    print(json.dumps(result), flush=True)


def run():
  common.run(main)


if __name__ == "__main__":
  run()
