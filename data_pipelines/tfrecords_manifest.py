"""`manifest.json`: what a conversion wrote, and everything it left out.

Built from the identities' summaries alone (no image bytes), in the same way
by both runners; every list and histogram is sorted, so two runs of the same
conversion give the same manifest except for its `run` field (runner, its
options, command line).

Fields:
  schema_version, name, num_identities, num_images, num_shards
  shards                 shard file names, in order
  shard_num_identities, shard_num_images   per shard, to see the balance
  identities             name -> {label, num_images, shard}, usable ones only
  images                 stored_formats, source_formats, channels (counts),
                         all_same_size, num_distinct_sizes, height_range,
                         width_range, most_common_sizes ("HxW" -> count, the
                         20 most common, height first)
  skipped_counts         reason -> count (files, and whole identities)
  skipped                [{path, reason, detail}] sorted by path; paths are
                         relative to input_dir
  arguments              input_dir, name, num_shards, min_images
  run                    runner ('local' or 'beam'), its options, command_line
  versions               tensorflow and pillow: PNG re-encodes depend on them
  alignment              the alignment spec of input_dir/alignment_spec.json
                         (data_pipelines.align, training_tree), or null
  teacher_targets        with, without (images), mean_unit (the mean of
                         every unit target row, faces and mirrors: the
                         distillation losses' centre), or null
"""
import collections
import json
import os

import numpy as np
import PIL
import tensorflow as tf

from data_pipelines import tfrecords_identities
from data_pipelines import tfrecords_output
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.data import records

# Uncropped photos come in countless sizes: list only the most common.
_MAX_LISTED_SIZES = 20
_HISTOGRAMS = ("sizes", "stored_formats", "source_formats", "channels")


def write(job, summaries, listing_skipped, run):
  """Builds the manifest and writes it atomically."""
  manifest = build(job, summaries, listing_skipped, run)
  tfrecords_output.write_text(_path(job.output_dir),
                              json.dumps(manifest, indent=1) + "\n")


def read(output_dir):
  """The manifest of the conversion in `output_dir`, as a dict."""
  with tf.io.gfile.GFile(_path(output_dir)) as f:
    return json.load(f)


def build(job, summaries, listing_skipped, run):
  """The manifest as a dict.

  Args:
    job: the `tfrecords_output.Job`.
    summaries: `Identity.summary()` of every identity folder, any order.
    listing_skipped: skip entries found while listing `input_dir`.
    run: dict describing the runner, stored as the `run` field.
  """
  usable = sorted((s for s in summaries if s["num_images"]),
                  key=lambda s: s["name"])
  labels = tfrecords_identities.assign_labels(s["name"] for s in usable)
  shard_images = [0] * job.num_shards
  shard_identities = [0] * job.num_shards
  histograms = {key: collections.Counter() for key in _HISTOGRAMS}
  for summary in usable:
    shard_images[summary["shard"]] += summary["num_images"]
    shard_identities[summary["shard"]] += 1
    for key in _HISTOGRAMS:
      histograms[key].update(summary[key])
  skipped = sorted(
      list(listing_skipped) + [e for s in summaries for e in s["skipped"]],
      key=lambda e: (e["path"], e["reason"]))
  return {
      "schema_version": records.SCHEMA_VERSION,
      "name": job.name,
      "num_identities": len(usable),
      "num_images": sum(shard_images),
      "num_shards": job.num_shards,
      "shards": [os.path.basename(job.shard_path(i))
                 for i in range(job.num_shards)],
      "shard_num_identities": shard_identities,
      "shard_num_images": shard_images,
      "identities": {
          s["name"]: {"label": labels[s["name"]],
                      "num_images": s["num_images"], "shard": s["shard"]}
          for s in usable},
      "images": _image_statistics(histograms),
      "skipped_counts": _sorted_counts(
          collections.Counter(e["reason"] for e in skipped)),
      "skipped": skipped,
      # Not output_dir: the manifest lies in it, wherever it is moved.
      "arguments": {"input_dir": job.input_dir, "name": job.name,
                    "num_shards": job.num_shards,
                    "min_images": job.min_images},
      "run": run,
      "versions": {"tensorflow": tf.__version__, "pillow": PIL.__version__},
      "alignment": read_alignment(job.input_dir),
      "teacher_targets": _teacher_counts(usable),
  }


def _teacher_counts(usable):
  """Images with and without a teacher target and the targets' mean unit
  row, or None when the records carry none (records.py's optional
  `teacher` feature)."""
  counted = [s for s in usable if s.get("with_teacher") is not None]
  if not counted:
    return None
  with_target = sum(s["with_teacher"] for s in counted)
  # Sorted by name (usable is), so both runners add in the same order.
  total = np.sum([s["teacher_unit_sum"][0] for s in counted], axis=0)
  rows = sum(s["teacher_unit_sum"][1] for s in counted)
  return {"with": with_target,
          "without": sum(s["num_images"] for s in counted) - with_target,
          "mean_unit": [round(float(v), 7) for v in total / max(rows, 1)]}


def read_alignment(input_dir):
  """The alignment spec dict written beside an aligned tree, or None."""
  path = os.path.join(input_dir, spec_lib.SPEC_FILE)
  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path) as f:
    return spec_lib.AlignmentSpec.from_dict(json.load(f)).to_dict()


def _image_statistics(histograms):
  sizes = histograms["sizes"]
  dimensions = [tuple(map(int, size.split("x"))) for size in sizes]
  heights = [height for height, _ in dimensions]
  widths = [width for _, width in dimensions]
  # Ties broken by name so that the list does not depend on arrival order.
  most_common = sorted(sizes.items(), key=lambda item: (-item[1], item[0]))
  return {
      "stored_formats": _sorted_counts(histograms["stored_formats"]),
      "source_formats": _sorted_counts(histograms["source_formats"]),
      "channels": _sorted_counts(histograms["channels"]),
      "all_same_size": len(sizes) == 1,
      "num_distinct_sizes": len(sizes),
      "height_range": [min(heights), max(heights)] if heights else None,
      "width_range": [min(widths), max(widths)] if widths else None,
      "most_common_sizes": dict(most_common[:_MAX_LISTED_SIZES]),
  }


def _sorted_counts(counter):
  return dict(sorted(counter.items()))


def _path(output_dir):
  return os.path.join(output_dir, tfrecords_output.MANIFEST_NAME)
