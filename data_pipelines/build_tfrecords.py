r"""Convert a face tree `D/<identity>/<image>` into TFRecord shards + manifest.

    python -m data_pipelines.build_tfrecords --input_dir D --output_dir O \
        [--name N] [--num_shards 16] [--min_images 1] [--seed 0] [--overwrite] \
        [--runner local|beam] [--num_workers W] [-- BEAM_PIPELINE_OPTIONS]

Writes `O/N.tfrecord-00000-of-00016`... with one `tf.train.Example` per
identity holding all its images (schema: facenet_tf/data/records.py), and
`O/manifest.json` (fields: data_pipelines/tfrecords_manifest.py). N defaults
to the input folder's name.

Labels: the identities that keep at least --min_images usable images, sorted
by folder name, get 0..n-1. A skipped identity gets no label and no record,
so labels stay dense; when something is skipped, a label is therefore not
the folder's position in the sorted tree: the manifest maps names to labels.

Records: identities are written in a random order fixed by --seed, not by
name, so that a reader's shuffle buffer draws identities from the whole
tree, not from one alphabetical window (data_pipelines/tfrecords_identities.py).

Images: JPEG/PNG files are stored as their own bytes when TensorFlow decodes
them; other formats (PGM, BMP, GIF, TIFF...) are decoded with Pillow and
stored as PNG. Every image is decoded fully. Nothing is dropped silently:
each skipped file or folder is in the manifest with its reason
(undecodable, not_an_image, directory, unreadable, not_an_identity_folder,
empty_identity, too_few_images).

Runners, with byte-identical shards: `local`, a pool of --num_workers
processes (default: the usable CPUs); `beam`, an Apache Beam pipeline
(`pip install -e ".[beam]"`) whose options follow `--`, e.g.
`-- --runner=DataflowRunner ...` (see data_pipelines/beam_tfrecords.py).

A request that cannot run (missing input, empty tree, non-empty output
without --overwrite, bad numbers) exits with status 2 and a message.
"""
import argparse
import logging
import os
import re
import sys

from data_pipelines import runners
from data_pipelines import tfrecords_identities
from data_pipelines import tfrecords_local
from data_pipelines import tfrecords_manifest
from data_pipelines import tfrecords_output
from data_pipelines.tfrecords_identities import ConversionError

RUNNERS = runners.RUNNERS


def build(input_dir, output_dir, *, name=None, num_shards=16, min_images=1,
          seed=0, runner="local", num_workers=None, overwrite=False,
          pipeline_args=()):
  """Converts `input_dir` into shards and a manifest in `output_dir`.

  Args:
    input_dir: root of the `<identity>/<image>` tree (local or gs://).
    output_dir: where the shards and manifest.json go; created if missing.
    name: shard file prefix; defaults to the input folder's name.
    num_shards: number of shard files; a shard is the local runner's unit of
      work, so use at least as many as workers.
    min_images: identities with fewer usable images are skipped.
    seed: fixes the random record order of the identities.
    runner: 'local' or 'beam'.
    num_workers: processes of the local runner; default: usable CPUs.
    overwrite: replace a previous conversion in `output_dir`.
    pipeline_args: Beam pipeline options (beam runner only).

  Returns:
    The manifest, as a dict.

  Raises:
    ConversionError: the request cannot run; the message says why.
  """
  name = name or os.path.basename(os.path.normpath(input_dir))
  _check_arguments(name, num_shards, min_images, runner, num_workers,
                   pipeline_args)
  identities, listing_skipped = tfrecords_identities.list_identities(
      input_dir, num_shards, seed)
  tfrecords_output.prepare_output_dir(input_dir, output_dir, overwrite)
  job = tfrecords_output.Job(input_dir, output_dir, name, num_shards,
                             min_images)
  if runner == "local":
    num_workers = num_workers or len(os.sched_getaffinity(0))
    run_info = {"runner": "local", "num_workers": num_workers,
                "record_order_seed": seed, "command_line": sys.argv}
    summaries = tfrecords_local.run(job, identities, num_workers)
    tfrecords_manifest.write(job, summaries, listing_skipped, run_info)
  else:
    # Imported only here: apache-beam is an optional extra, and the local
    # runner's spawned workers re-import this module (~2 s more each).
    from data_pipelines import beam_tfrecords
    run_info = {"runner": "beam", "pipeline_args": list(pipeline_args),
                "record_order_seed": seed, "command_line": sys.argv}
    beam_tfrecords.run(job, identities, listing_skipped, run_info,
                       pipeline_args)
  manifest = tfrecords_manifest.read(output_dir)
  if not manifest["num_images"]:
    raise ConversionError(
        f"input_dir {input_dir} holds no usable image in its "
        f"{len(identities)} identity folder(s) (skipped: "
        f"{manifest['skipped_counts']}; see {output_dir}/"
        f"{tfrecords_output.MANIFEST_NAME})")
  return manifest


def _check_arguments(name, num_shards, min_images, runner, num_workers,
                     pipeline_args):
  """Raises ConversionError for arguments that cannot work together."""
  if not re.fullmatch(r"[\w.-]+", name):
    raise ConversionError(
        f"name {name!r} must be letters, digits, '_', '-' or '.'")
  if num_shards < 1:
    raise ConversionError(f"num_shards must be >= 1, got {num_shards}")
  if min_images < 1:
    raise ConversionError(f"min_images must be >= 1, got {min_images}")
  problem = runners.check(runner, num_workers, pipeline_args)
  if problem:
    raise ConversionError(problem)

def _parse(argv):
  """(parser, our arguments, Beam pipeline options after `--`)."""
  own, pipeline_args = runners.split_pipeline_args(argv)
  parser = argparse.ArgumentParser(
      prog="python -m data_pipelines.build_tfrecords",
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--input_dir", required=True,
                      help="root of the <identity>/<image> tree")
  parser.add_argument("--output_dir", required=True,
                      help="where the shards and manifest.json go")
  parser.add_argument("--name", help="shard file prefix (default: the "
                      "input folder's name)")
  parser.add_argument("--num_shards", type=int, default=16,
                      help="number of shard files (default: 16)")
  parser.add_argument("--min_images", type=int, default=1,
                      help="skip identities with fewer usable images")
  parser.add_argument("--seed", type=int, default=0,
                      help="fixes the random record order (default: 0)")
  parser.add_argument("--runner", choices=RUNNERS, default="local")
  parser.add_argument("--num_workers", type=int,
                      help="local runner processes (default: usable CPUs)")
  parser.add_argument("--overwrite", action="store_true",
                      help="replace a previous conversion in output_dir")
  return parser, parser.parse_args(own), pipeline_args


def main(argv):
  parser, args, pipeline_args = _parse(argv)
  logging.basicConfig(level=logging.INFO,
                      format="%(asctime)s %(levelname)s %(message)s")
  try:
    manifest = build(
        args.input_dir, args.output_dir, name=args.name,
        num_shards=args.num_shards, min_images=args.min_images,
        seed=args.seed, runner=args.runner, num_workers=args.num_workers,
        overwrite=args.overwrite, pipeline_args=pipeline_args)
  except ConversionError as error:
    parser.error(str(error))  # exit status 2, no traceback
  logging.info("Wrote %d images of %d identities into %d shards in %s",
               manifest["num_images"], manifest["num_identities"],
               manifest["num_shards"], args.output_dir)
  if manifest["skipped"]:
    logging.warning("Skipped %s; paths and reasons are in %s",
                    manifest["skipped_counts"],
                    os.path.join(args.output_dir,
                                 tfrecords_output.MANIFEST_NAME))


if __name__ == "__main__":
  main(sys.argv[1:])
