r"""MTCNN face alignment: `D/<identity>/<img>` -> `O/<identity>/<img>.png`.

    python -m data_pipelines.align --input_dir D --output_dir O \
        [--geometry landmarks|box] [--image_size N] [--margin 44] \
        [--no_face skip|center_crop] [--multiple_faces central|largest] \
        [--min_confidence 0.9] [--format png|jpeg] [--num_workers W] \
        [--batch_size 8] [--detections EARLIER_OUTPUT_DIR] \
        [--runner local|beam] [-- BEAM_PIPELINE_OPTIONS]

The crop is an alignment spec (facenet_tf/alignment/spec.py): `landmarks`
maps MTCNN's five keypoints onto the ArcFace template; `box` is
davidsandberg/facenet's align_dataset_mtcnn crop. The spec is written to
`O/alignment_spec.json` and the summary; build_tfrecords copies it into its
manifest, training into the model's export. `--detections` reuses the MTCNN
detections logged by an earlier run over the same input (same
--min_confidence), so a second geometry costs warps only.
The input tree is walked with symbolic links followed (identity folders
linked to pick a subset, linked files); a link to one of its own ancestors
is not entered, and a tree without any file is an error (exit code 2).
Resumable: a crop already under its final name, whose record is in the log,
is skipped; files that gave no crop before (no face, undecodable, failed)
are retried, because their outcome depends on the flags, and they are few.
Appends one JSON line per processed image to `O/align_log.jsonl` (status,
box, confidence, crop, error) and writes `O/align_summary.json`: counts and
lists of the files without a crop (or with a fallback crop) of the whole
tree, earlier runs' outcomes merged with this run's, so a resumed tree
reports what an uninterrupted run reports (data_pipelines/align_summary.py;
`this_run` and the timing are this run's).
`--runner beam` runs the same batches as an Apache Beam pipeline whose
options follow `--` (data_pipelines/beam_align.py: same crops, same counts;
input and output on a filesystem every worker sees).
"""
import argparse
import dataclasses
import json
import multiprocessing
import os
import pathlib
import sys
import time

from facenet_tf import atomic_files
from facenet_tf.alignment import geometry as align_geometry
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.data import image_tree
from data_pipelines import align_summary
from data_pipelines import align_worker
from data_pipelines import runners
from data_pipelines.align_worker import AlignOptions

SUMMARY_NAME = align_summary.SUMMARY_NAME
LOG_NAME = align_summary.LOG_NAME
# Options that change what a crop looks like: a resumed run must match them,
# or the output tree would mix two kinds of crop.
_CROP_FIELDS = ("alignment", "multiple_faces", "min_confidence",
                "image_format")
_PROGRESS_SECONDS = 30


def usable_cpus():
  """CPUs this process may run on (the container's share, not the host's)."""
  return len(os.sched_getaffinity(0))


def check_arguments(input_dir, output_dir, options, num_workers,
                    detections=None, runner="local", pipeline_args=()):
  """Raises ValueError with a message for the user if the job cannot run.

  `num_workers` None: the usable CPUs (local runner); the Beam runner takes
  its parallelism from `pipeline_args` instead."""
  options.validate()
  if detections is not None:
    _check_detections(detections, options)
  problem = runners.check(runner, num_workers, pipeline_args)
  if problem:
    raise ValueError(problem)
  input_dir, output_dir = pathlib.Path(input_dir), pathlib.Path(output_dir)
  if not input_dir.is_dir():
    raise ValueError(f"input_dir {input_dir} is not a directory")
  if output_dir.exists() and not output_dir.is_dir():
    raise ValueError(f"output_dir {output_dir} is not a directory")
  inside = input_dir.resolve()
  if output_dir.resolve() == inside or inside in output_dir.resolve().parents:
    raise ValueError(f"output_dir {output_dir} must not be inside input_dir")
  summary_path = output_dir / SUMMARY_NAME
  if summary_path.exists():
    summary = json.loads(summary_path.read_text())
    spec = summary.get("alignment")
    before = {**summary["options"], "alignment": (
        spec_lib.AlignmentSpec.from_dict(spec).to_dict() if spec else None)}
    now = {**dataclasses.asdict(options),
           "alignment": options.spec.to_dict()}
    changed = [f for f in _CROP_FIELDS if before.get(f) != now[f]]
    if changed:
      raise ValueError(f"{output_dir} holds crops made with other {changed} "
                       f"({ {f: before.get(f) for f in changed} }): use a new "
                       "output_dir or the same options")


def _check_detections(directory, options):
  """The earlier run's log must exist and have used the same threshold."""
  directory = pathlib.Path(directory)
  summary_path = directory / SUMMARY_NAME
  if not (directory / LOG_NAME).exists() or not summary_path.exists():
    raise ValueError(f"--detections {directory} holds no {LOG_NAME} and "
                     f"{SUMMARY_NAME} of an earlier align run")
  before = json.loads(summary_path.read_text())["options"]
  if before.get("min_confidence") != options.min_confidence:
    raise ValueError(f"--detections {directory} used min_confidence "
                     f"{before.get('min_confidence')}, this run "
                     f"{options.min_confidence}")


