r"""Teacher targets for an aligned tree: dlib's descriptor of every crop's face.

    python -m data_pipelines.teacher_targets --input_dir D --aligned_dir O \
        [--num_workers W] [--chunk_size 256] [--runner local|beam] \
        [-- BEAM_PIPELINE_OPTIONS]

`O` is the output of `data_pipelines.align` over the photos in `D`. For
every crop the aligner wrote from a real detection (status `aligned` in
`O/align_log.jsonl`; centre-crop fallbacks have no face to describe), the
teacher (data_pipelines/teacher.py) describes the same face of the same
photo, and its mirror image. Stored beside the crops:

  O/.teacher_targets/part-NNNNN.npz  outputs [n] (the crop's path relative
                                     to O), target [n, 128], mirror [n, 128]
  O/teacher_targets.json             counts, failures, seconds

training_tree carries the targets into its tree and build_tfrecords into the
records (features `teacher`, `teacher_mirror`, `has_teacher`). A face the
teacher cannot describe (a box outside the photo, an unreadable photo) is
counted and listed, and its crop simply has no target. Resumable: crops
already in a part are skipped, so an interrupted run continues; each part is
written atomically. Needs the `teacher` extra; nothing downloads.
"""
import argparse
import importlib.util
import json
import multiprocessing
import pathlib
import sys
import time

import numpy as np

from data_pipelines import align_summary
from data_pipelines import runners
from facenet_tf import atomic_files
from facenet_tf.data import reading

# Hidden, like the aligner's scratch: not an identity folder to tree walkers.
PARTS_DIR = ".teacher_targets"
SUMMARY_NAME = "teacher_targets.json"
# A training tree's targets, by tree path (training_tree writes it).
TREE_FILE = "teacher_targets.npz"
_teacher = None


def aligned_faces(aligned_dir):
  """[(source path, crop path, box)] of the crops made from a detection,
  from the aligner's log (the last record of a path wins), sorted."""
  log = pathlib.Path(aligned_dir) / align_summary.LOG_NAME
  if not log.exists():
    raise FileNotFoundError(f"{aligned_dir} has no {log.name}: give the "
                            "output directory of data_pipelines.align")
  last = align_summary.read_outcomes(log)
  return sorted((r["path"], r["output"], r["box"]) for r in last.values()
                if r.get("status") == "aligned" and "output" in r)


def load(aligned_dir):
  """({crop path: (target, mirror)}, [failure]) of every stored part."""
  targets, failures = {}, []
  for part in _parts(pathlib.Path(aligned_dir) / PARTS_DIR):
    with np.load(part) as arrays:
      for name, target, mirror in zip(arrays["outputs"], arrays["target"],
                                      arrays["mirror"]):
        targets[str(name)] = (target, mirror)
      failures += [{"path": str(p), "crop": str(c), "error": str(e)}
                   for p, c, e in zip(arrays["failed_paths"],
                                      arrays["failed_crops"],
                                      arrays["failed_errors"])]
  return targets, failures


def write_tree(tree_dir, targets):
  """Writes `tree_dir/teacher_targets.npz` from {tree path: (t, mirror)}."""
  paths = sorted(targets)
  path = pathlib.Path(tree_dir) / TREE_FILE
  with atomic_files.open_for_write(path, "wb") as f:
    np.savez(f, paths=np.asarray(paths, dtype=str),
             target=np.asarray([targets[p][0] for p in paths],
                               np.float32).reshape(-1, 128),
             mirror=np.asarray([targets[p][1] for p in paths],
                               np.float32).reshape(-1, 128))


def describe_chunk(job):
  """Describes `(source, crop, box)` faces and writes their part.

  Args:
    job: (input_dir, part path, faces). The part holds the targets and the
      faces the teacher could not describe, so a resumed run neither
      repeats nor forgets them.
  """
  global _teacher
  if _teacher is None:
    from data_pipelines import teacher  # pylint: disable=import-outside-toplevel
    _teacher = teacher.DlibTeacher()
  input_dir, part, faces = job
  done = {"outputs": [], "target": [], "mirror": []}
  failed = {"failed_paths": [], "failed_crops": [], "failed_errors": []}
  for source, crop, box in faces:
    try:
      image = reading.read_photo(pathlib.Path(input_dir) / source)
      target, mirror = _teacher.targets(image, box)
    except Exception as error:  # pylint: disable=broad-except
      # Any failure leaves this crop without a target, recorded, not fatal.
      for key, value in zip(failed, (source, crop, f"{type(error).__name__}"
                                                   f": {error}")):
        failed[key].append(value)
      continue
    for key, value in zip(done, (crop, target, mirror)):
      done[key].append(value)
  with atomic_files.open_for_write(part, "wb") as f:
    np.savez(f,
             outputs=np.asarray(done["outputs"], dtype=str),
             target=np.asarray(done["target"], np.float32).reshape(-1, 128),
             mirror=np.asarray(done["mirror"], np.float32).reshape(-1, 128),
             **{k: np.asarray(v, dtype=str) for k, v in failed.items()})
  return len(faces)


