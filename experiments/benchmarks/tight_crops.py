"""Tight face crops in hard light, made from LFW: is the face found, and
how well does the packaged model verify them (#30 item 6)?

    python experiments/benchmarks/tight_crops.py [--pairs FILE] [--out DIR]

The set: every photo of the pairs file (default LFW's pairsDevTest.txt,
1,000 pairs) cut to its face box, as another detector's crops and ID
photos are: MTCNN's box of the photo's largest face (brows to chin, cheek
to cheek), or LFW's own box when MTCNN finds none (the photos are centred
on a Viola-Jones box enlarged 2.2 times, LFW README: the central 114 px).
Every second photo (by sorted path) is darkened like an under-exposed
shot: gamma DARK_GAMMA, then a gain that cycles through DARK_GAINS (mid-grey
128 becomes 29, 17, 8). Written as PNG under `--out` (an LFW-like tree;
default /tmp/tight_crops).

Detection runs once with both retries (alignment/detector.py); because a
retry runs only when the passes before it found nothing, the same run gives
each mode exactly: `plain` (no retry), `padded` (the grey-border retry) and
`padded+contrast`. Per mode it prints the fraction of crops with a face
(normal and dark), then the packaged model's verification on the pairs
(10-fold accuracy, AUC, VAL at FAR 1e-3, accuracy at the model's calibrated
threshold). A crop without a face is embedded from its central square, as
the aligner's `--no_face=center_crop` fallback does. Two more rows embed
contrast-stretched crops (detector.stretch_contrast): those whose face the
contrast retry found (what the photo API and the aligner do), and every
dark or flat crop, however its face was found.
"""
import argparse
import collections
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
  sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

LFW = ROOT.parent / "shared" / "data" / "lfw"
# LFW's face box: the central 250 / 2.2 px of a 250 px photo.
LFW_SIDE, LFW_ENLARGEMENT = 250, 2.2
DARK_GAMMA, DARK_GAINS = 1.6, (0.35, 0.2, 0.1)
MODES = {"plain": ("found",),
         "padded": ("found", "found_padded"),
         "padded+contrast": ("found", "found_padded", "found_contrast")}


def face_box(image, detection):
  """x1, y1, x2, y2 (ints, inside the image): the detection's largest face,
  or LFW's own box (the central 250 / 2.2 px) when it has none."""
  faces = detection.faces
  if detection.found_by is None:
    side = LFW_SIDE / LFW_ENLARGEMENT
    x1, y1 = (image.shape[1] - side) / 2, (image.shape[0] - side) / 2
    box = (x1, y1, x1 + side, y1 + side)
  else:
    areas = ((faces.boxes[:, 2] - faces.boxes[:, 0])
             * (faces.boxes[:, 3] - faces.boxes[:, 1]))
    box = faces.boxes[int(np.argmax(areas))]
  x1, y1 = max(0, round(box[0])), max(0, round(box[1]))
  return (x1, y1, min(image.shape[1], round(box[2])),
          min(image.shape[0], round(box[3])))


def darken(image, gain):
  """An under-exposed copy: gamma DARK_GAMMA, then `gain`."""
  value = (image.astype(np.float32) / 255.0) ** DARK_GAMMA * gain
  return np.rint(value * 255.0).astype(np.uint8)


