"""The Beam runner: the local runner's per-identity work as a Beam pipeline.

    identity folders -> Reshuffle -> convert_identity -> Identity
      |- usable names -> ToList -> labels (side input)
      |- (shard, (label, record)), plus one empty entry per shard so that
      |  every shard file exists -> GroupByKey -> sort by label -> write
      '- summaries -> ToList -> manifest, after every shard is written

Records within a shard are sorted by label (= by name), as the local runner
writes them, so both runners give byte-identical shards. Pipeline options
come from the command line after `--`: the DirectRunner by default (add
`--direct_num_workers=2 --direct_running_mode=multi_processing` for
parallelism), or e.g. `--runner=DataflowRunner --project=P --region=R
--temp_location=gs://B/tmp --setup_file=./setup.py` with gs:// input and
output directories.

Limits: a shard is written by one worker from memory, so choose num_shards
to keep shards to a few hundred MB. The identity names travel inside the
pipeline graph (`beam.Create`): fine for 10^5 identities, but Dataflow
limits a job graph to 10 MB. The DirectRunner holds the whole dataset in
memory: fine for LFW, not for VGGFace2 (use the local runner there, or a
distributed runner).
"""
import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from data_pipelines import tfrecords_identities
from data_pipelines import tfrecords_manifest
from data_pipelines import tfrecords_output


def run(job, identities, listing_skipped, run_info, pipeline_args):
  """Runs the conversion pipeline to completion.

  Args:
    job: a `tfrecords_output.Job`.
    identities: `(name, shard)` pairs from `list_identities`, in the record
      order, which each shard keeps (as the local runner does).
    listing_skipped: skip entries found while listing the input directory.
    run_info: the manifest's `run` field.
    pipeline_args: Beam pipeline options, e.g. `["--runner=DataflowRunner"]`.
  """
  options = PipelineOptions(list(pipeline_args))
  with beam.Pipeline(options=options) as pipeline:
    converted = (
        pipeline
        | "IdentityFolders" >> beam.Create(identities)
        # Created elements may all sit on one worker: spread them first.
        | "Spread" >> beam.Reshuffle()
        | "Convert" >> beam.Map(_convert, job))
    usable = converted | "Usable" >> beam.Filter(
        lambda identity: bool(identity.images))
    labels = (
        usable
        | "Names" >> beam.Map(lambda identity: identity.name)
        | "AllNames" >> beam.combiners.ToList()
        | "Labels" >> beam.Map(tfrecords_identities.assign_labels))
    rank = {name: i for i, (name, _) in enumerate(identities)}
    keyed_records = usable | "Serialize" >> beam.Map(
        _keyed_record, rank, beam.pvalue.AsSingleton(labels))
    every_shard = pipeline | "EveryShard" >> beam.Create(
        [(shard, None) for shard in range(job.num_shards)])
    written = (
        (keyed_records, every_shard)
        | "AllRecords" >> beam.Flatten()
        | "ByShard" >> beam.GroupByKey()
        | "WriteShards" >> beam.Map(_write_shard, job))
    _ = (
        converted
        | "Summarize" >> beam.Map(tfrecords_identities.Identity.summary)
        | "AllSummaries" >> beam.combiners.ToList()
        | "WriteManifest" >> beam.Map(
            _write_manifest, job, listing_skipped, run_info,
            beam.pvalue.AsList(written)))


def _convert(folder, job):
  name, shard = folder
  return tfrecords_identities.convert_identity(
      job.input_dir, name, shard, job.min_images)


def _keyed_record(identity, rank, labels):
  record = tfrecords_identities.serialize(labels[identity.name], identity)
  return identity.shard, (rank[identity.name], record)


def _write_shard(shard_entries, job):
  shard, entries = shard_entries
  ranked = sorted((e for e in entries if e is not None), key=lambda e: e[0])
  tfrecords_output.write_shard(job.shard_path(shard),
                               [record for _, record in ranked])
  return shard


def _write_manifest(summaries, job, listing_skipped, run_info, written):
  del written  # a side input only so that the manifest waits for the shards
  tfrecords_manifest.write(job, summaries, listing_skipped, run_info)
