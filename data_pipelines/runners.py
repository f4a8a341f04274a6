"""`--runner local|beam` of the data pipelines (align, build_tfrecords).

Beam's pipeline options follow `--` on the command line:
    python -m data_pipelines.align ... --runner beam -- --runner=FlinkRunner
"""
import importlib.util

RUNNERS = ("local", "beam")


def split_pipeline_args(argv):
  """(our arguments, Beam pipeline options after the first `--`)."""
  if "--" not in argv:
    return list(argv), []
  split = argv.index("--")
  return list(argv[:split]), list(argv[split + 1:])


def check(runner, num_workers, pipeline_args):
  """Returns the message for a runner setting that cannot work, or None."""
  if runner not in RUNNERS:
    return f"runner must be one of {RUNNERS}, got {runner!r}"
  if runner == "local" and pipeline_args:
    return f"pipeline options {list(pipeline_args)} are for --runner beam"
  if runner == "beam" and importlib.util.find_spec("apache_beam") is None:
    return ("--runner beam needs apache-beam, which is not installed: "
            "pip install -e '.[beam]'")
  if runner == "beam" and num_workers is not None:
    return ("--num_workers is for --runner local; give Beam its parallelism "
            "as pipeline options after --, e.g. -- --direct_num_workers=2 "
            "--direct_running_mode=multi_processing")
  if num_workers is not None and num_workers < 1:
    return f"num_workers must be >= 1, got {num_workers}"
  return None