def compute(input_dir, aligned_dir, num_workers=1, chunk_size=256,
            runner="local", pipeline_args=()):
  """Describes every aligned face not yet in a part; returns the summary."""
  message = runners.check(runner, None if runner == "beam" else num_workers,
                          pipeline_args)
  if message:
    raise ValueError(message)
  if not pathlib.Path(input_dir).is_dir():
    raise FileNotFoundError(f"--input_dir {input_dir} is not a directory")
  if _teacher is None and importlib.util.find_spec("dlib") is None:
    from data_pipelines import teacher  # pylint: disable=import-outside-toplevel
    raise teacher.TeacherUnavailable(teacher.INSTALL_HINT)
  start = time.perf_counter()
  aligned_dir = pathlib.Path(aligned_dir)
  faces = aligned_faces(aligned_dir)
  targets, failures = load(aligned_dir)
  seen = set(targets) | {f["crop"] for f in failures}
  todo = [face for face in faces if face[1] not in seen]
  parts = aligned_dir / PARTS_DIR
  parts.mkdir(exist_ok=True)
  for stale in parts.glob(f".*{atomic_files.TEMPORARY_MARK}*"):
    stale.unlink()  # left by a killed run
  first = len(_parts(parts))
  jobs = [(str(input_dir), str(parts / f"part-{first + i:05d}.npz"),
           todo[start_at:start_at + chunk_size])
          for i, start_at in enumerate(range(0, len(todo), chunk_size))]
  finished = 0
  for count in _map(jobs, num_workers, runner, pipeline_args):
    finished += count
    print(f"teacher: {finished}/{len(todo)} faces", file=sys.stderr,
          flush=True)
  targets, failures = load(aligned_dir)
  summary = {"teacher": "dlib_face_recognition_resnet_model_v1",
             "chip": "dlib get_face_chip 150 px, padding 0.25, from the "
                     "aligner's MTCNN box via dlib's 5-point shape predictor",
             "faces": len(faces), "described": len(targets),
             "failed": len(failures), "this_run": len(todo),
             "seconds": round(time.perf_counter() - start, 1),
             "failures": failures}
  # Rewritten only when faces were described: its time says when the
  # targets last changed (prepare_faces rebuilds the trees made before).
  if todo or not (aligned_dir / SUMMARY_NAME).exists():
    atomic_files.write_json(aligned_dir / SUMMARY_NAME, summary, indent=1)
  return summary


def _parts(directory):
  """The finished parts, sorted (a hidden name is a write in progress)."""
  return sorted(p for p in directory.glob("part-*.npz"))


def _map(jobs, num_workers, runner, pipeline_args):
  """Yields each job's face count as it finishes."""
  if runner == "beam":
    from data_pipelines import beam_teacher  # pylint: disable=import-outside-toplevel
    yield from beam_teacher.run(jobs, pipeline_args)
  elif num_workers == 1:
    yield from map(describe_chunk, jobs)
  else:
    with multiprocessing.get_context("spawn").Pool(num_workers) as pool:
      yield from pool.imap_unordered(describe_chunk, jobs)


def main(argv=None):
  argv, pipeline_args = runners.split_pipeline_args(
      sys.argv[1:] if argv is None else argv)
  parser = argparse.ArgumentParser(
      prog="python -m data_pipelines.teacher_targets",
      description=__doc__.splitlines()[0])
  parser.add_argument("--input_dir", required=True,
                      help="the photos the aligner read")
  parser.add_argument("--aligned_dir", required=True,
                      help="data_pipelines.align's output for them")
  # One process: the teacher's network runs in TensorFlow on every core
  # (data_pipelines/dlib_resnet.py); dlib's own forward pass is 7x slower.
  parser.add_argument("--num_workers", type=int, default=None,
                      help="local processes (default 1: TensorFlow already "
                           "uses every core)")
  parser.add_argument("--chunk_size", type=int, default=256,
                      help="faces per stored part")
  parser.add_argument("--runner", default="local", choices=runners.RUNNERS)
  args = parser.parse_args(argv)
  workers = args.num_workers
  if args.runner == "local" and workers is None:
    workers = 1
  try:
    summary = compute(args.input_dir, args.aligned_dir, workers,
                      args.chunk_size, args.runner, pipeline_args)
  except (ValueError, FileNotFoundError, ImportError) as error:
    print(f"teacher_targets: {error}", file=sys.stderr)
    return 2
  print(json.dumps({k: v for k, v in summary.items() if k != "failures"}))
  return 0


if __name__ == "__main__":
  sys.exit(main())