def plan(input_dir, output_dir, options, outcomes=None):
  """Lists the work: which files to align and which are already done.

  The input tree is walked by image_tree.walk_files (symbolic links
  followed, loops cut, hidden names left out). A file is done when its
  crop exists and `outcomes` (align_summary.read_outcomes of the output's
  log) holds the record that wrote it; a crop without one (a run killed
  between writing and logging) is made again.

  Returns:
    `(tasks, done, collisions)`: `(relative input, relative output)` pairs to
    align; `relative input -> record` of the done files; log records for
    inputs whose output name another input already takes (`a.jpg`, `a.png`).
  """
  outcomes = outcomes or {}
  tasks, collisions, taken, done = [], [], {}, {}
  for relative in image_tree.walk_files(input_dir):
    output = pathlib.PurePosixPath(relative).with_suffix(options.suffix)
    output = output.as_posix()
    if output in taken:
      collisions.append({"path": relative, "status": "failed",
                         "error": f"output {output} is {taken[output]}'s"})
      continue
    taken[output] = relative
    record = outcomes.get(relative)
    if align_summary.wrote_crop(record, output) and (
        output_dir / output).exists():
      done[relative] = record
    else:
      tasks.append((relative, output))
  return tasks, done, collisions


def align_dataset(input_dir, output_dir, options=AlignOptions(),
                  num_workers=1, detections=None, runner="local",
                  pipeline_args=()):
  """Aligns every image under `input_dir` into the same tree in `output_dir`.

  Args:
    input_dir: root of `<identity>/<image>` files (any depth, any format
      Pillow reads; hidden files are ignored).
    output_dir: where crops, the summary and the log go; created if needed.
    options: an `AlignOptions`.
    num_workers: local processes, each with its own MTCNN; 1 runs in this
      process; None: the usable CPUs (None for the Beam runner).
    detections: an earlier output_dir whose logged detections are reused.
    runner: 'local' or 'beam' (data_pipelines/beam_align.py).
    pipeline_args: Beam pipeline options, e.g. ["--runner=FlinkRunner"].

  Returns:
    The summary dict also written to `output_dir/align_summary.json`: the
    whole tree's outcomes, this run's and earlier runs' (align_summary).

  Raises:
    ValueError: as `check_arguments`, or `input_dir` holds no file.
  """
  check_arguments(input_dir, output_dir, options, num_workers, detections,
                  runner, pipeline_args)
  if runner == "local" and num_workers is None:
    num_workers = usable_cpus()
  start = time.perf_counter()
  input_dir, output_dir = pathlib.Path(input_dir), pathlib.Path(output_dir)
  tasks, done, collisions = plan(
      input_dir, output_dir, options,
      align_summary.read_outcomes(output_dir / LOG_NAME))
  if not (tasks or done or collisions):
    raise ValueError(f"input_dir {input_dir} holds no file to align "
                     "(expected <identity>/<image> files; hidden names are "
                     "left out)")
  output_dir.mkdir(parents=True, exist_ok=True)
  spec_lib.write(options.spec, output_dir)
  cache = (align_worker.read_detections(pathlib.Path(detections) / LOG_NAME)
           if detections else None)
  for stale in output_dir.rglob(f".*{atomic_files.TEMPORARY_MARK}*"):
    stale.unlink()  # left by a killed run
  records = align_summary.TreeRecords(align_summary.new_summary(
      input_dir, output_dir, dataclasses.asdict(options),
      options.spec.to_dict(), num_workers, runner, pipeline_args), done)
  summary_path = output_dir / SUMMARY_NAME
  batches = [tasks[i:i + options.batch_size]
             for i in range(0, len(tasks), options.batch_size)]
  with open(output_dir / LOG_NAME, "a", encoding="utf-8") as log:
    records.add(collisions, log)
    records.write(summary_path)  # earlier runs' outcomes, kept if killed
    try:
      _align_batches(records, log, batches, input_dir, output_dir, options,
                     num_workers, cache, runner, pipeline_args, start)
    finally:  # interrupted: the summary still holds what was done
      seconds = time.perf_counter() - start
      processed = records.summary["this_run"]["processed"]
      records.summary.update(seconds=round(seconds, 2),
                             images_per_second=round(processed / seconds, 2))
      records.write(summary_path)
  records.summary["finished"] = True
  records.write(summary_path)
  return records.summary


