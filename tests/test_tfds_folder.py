"""An identity tree through TFDS's ImageFolder, offline."""
import numpy as np
import pytest

from facenet_tf.data import eval_input
from facenet_tf.data import tfds_folder
from tests import record_fixtures
from tests.conftest import shared_path


@pytest.mark.integration
def test_synthetic_tree(tmp_path):
  tree = tmp_path / "tree"
  for label, name in enumerate(["bob", "ann", "cy"]):
    (tree / name).mkdir(parents=True)
    for index in range(label + 1):
      (tree / name / f"{index}.png").write_bytes(record_fixtures.encode(
          np.full((6, 6, 3), (label, index, 9), np.uint8)))
  dataset, names = tfds_folder.load_identity_tree(str(tree), tmp_path / "w")
  assert names == ["ann", "bob", "cy"]
  assert names == eval_input.list_identity_tree(str(tree))[2]
  examples = [(image.numpy(), int(label)) for image, label in dataset]
  assert len(examples) == 6
  # Red = the identity's index in ["bob", "ann", "cy"], so the label matches.
  order = ["bob", "ann", "cy"]
  assert all((image[..., 0] == order.index(names[label])).all()
             for image, label in examples)
  resized, _ = tfds_folder.load_identity_tree(str(tree), tmp_path / "w", 4)
  assert all(image.shape == (4, 4, 3) for image, _ in resized)


@pytest.mark.integration
def test_lfw_tree(tmp_path):
  images = shared_path("data", "lfw", "images")
  builder = tfds_folder.identity_tree_builder(str(images), tmp_path)
  assert builder.info.splits["train"].num_examples == 13233
  assert len(builder.info.features["label"].names) == 5749
  dataset, _ = tfds_folder.load_identity_tree(str(images), tmp_path, 160)
  for image, _ in dataset.take(2):
    assert image.shape == (160, 160, 3)
  with pytest.raises(ValueError, match="already links"):
    tfds_folder.identity_tree_builder(str(tmp_path), tmp_path)
