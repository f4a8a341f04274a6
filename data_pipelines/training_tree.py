r"""One training tree from several aligned trees, without name collisions.

    python -m data_pipelines.training_tree --output_dir O \
        --source lfw=/tmp/aligned/lfw --people lfw=peopleDevTrain.txt \
        --source celeba=/tmp/aligned/celeba \
        [--identity_fraction 0.25] [--seed 0]

Each source is the output of `data_pipelines.align`; identity `<id>` of
source `<s>` becomes the folder `<s>.<id>`, so two sets can never merge two
people who share a folder name (no folder name holds a dot-prefixed source
twice). The files are symlinks (nothing is copied); build_tfrecords reads
the tree like any other.

Training policy for faces without a detection: skipped. Files the aligner
wrote as a fallback (its `--no_face center_crop`, listed in its summary) are
left out and counted, so one aligned LFW tree serves both evaluation (every
pair scored) and training (only real detections).

All sources must share one alignment spec (else: exit 2, naming both);
it is written to `O/alignment_spec.json` for build_tfrecords' manifest.
`--people` keeps only the identities of an LFW people list (View 1:
peopleDevTrain.txt; View 2: some folds of people.txt with `--folds`).
`--identity_fraction` keeps a seeded random fraction of all identities
(paper Table 6: accuracy against the amount of training data).
`O/training_tree.json` records the sources, the filters and every count.
Teacher targets stored beside a source's crops (data_pipelines.
teacher_targets) follow its faces into `O/teacher_targets.npz`, by tree
path, for build_tfrecords; faces without one are counted.
"""
import argparse
import json
import os
import pathlib
import sys

import numpy as np

from data_pipelines import teacher_targets
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.data import image_tree
from facenet_tf.evaluation import lfw_protocol

SUMMARY_NAME = "training_tree.json"


class TreeError(ValueError):
  """A request the user must fix."""


def build(output_dir, sources, people=None, folds=None,
          identity_fraction=1.0, seed=0):
  """Writes the symlink tree and its summary; returns the summary.

  Args:
    output_dir: new (or empty) directory.
    sources: {source name: aligned tree}.
    people: {source name: LFW people file} filters.
    folds: people.txt folds (0-based) kept by the people filters.
    identity_fraction: fraction of identities kept, (0, 1].
    seed: for the identity draw.
  """
  people = people or {}
  if not sources:
    raise TreeError("give at least one --source NAME=DIR")
  if not 0 < identity_fraction <= 1:
    raise TreeError(f"identity_fraction must be in (0, 1], got "
                    f"{identity_fraction}")
  unknown = set(people) - set(sources)
  if unknown:
    raise TreeError(f"--people names no --source: {sorted(unknown)}")
  output_dir = pathlib.Path(output_dir)
  if output_dir.exists() and any(output_dir.iterdir()):
    raise TreeError(f"output_dir {output_dir} is not empty")
  spec = _common_spec(sources)
  identities, counts = [], {}
  for name, root in sorted(sources.items()):
    if "." in name or not name:
      raise TreeError(f"source name {name!r} must be non-empty, no dots")
    keep = None
    if name in people:
      keep = {p.name for p in lfw_protocol.read_people(people[name])
              if folds is None or p.fold in folds}
    found, counts[name] = _source_identities(pathlib.Path(root), keep)
    identities += [(name, identity, files) for identity, files in found]
  rng = np.random.default_rng(seed)
  kept = len(identities)
  if identity_fraction < 1:
    kept = max(1, round(identity_fraction * len(identities)))
    order = sorted(rng.permutation(len(identities))[:kept])
    identities = [identities[i] for i in order]
  for name, identity, files in identities:
    folder = output_dir / f"{name}.{identity}"
    folder.mkdir(parents=True)
    for path in files:
      (folder / path.name).symlink_to(path.resolve())
  if spec is not None:
    spec_lib.write(spec, output_dir)
  teacher = _carry_teacher_targets(output_dir, sources, identities)
  summary = {"sources": {k: str(v) for k, v in sources.items()},
             "people": {k: str(v) for k, v in people.items()},
             "folds": sorted(folds) if folds else None,
             "identity_fraction": identity_fraction, "seed": seed,
             "alignment": spec.to_dict() if spec else None,
             "per_source": counts, "identities": len(identities),
             "images": sum(len(f) for _, _, f in identities),
             "teacher_targets": teacher}
  (output_dir / SUMMARY_NAME).write_text(json.dumps(summary, indent=1) + "\n")
  return summary


