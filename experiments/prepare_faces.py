"""Prepares every real-face data set of the faces_* experiments, resumably.

    python experiments/prepare_faces.py [--root /tmp/facenet_faces] \
        [--geometries landmarks,box] [--num_workers 2] [--teacher SOURCES]

1. `data_pipelines.align` on ../shared/data/celeba_train/images and on all
   of LFW (../shared/data/lfw/images), once per geometry. MTCNN runs for the
   first geometry only; the others reuse its logged detections (warps
   only). LFW is aligned with `--no_face center_crop` so that every
   evaluation pair is scored; training trees leave those fallback crops out.
   With `--teacher celeba,lfw` (needs the `teacher` extra), then
   `data_pipelines.teacher_targets` on those aligned sets of the first
   geometry: dlib's descriptor of every detected face and of its mirror
   (faces_teacher.py distils them), shared with the other geometries'
   crops of the same faces. Trees built afterwards carry them.
2. `data_pipelines.training_tree`: view1_<g> (LFW peopleDevTrain + CelebA),
   celeba_<g> (CelebA only) and, for the first geometry, the Table 6
   fractions celeba_<g>_f25 / _f50 of the CelebA identities.
3. `data_pipelines.build_tfrecords` of each tree into ROOT/shards/<name>.

A step whose output exists is skipped (align resumes file by file), so an
interrupted run continues. Prints each step's counts.
"""
import argparse
import json
import os
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
  sys.path.insert(0, str(ROOT))

from data_pipelines import align  # noqa: E402
from data_pipelines import build_tfrecords  # noqa: E402
from data_pipelines import teacher_targets  # noqa: E402
from data_pipelines import training_tree  # noqa: E402
from data_pipelines.align_worker import AlignOptions  # noqa: E402
from experiments import faces_base  # noqa: E402

SHARED_DATA = ROOT.parent / "shared" / "data"
SOURCES = {"celeba": SHARED_DATA / "celeba_train" / "images",
           "lfw": SHARED_DATA / "lfw" / "images"}
FRACTIONS = {"f25": 0.25, "f50": 0.5}
NUM_SHARDS = 8


def align_all(geometries, num_workers):
  first = geometries[0]
  for geometry in geometries:
    for source, images in SOURCES.items():
      options = AlignOptions(
          geometry=geometry, image_size=128,
          no_face="center_crop" if source == "lfw" else "skip")
      detections = (faces_base.aligned(source, first)
                    if geometry != first else None)
      summary = align.align_dataset(images, faces_base.aligned(source,
                                                               geometry),
                                    options, num_workers, detections)
      print(f"align {source} {geometry}: {json.dumps(summary['counts'])}",
            flush=True)


def describe_all(geometry, sources):
  """Teacher targets of the named sources' aligned trees (resumable; one
  process: the teacher's TensorFlow network uses every core)."""
  for source in sources:
    summary = teacher_targets.compute(SOURCES[source],
                                      faces_base.aligned(source, geometry))
    print(f"teacher {source} {geometry}: {summary['described']} described, "
          f"{summary['failed']} failed, {summary['seconds']} s", flush=True)


def share_targets(geometries, sources):
  """The first geometry's teacher targets, copied beside the other
  geometries' crops of the same sources: the teacher describes the photo's
  face (MTCNN box -> dlib's own chip), not our crop, and the other
  geometries reuse the first one's detections, so each crop name stands
  for the same face in every geometry."""
  for source in sources:
    first = pathlib.Path(faces_base.aligned(source, geometries[0]))
    if not (first / teacher_targets.SUMMARY_NAME).exists():
      continue
    for geometry in geometries[1:]:
      other = pathlib.Path(faces_base.aligned(source, geometry))
      summary = other / teacher_targets.SUMMARY_NAME
      if not _newer(first / teacher_targets.SUMMARY_NAME, summary):
        continue
      shutil.rmtree(other / teacher_targets.PARTS_DIR, ignore_errors=True)
      shutil.copytree(first / teacher_targets.PARTS_DIR,
                      other / teacher_targets.PARTS_DIR)
      shutil.copy(first / teacher_targets.SUMMARY_NAME, summary)
      print(f"teacher {source} {geometry}: targets of {geometries[0]} "
            "shared", flush=True)


def _lacks_targets(tree, sources, teacher_sources):
  """Whether an existing tree was built before one of its sources got
  teacher targets (so it lacks them): the source's teacher summary is newer
  than the tree's. A tree with CelebA's targets still lacks LFW's if LFW
  was described later."""
  path = os.path.join(tree, training_tree.SUMMARY_NAME)
  return os.path.exists(path) and any(
      _newer(os.path.join(sources[source], teacher_targets.SUMMARY_NAME),
             path)
      for source in teacher_sources if source in sources)


def _newer(path, than):
  """Whether `path` exists and was written after `than` (or `than` is
  missing)."""
  return os.path.exists(path) and (not os.path.exists(than) or (
      os.path.getmtime(path) > os.path.getmtime(than)))


def trees(geometries):
  """{tree name: training_tree.build keyword arguments}."""
  out = {}
  for geometry in geometries:
    celeba = {"celeba": faces_base.aligned("celeba", geometry)}
    out[f"view1_{geometry}"] = {
        "sources": {**celeba, "lfw": faces_base.aligned("lfw", geometry)},
        "people": {"lfw": faces_base.lfw_file("peopleDevTrain.txt")}}
    out[f"celeba_{geometry}"] = {"sources": celeba}
    if geometry == geometries[0]:
      for suffix, fraction in FRACTIONS.items():
        out[f"celeba_{geometry}_{suffix}"] = {"sources": celeba,
                                              "identity_fraction": fraction}
  return out


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--root", default=faces_base.ROOT)
  parser.add_argument("--geometries", default="landmarks,box")
  parser.add_argument("--num_workers", type=int, default=align.usable_cpus())
  parser.add_argument("--teacher", default="",
                      help="comma-separated sources (celeba, lfw) to give "
                           "teacher targets; '' = none")
  args = parser.parse_args(argv)
  if args.root != faces_base.ROOT:
    os.environ["FACENET_FACES_ROOT"] = faces_base.ROOT = args.root
  geometries = args.geometries.split(",")
  teacher_sources = [s for s in args.teacher.split(",") if s]
  unknown = set(teacher_sources) - set(SOURCES)
  if unknown:
    parser.error(f"--teacher: unknown sources {sorted(unknown)}; known: "
                 f"{', '.join(SOURCES)}")
  align_all(geometries, args.num_workers)
  describe_all(geometries[0], teacher_sources)
  share_targets(geometries, teacher_sources)
  for name, kwargs in trees(geometries).items():
    tree = os.path.join(faces_base.ROOT, "trees", name)
    if _lacks_targets(tree, kwargs["sources"], teacher_sources):
      # Built before its sources had teacher targets: build it again.
      shutil.rmtree(tree)
      shutil.rmtree(faces_base.shards(name), ignore_errors=True)
    if not os.path.exists(os.path.join(tree, training_tree.SUMMARY_NAME)):
      summary = training_tree.build(tree, **kwargs)
      print(f"tree {name}: {json.dumps(summary['per_source'])}", flush=True)
    shards = faces_base.shards(name)
    if not os.path.exists(os.path.join(shards, "manifest.json")):
      manifest = build_tfrecords.build(tree, shards, name=name,
                                       num_shards=NUM_SHARDS,
                                       num_workers=args.num_workers)
      print(f"shards {name}: {manifest['num_identities']} identities, "
            f"{manifest['num_images']} images", flush=True)
  return 0


if __name__ == "__main__":
  sys.exit(main())
