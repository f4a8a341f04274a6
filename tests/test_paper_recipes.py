"""The paper recipes (experiments/paper_<arch>.py): targets and a CPU smoke run.

`:smoke` trains the built-in synthetic faces when given nothing (a fresh
clone); with `data.source = "tfrecords"` it takes the full recipe's code
path (TFRecord shards, the P x K + R sampler, global semi-hard mining, the
gradient cache with the chunk its memory budget gives, AdaGrad with the
piecewise schedule, verification and export) for 2 steps of 20 images at
the recipe's own image size, on 8 LFW people. Their cost is mostly the
cached step (its two chunks unroll two model copies each, grad_cache.py):
62-112 s each for nn4, nn2 and inception_resnet_v1 (WORKSPACE_NOTES.md,
#18), so they are `large` (pytest.ini): `pytest -m large` runs them.
"""
import importlib
import json
import pathlib
import subprocess
import sys

import pytest

from data_pipelines import build_tfrecords
from experiments import paper_base
from facenet_tf import config as config_lib
from facenet_tf.training import train_lib
from tests import record_fixtures
from tests.conftest import facenet_eval
from tests.conftest import shared_path

RECIPES = {"nn2": 224, "nn4": 96, "nns2": 160, "inception_resnet_v1": 160}


def _recipe(arch, arg):
  return importlib.import_module(f"experiments.paper_{arch}").get_config(arg)


@pytest.fixture(scope="module")
def lfw8(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("lfw8")
  tree, pairs = record_fixtures.lfw_subset_and_pairs(
      shared_path("data", "lfw"), tmp)
  shards = tmp / "shards"
  build_tfrecords.build(str(tree), str(shards), name="lfw8", num_shards=2,
                        num_workers=1)
  return shards, tree, pairs


@pytest.mark.unit
@pytest.mark.parametrize("arch", sorted(RECIPES))
def test_accelerator_targets_are_the_paper_batch(arch):
  """P 40 x K 40 + R 200 = 1,800 (§3.2) splits into 8 replicas of 5
  identities and 25 negatives: 225 images each."""
  for target in ("gpu8", "tpu"):
    c = _recipe(arch, target)
    assert (c.data.p, c.data.k, c.data.r) == (40, 40, 200)
    assert c.model.name == arch and c.model.image_size == RECIPES[arch]
    assert c.model.dtype_policy == "mixed_bfloat16" and c.train.jit_compile
    assert c.train.memory_budget_gb == paper_base.BUDGET_GIB[target]
    assert (c.optimizer.name, c.optimizer.learning_rate) == ("adagrad", 0.05)
    assert (c.loss.margin, c.model.embedding_dim) == (0.2, 128)
    config_lib.validate_for_replicas(c, 8)
  with pytest.raises(config_lib.ConfigError,
                     match="TARGET one of: gpu8, tpu"):
    _recipe(arch, "gpu")


@pytest.mark.unit
@pytest.mark.parametrize("arch", sorted(RECIPES))
def test_smoke_needs_nothing_prepared_and_the_targets_need_shards(arch):
  """#31 item 6: `:smoke` falls back to the synthetic faces (as
  big_vision's :runlocal); the real targets still demand shards, and shards
  given to a synthetic smoke are refused, not silently ignored."""
  c = config_lib.validate(_recipe(arch, "smoke"))
  assert c.data.source == "synthetic" and not c.data.tfrecords.dir
  assert c.model.image_size == RECIPES[arch] and c.train.memory_budget_gb
  assert c.data.synthetic == config_lib.get_config("smoke").data.synthetic
  for target in paper_base.TARGETS:
    with pytest.raises(config_lib.ConfigError,
                       match="data.tfrecords.dir '' is not a directory"):
      config_lib.validate(_recipe(arch, target))
  c.data.tfrecords.dir = "/data/vggface2_shards"
  with pytest.raises(config_lib.ConfigError,
                     match="add --config.data.source=tfrecords"):
    config_lib.validate(c)


@pytest.mark.large
@pytest.mark.integration
def test_smoke_command_runs_on_a_fresh_clone(tmp_path):
  """docs/guide.md's smoke command, from a directory holding nothing (no
  shards, no pairs, no ../shared): it trains, verifies on synthetic
  identities and exports. nn4, the cheapest recipe: 181-248 s beside other
  jobs (load 11 on 2 cores), so `large`."""
  root = pathlib.Path(__file__).resolve().parents[1]
  workdir = tmp_path / "nn4_smoke"
  out = subprocess.run(
      [sys.executable, "-m", "facenet_tf.apps.train",
       f"--config={root / 'experiments' / 'paper_nn4.py'}:smoke",
       "--workdir", str(workdir)],
      cwd=tmp_path, capture_output=True, text=True, timeout=1200)
  assert out.returncode == 0, out.stderr[-3000:]
  result = json.loads(out.stdout.strip().splitlines()[-1])
  assert result["steps"] == 2 and 0 <= result["verification_accuracy"] <= 1
  saved = json.loads((workdir / "config.json").read_text())
  assert saved["data"]["source"] == "synthetic"
  assert saved["model"]["name"] == "nn4" and saved["model"]["image_size"] == 96
  assert 0 < saved["train"]["grad_cache_chunk"] < 20  # the budget's cache
  assert (workdir / "saved_model" / "saved_model.pb").exists()
  assert (workdir / "tensorboard" / "projector" /
          "projector_config.pbtxt").exists()


@pytest.mark.large
@pytest.mark.integration
@pytest.mark.parametrize("arch", sorted(RECIPES))
def test_smoke_recipe_trains_through_the_budget_chunk(arch, lfw8, tmp_path):
  shards, tree, pairs = lfw8
  c = _recipe(arch, "smoke")
  c.data.source, c.data.tfrecords.dir = "tfrecords", str(shards)
  c.eval.pairs, c.eval.images_dir = str(pairs), str(tree)
  result = train_lib.train(c, str(tmp_path / "run"))
  assert result["steps"] == 2
  saved = json.loads((tmp_path / "run" / "config.json").read_text())
  chunk = saved["train"]["grad_cache_chunk"]
  assert 0 < chunk < 20 and 20 % chunk == 0, chunk  # the cache is on
  assert saved["model"]["image_size"] == RECIPES[arch]
  # Two steps teach nothing; the training-time verification must still be
  # the export's, as facenet-eval scores it.
  scored = facenet_eval(tmp_path / "run", pairs, tree)
  assert scored["accuracy"] == pytest.approx(result["verification_accuracy"])
  assert pathlib.Path(result["saved_model"], "saved_model.pb").exists()
