"""The committed LFW reference model reproduces its recorded View 1 figures.

experiments/results/reference_model/lfw_view1_resnet_small.json records what
`facenet-eval` measured on pairsDevTest (1,000 pairs, 1,549 images) right
after training; the SavedModel in git must give the same numbers today
(same crop, same pipeline), or the model, the exporter or the evaluation
changed. Tolerance 0.003: rounding differences between CPUs may move a pair
or two across the threshold (1 pair = 0.001).
"""
import json
import pathlib

import pytest

from facenet_tf.evaluation import eval_lib
from tests.conftest import shared_path

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "experiments/results"
MODEL = RESULTS / "reference_model" / "lfw_view1_resnet_small"


@pytest.mark.integration
def test_reference_model_reproduces_its_devtest_figures():
  pairs = shared_path("data", "lfw", "pairsDevTest.txt")
  recorded = json.loads(MODEL.with_suffix(".json").read_text())["pairsDevTest"]
  embedder = eval_lib.load_embedder(saved_model=str(MODEL))
  result = eval_lib.evaluate_pairs(embedder.embed, str(pairs), None,
                                   embedder.image_size, crop_fraction=0.55,
                                   progress=False)
  assert result["num_pairs"] == 1000
  assert result["accuracy"] == pytest.approx(recorded["accuracy"], abs=3e-3)
  assert result["auc"] == pytest.approx(recorded["auc"], abs=3e-3)
