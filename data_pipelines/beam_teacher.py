"""The Beam runner of data_pipelines.teacher_targets: the same parts, any engine.

    jobs (input dir, part path, faces) -> Reshuffle -> DescribeFaces
    (one dlib teacher per worker process, teacher_targets.describe_chunk)

Each worker writes its part atomically under the aligned tree, exactly as
the local runner does; the driver then reads the parts back, so both
runners give the same targets and the same summary. The input photos and
the aligned tree must be on a filesystem every worker sees (as for
beam_align). Pipeline options follow `--`, e.g. `--direct_num_workers=2
--direct_running_mode=multi_processing`.
"""
import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from data_pipelines import teacher_targets


def run(jobs, pipeline_args):
  """Runs every job; yields each job's face count once the pipeline ends."""
  with beam.Pipeline(options=PipelineOptions(list(pipeline_args))) as p:
    _ = (p
         | "Jobs" >> beam.Create(jobs)
         # Created elements may all sit on one worker: spread them first.
         | "Spread" >> beam.Reshuffle()
         | "Describe" >> beam.Map(teacher_targets.describe_chunk))
  for job in jobs:
    yield len(job[2])
