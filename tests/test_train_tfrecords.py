"""Training on TFRecord shards of real faces, verified on an LFW pairs file.

The whole chain on a small LFW subset: identity tree -> build_tfrecords ->
P x K + R sampler -> global-mining train step -> View 1-format pairs file
verification -> export.
"""
import pathlib

import numpy as np
import pytest

from data_pipelines import build_tfrecords
from facenet_tf import config as config_lib
from facenet_tf.training import train_lib
from tests.conftest import shared_path

PEOPLE = ["Ariel_Sharon", "Colin_Powell", "Donald_Rumsfeld", "George_W_Bush",
          "Gerhard_Schroeder", "Hugo_Chavez", "Jacques_Chirac", "Tony_Blair"]


def _subset_and_pairs(lfw, tmp_path):
  """A tree of 8 people x 6 images (symlinks) and 20 + 20 pairs over it."""
  tree = tmp_path / "images"
  for name in PEOPLE:
    (tree / name).mkdir(parents=True)
    for i in range(1, 7):
      file = f"{name}_{i:04d}.jpg"
      (tree / name / file).symlink_to(lfw / "images" / name / file)
  rng = np.random.default_rng(0)
  same = [f"{n}\t{a}\t{b}" for n in PEOPLE for a, b in ((1, 2), (3, 4))]
  same += [f"{PEOPLE[i]}\t5\t6" for i in range(4)]
  diff = []
  for _ in range(20):
    a, b = rng.choice(len(PEOPLE), 2, replace=False)
    diff.append(f"{PEOPLE[a]}\t{rng.integers(1, 7)}\t{PEOPLE[b]}\t"
                f"{rng.integers(1, 7)}")
  pairs = tmp_path / "pairs.txt"
  pairs.write_text("20\n" + "\n".join(same + diff) + "\n")
  return tree, pairs


@pytest.mark.integration
def test_train_on_lfw_shards_with_pairs_verification(tmp_path):
  lfw = shared_path("data", "lfw")
  tree, pairs = _subset_and_pairs(lfw, tmp_path)
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
  assert 0.0 <= result["verification_accuracy"] <= 1.0
  assert 0.0 <= result["verification_auc"] <= 1.0
  assert pathlib.Path(result["saved_model"], "saved_model.pb").exists()
  names = (tmp_path / "run" / "tensorboard" / "projector" /
           "metadata.tsv").read_text().split()
  assert set(names) <= set(PEOPLE) and len(names) == 40


@pytest.mark.unit
def test_tfrecords_source_needs_shards_and_pairs(tmp_path):
  config = config_lib.get_config("smoke")
  config.data.source = "tfrecords"
  with pytest.raises(config_lib.ConfigError, match="build_tfrecords"):
    config_lib.validate(config)
  config.data.tfrecords.dir = str(tmp_path)
  with pytest.raises(config_lib.ConfigError, match="eval.pairs"):
    config_lib.validate(config)
