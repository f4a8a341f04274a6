"""Training on TFRecord shards of real faces, verified on an LFW pairs file.

The whole chain on a small LFW subset: identity tree -> build_tfrecords ->
P x K + R sampler -> global-mining train step -> View 1-format pairs file
verification -> export.
"""
import pathlib

import pytest

from data_pipelines import build_tfrecords
from facenet_tf import config as config_lib
from facenet_tf.training import train_lib
from tests import record_fixtures
from tests.conftest import facenet_eval
from tests.conftest import shared_path

@pytest.mark.integration
def test_train_on_lfw_shards_with_pairs_verification(tmp_path):
  lfw = shared_path("data", "lfw")
  tree, pairs = record_fixtures.lfw_subset_and_pairs(lfw, tmp_path)
  shards = tmp_path / "shards"
  manifest = build_tfrecords.build(str(tree), str(shards), name="lfw8",
                                   num_shards=2, num_workers=1)
  assert manifest["num_images"] == 48 and manifest["num_identities"] == 8
  config = config_lib.get_config("smoke")
  config.data.source = "tfrecords"
  config.data.tfrecords.dir = str(shards)
  config.data.p, config.data.k, config.data.r = 4, 4, 2
  config.data.tfrecords.shuffle_buffer = 8
  config.eval.pairs, config.eval.images_dir = str(pairs), str(tree)
  config.train.steps, config.train.eval_every = 6, 3
  result = train_lib.train(config, str(tmp_path / "run"))
  assert result["steps"] == 6
  scored = facenet_eval(tmp_path / "run", pairs, tree)
  assert scored["num_pairs"] == 40
  assert scored["accuracy"] == pytest.approx(result["verification_accuracy"])
  assert scored["auc"] == pytest.approx(result["verification_auc"])
  assert pathlib.Path(result["saved_model"], "saved_model.pb").exists()
  names = (tmp_path / "run" / "tensorboard" / "projector" /
           "metadata.tsv").read_text().split()
  assert set(names) <= set(record_fixtures.LFW_PEOPLE) and len(names) == 40


@pytest.mark.unit
def test_tfrecords_source_needs_shards_and_pairs(tmp_path):
  config = config_lib.get_config("smoke")
  config.data.source = "tfrecords"
  with pytest.raises(config_lib.ConfigError, match="build_tfrecords"):
    config_lib.validate(config)
  config.data.tfrecords.dir = str(tmp_path)
  with pytest.raises(config_lib.ConfigError, match="eval.pairs"):
    config_lib.validate(config)
