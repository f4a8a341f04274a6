"""The Beam runner of data_pipelines.align: the same batches, on any engine.

    batches of (input, output) paths -> Reshuffle -> AlignBatches (one MTCNN
    per DoFn instance, align_worker.align_batch) -> JSON records -> text
    shards in <output_dir>/.beam_records/ -> read back by the driver

The driver plans the work (align.plan, which skips crops already under their
final name) and cuts it into the local runner's batches; workers run the
local runner's `align_worker.align_batch` on them, so both runners write the
same crops and, counted by the same code from the records, the same summary.

A rerun treats done files as the local runner does: a crop under its final
name, with the log record that wrote it, is skipped when the work is
planned; files without a crop (no face, undecodable, failed) are retried;
the summary counts the whole tree, earlier runs' outcomes included
(data_pipelines/align_summary.py). A bundle that a runner retries rewrites
its crops atomically (hidden temporary name, then rename) and only the
successful attempt's records reach the summary, so a retry is never counted
twice. Temporary crops of killed workers are removed by the next run.

Every worker reads the input and writes the crops by path: the input and
output directories must be on a filesystem all workers see (one machine's
disk for the DirectRunner; NFS, a Filestore or GCS FUSE mount on a
cluster). Pipeline options follow `--`: `--direct_num_workers=2
--direct_running_mode=multi_processing` for the DirectRunner's processes, or
e.g. Flink: `--runner=FlinkRunner --flink_master=HOST:8081
--environment_type=EXTERNAL --environment_config=localhost:50000
--parallelism=N`. MTCNN's intra-op threads: the usable CPUs divided by
--direct_num_workers on the DirectRunner, 1 elsewhere (a distributed runner
starts one SDK process per core).
"""
import json
import pathlib
import shutil

import apache_beam as beam
from apache_beam.options.pipeline_options import DirectOptions
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.options.pipeline_options import StandardOptions

from data_pipelines import align_worker

SCRATCH_NAME = ".beam_records"  # hidden: not a crop, removed after the run


class AlignBatches(beam.DoFn):
  """Aligns batches of (relative input, relative output) paths."""

  def __init__(self, job):
    super().__init__()
    self._job = job  # align_worker.init_worker's arguments

  def setup(self):
    align_worker.init_worker(*self._job)  # builds this process's MTCNN once

  def process(self, batch):
    yield from align_worker.align_batch(batch)


def intra_op_threads(options, usable_cpus):
  """MTCNN threads per worker process (see the module docstring)."""
  runner = options.view_as(StandardOptions).runner
  if runner not in (None, "DirectRunner", "direct"):
    return 1
  workers = options.view_as(DirectOptions).direct_num_workers or 1
  return max(1, usable_cpus // workers)


def run_batches(batches, input_dir, output_dir, options, usable_cpus,
                cache, pipeline_args):
  """Runs the batches on Beam; yields their log records, sorted by path."""
  pipeline_options = PipelineOptions(list(pipeline_args))
  job = (str(input_dir), str(output_dir), options,
         intra_op_threads(pipeline_options, usable_cpus), cache)
  scratch = pathlib.Path(output_dir) / SCRATCH_NAME
  shutil.rmtree(scratch, ignore_errors=True)  # records of an unfinished run
  with beam.Pipeline(options=pipeline_options) as pipeline:
    _ = (pipeline
         | "Batches" >> beam.Create(batches)
         # Created elements may all sit on one worker: spread them first.
         | "Spread" >> beam.Reshuffle()
         | "Align" >> beam.ParDo(AlignBatches(job))
         | "ToJson" >> beam.Map(json.dumps, sort_keys=True)
         | "Write" >> beam.io.WriteToText(str(scratch / "records"),
                                          file_name_suffix=".jsonl"))
  records = []
  for path in sorted(scratch.glob("records*.jsonl")):
    with open(path, encoding="utf-8") as lines:
      records.extend(json.loads(line) for line in lines)
  shutil.rmtree(scratch)
  yield sorted(records, key=lambda record: record["path"])

