"""The aligner's records: its log, and a summary of the whole output tree.

`O/align_log.jsonl` gets one JSON line per processed file and run (status,
box, confidence, crop, error; the run's start time in "run"), appended and
flushed after every batch, so a killed run keeps what it did. The last line
of a file is its outcome. `O/align_summary.json` is rebuilt from those
outcomes, of this run's files and of the files earlier runs finished, so
a resumed or rerun tree reports what one uninterrupted run reports:

  counts         processed (files with an outcome), aligned, no_face
                 (center_cropped of them got the central fallback crop),
                 undecodable, failed, multiple_faces, detections_reused;
                 found, found_padded, found_contrast: the detection pass
                 that found each aligned face (detector.py's retries)
  no_face_files  files without a detected face: their crop, if any, is a
                 fallback (facenet-eval counts the pairs they touch)
  undecodable_files, failed_files   {path, error}
  this_run       processed: files aligned by this run; skipped_done: files
                 whose crop an earlier run wrote (its record kept)

Lists are sorted by path. Timing (seconds, images_per_second) is this run's.
"""
import datetime
import json

from facenet_tf import atomic_files
from facenet_tf.alignment import spec as spec_lib

SUMMARY_NAME = spec_lib.ALIGN_SUMMARY_FILE
LOG_NAME = "align_log.jsonl"
COUNTS = ("processed", "aligned", "no_face", "center_cropped", "undecodable",
          "failed", "multiple_faces", "detections_reused", "found",
          "found_padded", "found_contrast")


def read_records(log_path):
  """Yields an align log's records in order: the one reader of the log.

  A line cut short by a killed run is not a record and is left out (its
  file is aligned again).
  """
  with open(log_path, encoding="utf-8") as log:
    for line in log:
      try:
        yield json.loads(line)
      except json.JSONDecodeError:
        continue


def read_outcomes(log_path):
  """`path -> last record` of an align log; {} when there is none."""
  if not log_path.exists():
    return {}
  return {record["path"]: record for record in read_records(log_path)}


def wrote_crop(record, output):
  """Whether `record` is the one that wrote the crop `output`."""
  return record is not None and record.get("output") == output


class TreeRecords:
  """The outcome of every file of one output tree, across runs."""

  def __init__(self, summary, earlier):
    """`summary`: the run's fields (options, ...); `earlier`: the kept
    records of files an earlier run finished."""
    self.summary = summary
    self._outcomes = dict(earlier)
    self._started = summary["started"]
    summary["this_run"] = {"processed": 0, "skipped_done": len(earlier)}

  def add(self, records, log):
    """Keeps `records` as their files' outcomes and appends them to `log`."""
    for record in records:
      self._outcomes[record["path"]] = record
      log.write(json.dumps({"run": self._started, **record}) + "\n")
    log.flush()
    self.summary["this_run"]["processed"] += len(records)

  def write(self, summary_path):
    """Recounts the summary from the outcomes and writes it atomically."""
    counts = dict.fromkeys(COUNTS, 0)
    lists = {"no_face_files": [], "undecodable_files": [], "failed_files": []}
    for path in sorted(self._outcomes):
      record = self._outcomes[path]
      counts["processed"] += 1
      status = record["status"]
      if status in ("no_face", "center_crop"):
        counts["no_face"] += 1
        counts["center_cropped"] += status == "center_crop"
        lists["no_face_files"].append(path)
      elif status == "aligned":
        counts["aligned"] += 1
        counts[record.get("found_by", "found")] += 1  # older logs: none
      else:
        counts[status] += 1
        lists[f"{status}_files"].append({"path": path,
                                         "error": record["error"]})
      counts["multiple_faces"] += record.get("faces", 0) > 1
      counts["detections_reused"] += record.get("cached", False)
    self.summary.update(counts=counts, **lists)
    atomic_files.write_json(summary_path, self.summary, indent=1)


def new_summary(input_dir, output_dir, options_dict, spec_dict, num_workers,
                runner, pipeline_args):
  """The summary's fields that describe the run."""
  return {"input_dir": str(input_dir), "output_dir": str(output_dir),
          "options": options_dict, "alignment": spec_dict,
          "num_workers": num_workers,
          "runner": {"runner": runner, "pipeline_args": list(pipeline_args)},
          "started": datetime.datetime.now().isoformat(timespec="seconds"),
          "finished": False, "seconds": None, "images_per_second": None,
          "log": LOG_NAME}
