"""The packaged reference model reproduces its recorded LFW figures.

facenet_tf/pretrained/<name>.json records what the model measured on LFW
pairsDevTest (1,000 pairs, 1,549 photos) when it was committed, through the
photo API (detect, align with its spec, embed each photo's main face;
photos/photo_pairs.py), and the thresholds its export carries. The
model in git must give the same numbers today, or the model, the exporter,
the alignment or the evaluation changed. Tolerance 0.003: rounding
differences between CPUs may move a pair or two across the threshold (1
pair = 0.001). `large` (pytest.ini): MTCNN and the model on 1,549 photos.
"""
import pytest

from facenet_tf import export_metadata
from facenet_tf import pretrained
from tests.conftest import shared_path


@pytest.mark.large
@pytest.mark.integration
def test_reference_model_reproduces_its_devtest_figures():
  from facenet_tf import photos
  from facenet_tf.photos import photo_pairs
  pairs = shared_path("data", "lfw", "pairsDevTest.txt")
  recorded = pretrained.reference_figures()["pairsDevTest_photos"]
  recognizer = photos.FaceRecognizer()
  result = photo_pairs.evaluate_photo_pairs(recognizer, str(pairs))
  assert result["num_pairs"] == 1000 and result["num_images"] == 1549
  assert result["accuracy"] == pytest.approx(recorded["accuracy"], abs=3e-3)
  assert result["auc"] == pytest.approx(recorded["auc"], abs=3e-3)
  assert result["fallback_pairs"] == recorded["fallback_pairs"]


@pytest.mark.unit
def test_reference_export_carries_its_spec_and_thresholds():
  metadata = export_metadata.read(pretrained.reference_model_path())
  recorded = pretrained.reference_figures()
  assert metadata.alignment.name == recorded["alignment"] == (
      "dlib-chip-128px-v1")
  thresholds = metadata.thresholds
  assert thresholds.to_dict() == recorded["thresholds"]
  assert thresholds.pairs == "LFW DevTrain pairs"  # words, not a path
  assert 0 < thresholds.far < 4 and 0 < thresholds.accuracy < 4


@pytest.mark.unit
def test_model_card_describes_the_packaged_model():
  """MODEL_CARD.md names the packaged model, its architecture, alignment
  and both exported thresholds (to 3 decimals), and the CelebA terms: a
  model replaced without its card fails here."""
  import os  # pylint: disable=import-outside-toplevel
  card_path = os.path.join(os.path.dirname(pretrained.__file__),
                           "MODEL_CARD.md")
  with open(card_path, encoding="utf-8") as f:
    card = f.read()
  metadata = export_metadata.read(pretrained.reference_model_path())
  assert card.startswith(f"# Model card: {pretrained.REFERENCE_NAME}\n")
  for fact in (f"`{metadata.architecture}`", metadata.alignment.name,
               f"| {metadata.thresholds.accuracy:.3f} |",
               f"| {metadata.thresholds.far:.3f} |",
               "non-commercial research", "public domain",
               "## What it is not for"):
    assert fact in card, fact