def _align_batches(records, log, batches, input_dir, output_dir, options,
                   num_workers, cache, runner, pipeline_args, start):
  """Runs the batches on the runner, keeping and logging their records."""
  if runner == "beam":
    # Imported only here: apache-beam is an optional extra.
    from data_pipelines import beam_align  # pylint: disable=import-outside-toplevel
    results = beam_align.run_batches(batches, input_dir, output_dir,
                                     options, usable_cpus(), cache,
                                     pipeline_args)
  else:
    results = _run_batches(batches, input_dir, output_dir, options,
                           num_workers, cache)
  total = sum(map(len, batches))
  next_report = time.perf_counter() + _PROGRESS_SECONDS
  for batch_records in results:
    records.add(batch_records, log)
    if time.perf_counter() > next_report:
      next_report += _PROGRESS_SECONDS
      processed = records.summary["this_run"]["processed"]
      print(f"align: {processed}/{total} images, "
            f"{processed / (time.perf_counter() - start):.1f} images/s",
            file=sys.stderr, flush=True)
      records.write(output_dir / SUMMARY_NAME)


def _run_batches(batches, input_dir, output_dir, options, num_workers,
                 cache=None):
  """Yields each batch's records, in this process or from a pool."""
  threads = max(1, usable_cpus() // num_workers)
  job = (str(input_dir), str(output_dir), options, threads, cache)
  if num_workers == 1:
    align_worker.init_worker(*job)
    yield from map(align_worker.align_batch, batches)
    return
  # spawn, not fork: TensorFlow's runtime threads do not survive a fork.
  context = multiprocessing.get_context("spawn")
  with context.Pool(num_workers, align_worker.init_worker, job) as pool:
    yield from pool.imap_unordered(align_worker.align_batch, batches)


def _parse_args(argv):
  parser = argparse.ArgumentParser(
      prog="python -m data_pipelines.align",
      description="Detect faces with MTCNN and align them to an alignment "
                  "spec; resumable, multi-process.")
  parser.add_argument("--input_dir", required=True,
                      help="tree of <identity>/<image> files")
  parser.add_argument("--output_dir", required=True, help="same tree, crops")
  defaults = AlignOptions()
  parser.add_argument("--geometry", choices=spec_lib.GEOMETRIES,
                      default=defaults.geometry,
                      help="landmarks: 5 keypoints onto the ArcFace template; "
                           "box: davidsandberg's box + margin")
  parser.add_argument("--image_size", type=int, default=defaults.image_size,
                      help="side of the square crop written (default: 128 "
                           "for landmarks, 182 for box)")
  parser.add_argument("--margin", type=int, default=defaults.margin,
                      help="pixels added around the box, half on each side")
  parser.add_argument("--no_face", choices=align_worker.NO_FACE_MODES,
                      default=defaults.no_face,
                      help="skip: list it, write nothing; center_crop: "
                           "write the central square")
  parser.add_argument("--multiple_faces",
                      choices=align_geometry.MULTIPLE_FACE_POLICIES,
                      default=defaults.multiple_faces,
                      help="central: davidsandberg's area minus 2x squared "
                           "centre offset; largest: largest box")
  parser.add_argument("--min_confidence", type=float,
                      default=defaults.min_confidence,
                      help="detections below count as no face")
  parser.add_argument("--format", dest="image_format",
                      choices=tuple(align_worker.IMAGE_FORMATS),
                      default=defaults.image_format)
  parser.add_argument("--num_workers", type=int, default=None,
                      help="local runner processes (default: usable CPUs)")
  parser.add_argument("--batch_size", type=int, default=defaults.batch_size,
                      help="same-sized images per MTCNN call")
  parser.add_argument("--detections", default=None,
                      help="an earlier output_dir of this input: reuse its "
                           "logged MTCNN detections")
  parser.add_argument("--runner", choices=runners.RUNNERS, default="local",
                      help="beam: an Apache Beam pipeline, options after --")
  own, pipeline_args = runners.split_pipeline_args(
      sys.argv[1:] if argv is None else argv)
  args = parser.parse_args(own)
  args.pipeline_args = pipeline_args
  option_names = [f.name for f in dataclasses.fields(AlignOptions)]
  options = AlignOptions(**{name: getattr(args, name) for name in option_names})
  try:
    check_arguments(args.input_dir, args.output_dir, options,
                    args.num_workers, args.detections, args.runner,
                    args.pipeline_args)
  except ValueError as error:
    parser.error(str(error))  # exit code 2, usage, no traceback
  return args, options


def main(argv=None):
  """Command-line entry point; returns the exit code."""
  args, options = _parse_args(argv)
  try:
    summary = align_dataset(args.input_dir, args.output_dir, options,
                            args.num_workers, args.detections, args.runner,
                            args.pipeline_args)
  except ValueError as error:  # e.g. an input tree without files
    print(f"python -m data_pipelines.align: error: {error}", file=sys.stderr)
    return 2
  print(json.dumps({key: summary[key] for key in
                    ("counts", "this_run", "seconds", "images_per_second")},
                   indent=1))
  print(f"summary: {pathlib.Path(args.output_dir) / SUMMARY_NAME}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