def make_set(sources, detector, out_dir):
  """Writes the tight (and every second one dark) crop of each LFW photo
  path under `out_dir`; returns {source: (crop array, its gain; 1 when
  not darkened)}."""
  crops = {}
  sources = sorted(sources)
  images = [np.asarray(Image.open(s).convert("RGB")) for s in sources]
  for rank, (source, image, detection) in enumerate(
      zip(sources, images, detector.detect(images))):
    x1, y1, x2, y2 = face_box(image, detection)
    crop = image[y1:y2, x1:x2]
    gain = DARK_GAINS[rank // 2 % len(DARK_GAINS)] if rank % 2 else 1.0
    crop = darken(crop, gain) if gain < 1 else crop
    relative = pathlib.Path(source).relative_to(pathlib.Path(source).parents[1])
    path = pathlib.Path(out_dir) / relative.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(crop).save(path)
    crops[source] = (crop, gain)
  return crops


def model_inputs(recognizer, crops, detections, accepted):
  """Model inputs [N, H, W, C], one per crop: its largest face when the
  pass that found it is in `accepted`, else its central square."""
  from facenet_tf.alignment import warp  # pylint: disable=import-outside-toplevel
  views = []
  for crop, detection in zip(crops, detections):
    faces = detection.faces
    if detection.found_by in accepted:
      areas = ((faces.boxes[:, 2] - faces.boxes[:, 0])
               * (faces.boxes[:, 3] - faces.boxes[:, 1]))
      i = int(np.argmax(areas))
      views.append(recognizer.model_view(warp.align_face(
          crop, faces.boxes[i], faces.keypoints[i], recognizer.alignment)))
    else:
      views.append(recognizer.model_view(
          warp.center_fallback(crop, recognizer.alignment)[0]))
  return recognizer.model_input(np.stack(views))


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--pairs", default=str(LFW / "pairsDevTest.txt"))
  parser.add_argument("--out", default="/tmp/tight_crops")
  args = parser.parse_args(argv)
  if not os.path.isfile(args.pairs):
    print(f"skipped: {args.pairs} is absent (../shared ships with the "
          "project's workspace and CI)")
    return 0
  from facenet_tf import photos  # pylint: disable=import-outside-toplevel
  from facenet_tf.alignment import detector as detector_lib  # pylint: disable=import-outside-toplevel
  from facenet_tf.evaluation import lfw_protocol  # pylint: disable=import-outside-toplevel
  from facenet_tf.evaluation import pairs_evaluator  # pylint: disable=import-outside-toplevel
  from facenet_tf.evaluation import roc  # pylint: disable=import-outside-toplevel
  from facenet_tf.evaluation import verification  # pylint: disable=import-outside-toplevel
  pairs = lfw_protocol.read_pairs(args.pairs, str(LFW / "images"))
  sources = sorted({p for pair in pairs for p in pair[:2]})
  recognizer = photos.FaceRecognizer()
  made = make_set(sources, recognizer.detector, args.out)
  crops = [made[s][0] for s in sources]
  gains = np.array([made[s][1] for s in sources])
  dark = gains < 1
  detections = recognizer.detector.detect(crops)
  how = collections.Counter((d.found_by, float(g))
                            for d, g in zip(detections, gains))
  print(f"{len(sources)} tight crops ({int(dark.sum())} dark) of "
        f"{len(pairs)} pairs, written to {args.out}")
  print("found_by (pass, gain):", dict(sorted(how.items(), key=str)))
  index = {s: i for i, s in enumerate(sources)}
  first = np.array([index[p.path1] for p in pairs])
  second = np.array([index[p.path2] for p in pairs])
  issame = np.array([p.issame for p in pairs])
  folds, _ = pairs_evaluator.pair_folds([p.fold for p in pairs])
  threshold = recognizer.operating_point().threshold
  normal_pair = ~dark[first] & ~dark[second]
  print(f"pairs of two normal crops: {int(normal_pair.sum())}, with a dark "
        f"crop: {int((~normal_pair).sum())}")
  print("| retry | faces found | normal | dark | accuracy (10-fold) | AUC | "
        f"VAL@FAR1e-3 | accuracy at {threshold:.3f} | AUC normal pairs | "
        "AUC dark pairs |")
  print("|---|---|---|---|---|---|---|---|---|---|")
  stretched = [detector_lib.stretch_contrast(c) for c in crops]
  stretched = [c if s is None else s for c, s in zip(crops, stretched)]
  contrast_found = [s if d.found_by == "found_contrast" else c
                    for c, s, d in zip(crops, stretched, detections)]
  rows = [(mode, accepted, crops) for mode, accepted in MODES.items()]
  rows += [("padded+contrast, contrast-found embedded stretched",
            MODES["padded+contrast"], contrast_found),
           ("padded+contrast, every dark or flat crop embedded stretched",
            MODES["padded+contrast"], stretched)]
  for mode, accepted, inputs in rows:
    found = np.array([d.found_by in accepted for d in detections])
    embeddings = recognizer.model(
        model_inputs(recognizer, inputs, detections, accepted),
        batch_size=recognizer.batch_size)
    dist = np.sum((embeddings[first] - embeddings[second]) ** 2, axis=1)
    result = verification.evaluate(dist, issame, folds)
    fixed = verification.accuracy(dist, issame, threshold)
    aucs = [roc.auc(*roc.roc_curve(dist[k], issame[k])[1:])
            for k in (normal_pair, ~normal_pair)]
    print(f"| {mode} | {found.mean():.3f} | {found[~dark].mean():.3f} | "
          f"{found[dark].mean():.3f} | {result['accuracy']:.4f} | "
          f"{result['auc']:.4f} | {result['val']:.3f} | {fixed:.4f} | "
          f"{aucs[0]:.4f} | {aucs[1]:.4f} |",
          flush=True)
  return 0


if __name__ == "__main__":
  sys.exit(main())
