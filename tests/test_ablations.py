"""LFW View 1 ablations (#9): configs, the report writer, a smoke sweep."""
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from experiments import ablate_batch
from experiments import ablate_embedding_dim
from experiments import ablate_image_quality
from experiments import ablate_mining
from experiments import lfw_ablation_base as base
from experiments.results import run_ablation
from facenet_tf import config as config_lib
from tests.conftest import shared_path

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARDS = pathlib.Path("/tmp/facenet_lfw/devtrain")  # lfw_view1's data.tfrecords
MODULES = (ablate_embedding_dim, ablate_mining, ablate_batch,
           ablate_image_quality)


def _require_lfw():
  """Skips unless the View 1 data the configs validate against exists."""
  shared_path("data", "lfw", "pairsDevTest.txt")
  if not SHARDS.is_dir():
    pytest.skip(f"{SHARDS} is absent: build it with the commands in "
                "experiments/lfw_view1.py's docstring")


@pytest.mark.integration
@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_variant_builds_a_validated_config(module):
  _require_lfw()
  for variant in module.VARIANTS:
    full = module.get_config(variant)
    smoke = module.get_config(f"{variant},smoke")
    assert full.train.steps == base.STEPS and full.model.name == base.MODEL
    assert smoke.train.steps == base.SMOKE_STEPS and not full.export.enabled
  assert module.get_config("smoke") == module.get_config(
      f"{module.DEFAULT},smoke")


