"""facenet-recognize: closed- and open-set face identification on one tree.

    facenet-recognize (--embeddings OUT | --images_dir TREE (--saved_model PATH
        | --workdir DIR)) [--gallery_per_identity 1] [--unknown_fraction 0.25]
        [--threshold T] [--seed 0]

OUT is a facenet-embed output; TREE is TREE/<identity>/<image>. Protocol
(recognition.split_gallery_probes): a seeded random --unknown_fraction of the
identities are unknown (all their images are probes); of every other
identity the first --gallery_per_identity images (by file name) form the
gallery and the rest are probes; identities with no image left to probe are
counted and skipped. Prints the rank-1 and rank-5 identification rates of
the known probes, and at --threshold (default: the model's threshold
calibrated at FAR 1e-3, in its export; else the paper's 1.1, Fig. 1) the
detection-and-identification rate (DIR) and the false-accept rate (FAR) of
the unknown probes, plus DIR at FAR 1% and 10%. The last line is one JSON
object with all of them and the counts.
"""
import json

from absl import flags

from facenet_tf.apps import common
from facenet_tf.apps import embedding_flags
from facenet_tf.evaluation import calibration
from facenet_tf.evaluation import recognition

_embedded_images = embedding_flags.define_input_flags()
_GALLERY_PER_IDENTITY = flags.DEFINE_integer(
    "gallery_per_identity", 1, "Gallery images per known identity.",
    lower_bound=1)
_UNKNOWN_FRACTION = flags.DEFINE_float(
    "unknown_fraction", 0.25, "Fraction of identities left out of the "
    "gallery (open set); 0 for closed set only.", lower_bound=0,
    upper_bound=1)
_THRESHOLD = flags.DEFINE_float(
    "threshold", None, "Open set: accept a probe whose nearest gallery "
    "distance (squared L2) is <= threshold; default: the model's threshold "
    "calibrated at FAR 1e-3, else 1.1.", lower_bound=0)
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the unknown identities.")


def main(argv):
  del argv
  embedded = _embedded_images()
  threshold = _THRESHOLD.value
  if threshold is None:
    threshold, source = calibration.default_threshold(
        embedded.model_metadata, "far", recognition.DEFAULT_THRESHOLD)
    print(f"threshold {threshold:g}: {source}", flush=True)
  try:
    result = recognition.evaluate(
        embedded.embeddings, embedded.labels, _GALLERY_PER_IDENTITY.value,
        _UNKNOWN_FRACTION.value, threshold, seed=_SEED.value)
  except ValueError as e:  # split_gallery_probes: no probe is left
    common.fail(str(e))
  rates, open_set = result["identification_rate"], result["open_set"]
  print(f"{result['identities']} identities ({result['skipped_identities']} "
        f"skipped): gallery {result['gallery']}, known probes "
        f"{result['known_probes']}, unknown probes {result['unknown_probes']}")
  print("closed set: " + ", ".join(f"top-{rank} {rate:.4f}"
                                   for rank, rate in rates.items()))
  line = f"open set at {open_set['threshold']:g}: DIR {open_set['dir']:.4f}"
  if open_set["far"] is not None:
    line += f", FAR {open_set['far']:.4f}; " + ", ".join(
        f"DIR {rate:.4f} at FAR <= {target:g}"
        for target, rate in open_set["dir_at_far"].items())
  print(line)
  print(json.dumps(result), flush=True)


def run():
  common.run(main)


if __name__ == "__main__":
  run()
