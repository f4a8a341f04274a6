"""config.evals: the evaluators a run reports, all through one pairs evaluator.

config.eval is the entry "verification" (training/evaluators.specs); each
config.evals entry adds <name>_accuracy, ... to TensorBoard's eval/ and to
results.json. A `pairs` entry is the pairs evaluator facenet-eval uses, so a
run's figures equal facenet-eval's on the same weights.
"""
import json
import pathlib
import shutil

import pytest
import tensorflow as tf

from facenet_tf import config as config_lib
from facenet_tf.evaluation import eval_lib
from facenet_tf.evaluation import pairs_evaluator
from facenet_tf.training import evaluators
from facenet_tf.training import train_lib
from tests import record_fixtures


@pytest.mark.unit
def test_config_eval_is_the_verification_entry(tmp_path):
  c = config_lib.get_config("smoke")
  assert evaluators.specs(c) == {
      "verification": {"type": "synthetic", "target_far": 1e-3}}
  c.data.source = "tfrecords"
  c.eval.pairs, c.eval.flip, c.eval.crop_fraction = "p.txt", True, 0.7
  pairs = record_fixtures.random_pairs_tree(str(tmp_path))
  c.evals.devtest = dict(type="pairs", pairs=pairs)
  c.evals.held_out = dict(type="synthetic", target_far=0.01)
  specs = evaluators.specs(c)
  assert list(specs) == ["verification", "devtest", "held_out"]
  assert specs["verification"] == {
      "type": "pairs", "pairs": "p.txt", "images_dir": "",
      "crop_fraction": 0.7, "flip": True, "target_far": 1e-3}
  # An entry's missing arguments take config.EVALUATORS' defaults.
  assert specs["devtest"] == {
      "type": "pairs", "pairs": pairs, "images_dir": "",
      "crop_fraction": 0.0, "flip": False, "target_far": 1e-3}
  assert specs["held_out"] == {"type": "synthetic", "target_far": 0.01}


@pytest.mark.unit
@pytest.mark.parametrize("entry, match", [
    ({"type": "knn"}, "Unknown evals.bad.type 'knn'"),
    ({"pairs": "x"}, "needs a type"),
    ({"type": "synthetic", "pairs": "x"}, "unknown arguments pairs"),
    ({"type": "pairs", "pairs": "/no/such/pairs.txt"}, "is not a file"),
    ({"type": "synthetic", "target_far": 1.5}, "target_far"),
])
def test_config_refuses_an_evaluator_that_cannot_run(entry, match):
  c = config_lib.get_config("smoke")
  c.evals.bad = entry
  with pytest.raises(config_lib.ConfigError, match=match):
    config_lib.validate(c)


@pytest.mark.unit
def test_the_verification_name_is_config_evals():
  c = config_lib.get_config("smoke")
  c.evals.verification = dict(type="synthetic")
  with pytest.raises(config_lib.ConfigError, match="config.eval's"):
    config_lib.validate(c)


@pytest.mark.unit
def test_a_pairs_file_too_small_for_10_folds_is_refused_at_start(tmp_path):
  """#31 item 6: 4 same + 4 different pairs deal one pair into each of 8
  folds, so no fold has both kinds: the run stops with one line naming the
  config key and the file before anything is written (it used to train,
  then crash with a traceback). 10 + 10 pairs pass."""
  small = record_fixtures.random_pairs_tree(str(tmp_path / "small"))
  enough = record_fixtures.random_pairs_tree(str(tmp_path / "enough"),
                                             people=10)
  c = config_lib.get_config("smoke")
  c.data.source, c.data.tfrecords.dir = "tfrecords", str(tmp_path)
  c.eval.pairs = small
  workdir = tmp_path / "run"
  with pytest.raises(config_lib.ConfigError) as error:
    train_lib.train(c, str(workdir))
  message = str(error.value)
  assert message.startswith(f"eval.pairs: {small} has too few pairs for "
                            "10-fold verification"), message
  assert "Fold 0 needs same and different pairs" in message
  assert "\n" not in message and not workdir.exists()
  c.eval.pairs = enough
  evaluators.check(c)
  c.evals.small = dict(type="pairs", pairs=small)
  with pytest.raises(config_lib.ConfigError, match="^evals.small.pairs: "):
    evaluators.check(c)


@pytest.mark.unit
def test_facenet_eval_refuses_a_small_pairs_file_before_embedding(tmp_path):
  """The pairs evaluator checks the folds before it calls the model (None
  here would fail on first use), so facenet-eval stops at once."""
  small = record_fixtures.random_pairs_tree(str(tmp_path))
  evaluator = pairs_evaluator.PairsEvaluator(small, progress=False)
  with pytest.raises(eval_lib.InputError, match="too few pairs"):
    evaluator.evaluate(None)
  # Distances alone (threshold calibration) need no folds.
  assert evaluator.distances(tf.eye(8).numpy()).shape == (8,)


def _eval_tags(workdir):
  tags = {}
  for path in (workdir / "tensorboard" / "eval").glob("events.out.*"):
    for event in tf.compat.v1.train.summary_iterator(str(path)):
      for value in event.summary.value:
        tags.setdefault(value.tag, []).append(event.step)
  return tags


@pytest.mark.integration
def test_a_run_reports_every_configured_evaluator(tmp_path):
  """A smoke run with two more evaluators: the synthetic set again (its
  figures must equal the verification's: same images, same weights) and a
  pairs file (its figures must equal facenet-eval's pairs evaluator on the
  run's last checkpoint, which feeds the model the same uint8 pixels).
  10 people: 10 same and 10 different pairs, one of each per fold."""
  pairs = record_fixtures.random_pairs_tree(str(tmp_path / "noise"),
                                            people=10)
  c = config_lib.get_config("smoke")
  c.evals.again = dict(type="synthetic")
  c.evals.noise = dict(type="pairs", pairs=pairs)
  workdir = tmp_path / "run"
  result = train_lib.train(c, str(workdir))
  for key in evaluators.RESULT_KEYS:
    assert result[f"again_{key}"] == result[f"verification_{key}"], key
  tags = _eval_tags(workdir)
  for name in ("verification", "again", "noise"):
    for key in evaluators.SCALAR_KEYS:
      assert tags[f"{name}_{key}"] == [10, 20], (name, key)
  assert json.loads((workdir / "results.json").read_text()) == result
  # facenet-eval on the checkpoint (a workdir without its export).
  checkpoint = pathlib.Path(tmp_path / "checkpoint")
  checkpoint.mkdir()
  shutil.copy(workdir / "config.json", checkpoint)
  shutil.copytree(workdir / "checkpoints", checkpoint / "checkpoints")
  app = pairs_evaluator.PairsEvaluator(pairs, progress=False).evaluate(
      eval_lib.load_embedder(workdir=str(checkpoint)))
  for key in evaluators.RESULT_KEYS:
    assert result[f"noise_{key}"] == app[key], key
