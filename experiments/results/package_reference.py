"""Makes a run's export the packaged reference model and records its figures.

    python experiments/results/package_reference.py --workdir /tmp/facenet_faces/runs/view2

Copies <workdir>/saved_model to facenet_tf/pretrained/<REFERENCE_NAME>/
(replacing the previous one), then measures it through the photo API on
LFW pairsDevTest (detect, align with its spec, embed each photo's main
face; photos/photo_pairs.py) and writes facenet_tf/pretrained/
<REFERENCE_NAME>.json: those figures, the workdir's results.json figures,
the export's thresholds and the command. tests/test_reference_model.py
re-measures them.
"""
import argparse
import json
import os
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
  sys.path.insert(0, str(ROOT))

from facenet_tf import export_metadata  # noqa: E402
from facenet_tf import pretrained  # noqa: E402

LFW = ROOT.parent / "shared" / "data" / "lfw"


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  args = parser.parse_args(argv)
  source = os.path.join(args.workdir, "saved_model")
  metadata = export_metadata.read(source)
  if not metadata.alignment or not metadata.thresholds:
    sys.exit(f"{source} lacks an alignment spec or thresholds")
  target = os.path.join(os.path.dirname(pretrained.__file__),
                        pretrained.REFERENCE_NAME)
  shutil.rmtree(target, ignore_errors=True)
  shutil.copytree(source, target)
  # Imported after the copy: the recognizer loads the packaged model.
  from facenet_tf import photos  # pylint: disable=import-outside-toplevel
  from facenet_tf.photos import photo_pairs  # pylint: disable=import-outside-toplevel
  result = photo_pairs.evaluate_photo_pairs(photos.FaceRecognizer(),
                                            str(LFW / "pairsDevTest.txt"))
  with open(os.path.join(args.workdir, "results.json")) as f:
    training = json.load(f)
  run = os.path.basename(os.path.normpath(args.workdir))
  keys = ("accuracy", "accuracy_std", "val", "val_std", "far", "auc", "eer",
          "fallback_pairs", "fallback_images", "num_pairs", "num_images")
  record = {
      # Names, not paths: the record ships to other machines (#31 item 9).
      "workdir": run,
      "command": f"experiments/results/package_reference.py --workdir {run}",
      "architecture": metadata.architecture,
      "alignment": metadata.alignment.name,
      "thresholds": metadata.thresholds.to_dict(),
      "pairsDevTest_photos": {k: result[k] for k in keys},
      "training": {k: training[k] for k in
                   ("verification_accuracy", "verification_auc", "steps",
                    "seconds")},
  }
  with open(pretrained.REFERENCE_JSON, "w") as f:
    json.dump(record, f, indent=1)
  print(json.dumps(record["pairsDevTest_photos"]))
  return 0


if __name__ == "__main__":
  sys.exit(main())