def _carry_teacher_targets(output_dir, sources, identities):
  """Writes the tree's teacher targets from its sources' (when any source
  has them); returns {with, without} counts of the tree's faces, or None."""
  stored = {name: teacher_targets.load(root)[0]
            for name, root in sources.items()}
  if not any(stored.values()):
    return None
  targets, without = {}, 0
  for name, identity, files in identities:
    root = pathlib.Path(sources[name])
    for path in files:
      found = stored[name].get(path.relative_to(root).as_posix())
      if found is None:
        without += 1  # the teacher could not describe it: no target
      else:
        targets[f"{name}.{identity}/{path.name}"] = found
  teacher_targets.write_tree(output_dir, targets)
  return {"with": len(targets), "without": without}


def _common_spec(sources):
  specs = {name: spec_lib.read(root) for name, root in sources.items()}
  distinct = {s for s in specs.values()}
  if len(distinct) > 1:
    raise TreeError("the sources are aligned differently: " + ", ".join(
        f"{n}: {s.name if s else 'no alignment_spec.json'}"
        for n, s in sorted(specs.items())))
  return distinct.pop()


def _source_identities(root, keep):
  """[(identity, [files])] of one aligned tree, and its counts."""
  if not root.is_dir():
    raise TreeError(f"source {root} is not a directory")
  fallback = spec_lib.fallback_stems(root)
  found, counts = [], {"identities": 0, "images": 0, "fallback_skipped": 0,
                       "filtered_identities": 0}
  for folder in sorted(p for p in root.iterdir() if p.is_dir()
                       and not p.name.startswith(".")
                       and not image_tree.is_loop(p, root)):
    if keep is not None and folder.name not in keep:
      counts["filtered_identities"] += 1
      continue
    files = []
    for path in sorted(p for p in folder.iterdir()
                       if p.is_file() and not p.name.startswith(".")):
      relative = path.relative_to(root).as_posix()
      if os.path.splitext(relative)[0] in fallback:
        counts["fallback_skipped"] += 1
      else:
        files.append(path)
    if files:
      found.append((folder.name, files))
      counts["identities"] += 1
      counts["images"] += len(files)
  if not found:
    raise TreeError(f"source {root} holds no identity folder with images "
                    f"to keep ({counts})")
  return found, counts


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--output_dir", required=True)
  parser.add_argument("--source", action="append", default=[],
                      help="NAME=ALIGNED_DIR, repeatable")
  parser.add_argument("--people", action="append", default=[],
                      help="NAME=LFW_PEOPLE_FILE: keep only these people")
  parser.add_argument("--folds", default=None,
                      help="comma-separated people.txt folds, 0-based")
  parser.add_argument("--identity_fraction", type=float, default=1.0)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)
  try:
    sources = dict(_pair(v, "--source") for v in args.source)
    people = dict(_pair(v, "--people") for v in args.people)
    folds = ({int(f) for f in args.folds.split(",")} if args.folds else None)
    summary = build(args.output_dir, sources, people, folds,
                    args.identity_fraction, args.seed)
  except (TreeError, OSError, ValueError) as error:
    parser.error(str(error))
  print(json.dumps({k: summary[k] for k in
                    ("per_source", "identities", "images")}, indent=1))
  return 0


def _pair(value, flag):
  name, sep, path = value.partition("=")
  if not sep:
    raise TreeError(f"{flag} wants NAME=PATH, got {value!r}")
  return name, path


if __name__ == "__main__":
  sys.exit(main())