@pytest.mark.integration
def test_variants_change_what_they_name():
  _require_lfw()
  for dim in ablate_embedding_dim.VARIANTS:
    assert ablate_embedding_dim.get_config(dim).model.embedding_dim == int(dim)
  for mining in ablate_mining.VARIANTS:
    assert ablate_mining.get_config(mining).loss.mining == mining
  for name, (p, k) in ablate_batch.COMPOSITIONS.items():
    for arg in (name, f"{name},smoke"):  # smoke keeps the batch
      data = ablate_batch.get_config(arg).data
      assert (data.p, data.k, data.r) == (p, k, p * k // 4)
  # Table 4's 6 JPEG qualities, its 5 pixel counts and 4 scaled to 64 px.
  assert len(ablate_image_quality.eval_variants()) == 6 + 5 + 4


@pytest.mark.integration
@pytest.mark.parametrize("arg", ["100", "100,smoke", "smoke,64", "64,smoke,x"])
def test_unknown_variant_names_the_known_ones(arg):
  with pytest.raises(config_lib.ConfigError, match="64, 128, 256, 512"):
    ablate_embedding_dim.get_config(arg)


def _fake_workdir(workdir, accuracy, collapse):
  """results.json, config.json and TensorBoard scalars of a finished run."""
  for sub in ("train", "eval"):
    (workdir / "tensorboard" / sub).mkdir(parents=True)
  (workdir / "results.json").write_text(json.dumps({
      "verification_accuracy": accuracy, "verification_accuracy_std": 0.03,
      "verification_val": 0.2, "verification_far": 0.001,
      "verification_auc": 0.9, "steps": 600, "seconds": 300.0}))
  (workdir / "config.json").write_text(json.dumps(
      {"data": {"p": 32, "k": 4, "r": 32}}))
  for sub, tags in (("train", ("active_fraction", "mean_d_an", "mean_d_ap")),
                    ("eval", ("verification_accuracy",))):
    writer = tf.summary.create_file_writer(str(workdir / "tensorboard" / sub))
    with writer.as_default():
      for step in (150, 300, 450, 600):
        for tag in tags:
          value = 0.01 if collapse and tag != "active_fraction" else 0.5
          tf.summary.scalar(tag, value * step / 600, step=step)
      tf.summary.histogram("distance_d_an", np.ones(4), step=600)
    writer.close()


@pytest.mark.integration
def test_report_from_fabricated_workdirs(tmp_path):
  root = tmp_path / "runs" / "mining"
  _fake_workdir(root / "semihard", 0.81, collapse=False)
  _fake_workdir(root / "hardest_negative", 0.52, collapse=True)
  out = tmp_path / "out"
  # Both workdirs have results.json: nothing is trained (resume/skip path).
  run_ablation.main(["--experiment", "mining", "--variants",
                     "semihard,hardest_negative", "--workdir_root",
                     str(tmp_path / "runs"), "--out_dir", str(out)])
  table = (out / "mining.md").read_text()
  assert "| semihard | 0.810 ± 0.030 | 0.900 | 0.200" in table
  assert "| hardest_negative | 0.520 ± 0.030 |" in table
  assert "ablate_mining.py:hardest_negative --workdir" in table
  figures = json.loads((out / "mining.json").read_text())
  curve = figures["rows"][1]["curves"]["mean_d_an"]
  assert curve["steps"] == [150, 300, 450, 600]
  assert "distance_d_an" not in figures["rows"][1]["curves"]  # histogram
  assert (out / "mining.png").stat().st_size > 10_000
  rows = [run_ablation.collect("image_quality", "base", root / "semihard",
                               False)]
  metrics = {"accuracy": 0.8, "accuracy_std": 0.04, "val": 0.1, "far": 0.0,
             "auc": 0.88}
  evaluations = {"reference": metrics,
                 "jpeg": {q: metrics for q in (10, 90)},
                 "pixels": {n: metrics for n in (1600, 65536)}}
  run_ablation.write_report("image_quality", rows, str(out), False, [],
                            evaluations)
  table = (out / "image_quality.md").read_text()
  assert "| base | 0.810 ± 0.030 |" in table
  assert "| 10 | 0.800 ± 0.040 | 0.880 | 0.100 (FAR 0.0000) | 67.3% |" in table
  assert "| 1,600 (40²) |" in table and "| 86.4% |" in table
  assert (out / "image_quality.png").exists()


@pytest.mark.integration
def test_smoke_sweep_end_to_end(tmp_path):
  _require_lfw()
  run = subprocess.run(
      [sys.executable, "experiments/results/run_ablation.py", "--experiment",
       "embedding_dim", "--variants", "64,128", "--smoke", "--workdir_root",
       str(tmp_path / "runs"), "--out_dir", str(tmp_path)],
      cwd=ROOT, capture_output=True, text=True, timeout=240)
  assert run.returncode == 0, run.stderr[-2000:]
  table = (tmp_path / "embedding_dim_smoke.md").read_text()
  for variant, paper in (("64", "86.8% ± 1.7"), ("128", "87.9% ± 1.9")):
    assert f"| {variant} | " in table and f"| {paper} |" in table
  assert "| 8 x 4 + 8 | " in table and "| 10 |" in table
  assert (tmp_path / "embedding_dim_smoke.png").exists()
  assert (tmp_path / "runs" / "embedding_dim_smoke" / "64" /
          "results.json").exists()


@pytest.mark.unit
def test_a_variant_with_a_finished_twin_config_is_linked(tmp_path):
  """mining/semihard has the config of the finished embedding_dim/128 run."""
  config = config_lib.get_config("smoke")
  twin = tmp_path / "embedding_dim" / "128"
  twin.mkdir(parents=True)
  (twin / "config.json").write_text(config.to_json())
  (twin / "results.json").write_text("{}")
  workdir = tmp_path / "mining" / "semihard"
  run_ablation.train(["facenet-train", "--never-run"], str(workdir),
                     lambda: config)
  assert workdir.is_symlink() and workdir.resolve() == twin.resolve()
  other = config_lib.get_config("smoke")
  other.loss.mining = "batch_all"
  (twin / "config.json").write_text(other.to_json())
  assert run_ablation._finished_twin(config, tmp_path) is None


@pytest.mark.unit
def test_training_curve_counts_minutes_from_the_first_step(tmp_path):
  """Fabricated logs: loss at steps 10, 20; accuracy at 150..600 (0.5 x
  step / 600), AUC and VAL at 600 only."""
  from experiments.results import training_curve
  _fake_workdir(tmp_path, 0.8, collapse=False)
  for sub, tag, values in (("train", "loss", {10: 0.2, 20: 0.1}),
                           ("eval", "verification_auc", {600: 0.9}),
                           ("eval", "verification_val", {600: 0.3})):
    writer = tf.summary.create_file_writer(str(tmp_path / "tensorboard" / sub))
    with writer.as_default():
      for step, value in values.items():
        tf.summary.scalar(tag, value, step=step)
    writer.close()
  points = training_curve.curve(str(tmp_path))
  assert [p["step"] for p in points] == [150, 300, 450, 600]
  assert points[-1]["accuracy"] == pytest.approx(0.5)  # 0.5 * 600 / 600
  assert points[-1]["auc"] == pytest.approx(0.9) and np.isnan(points[0]["auc"])
  minutes = [p["minutes"] for p in points]
  assert minutes == sorted(minutes) and minutes[0] >= 0
  out_dir = tmp_path / "new" / "curves"  # created by write
  training_curve.write(points, "fake", str(out_dir), str(tmp_path))
  assert "| 600 |" in (out_dir / "fake_curve.md").read_text()
  assert (out_dir / "fake_curve.png").stat().st_size > 0
  assert training_curve.main(["--workdir", str(tmp_path / "none"),
                              "--name", "x", "--out_dir", str(tmp_path)]) == 2
