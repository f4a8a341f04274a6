"""Evaluation readers: identity trees, path lists, every image of shards."""
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf.data import eval_input
from tests import record_fixtures
from tests.conftest import shared_path


@pytest.fixture
def tree(tmp_path):
  """b/ (2 images), a/ (3), empty/, a stray file; image j of identity i is
  the constant colour (i, j, 200), 12 x 12."""
  for label, (name, count) in enumerate([("a", 3), ("b", 2)]):
    (tmp_path / name).mkdir()
    for index in range(count):
      array = np.full((12, 12, 3), (label, index, 200), np.uint8)
      (tmp_path / name / f"{index}.png").write_bytes(
          record_fixtures.encode(array))
    (tmp_path / name / "notes.txt").write_text("not an image")
  (tmp_path / "empty").mkdir()
  (tmp_path / "README").write_text("not a folder")
  return tmp_path


@pytest.mark.unit
def test_list_identity_tree_is_sorted_with_dense_labels(tree):
  paths, labels, names = eval_input.list_identity_tree(str(tree))
  assert names == ["a", "b"]
  assert labels == [0, 0, 0, 1, 1]
  assert [p.split("/")[-2:] for p in paths] == [
      ["a", "0.png"], ["a", "1.png"], ["a", "2.png"], ["b", "0.png"],
      ["b", "1.png"]]
  with pytest.raises(ValueError, match="No identity folder"):
    eval_input.list_identity_tree(str(tree / "empty"))


@pytest.mark.integration
def test_image_files_in_order_with_remainder(tree):
  paths, labels, _ = eval_input.list_identity_tree(str(tree))
  batches = [b.numpy() for b in eval_input.image_files_dataset(
      paths, 8, batch_size=2, crop_fraction=2 / 3)]
  assert [len(b) for b in batches] == [2, 2, 1]
  images = np.concatenate(batches)
  assert images.shape == (5, 8, 8, 3) and images.dtype == np.float32
  np.testing.assert_array_equal(images[:, 0, 0, 0], labels)
  np.testing.assert_array_equal(images[:, 0, 0, 1], [0, 1, 2, 0, 1])


@pytest.mark.integration
@pytest.mark.parametrize("broken", ["missing.png", "a/notes.txt"])
def test_bad_file_is_named(tree, broken):
  paths, _, _ = eval_input.list_identity_tree(str(tree))
  paths.insert(3, str(tree / broken))
  with pytest.raises(tf.errors.InvalidArgumentError, match=broken):
    for _ in eval_input.image_files_dataset(paths, 8, batch_size=2):
      pass


@pytest.mark.integration
def test_records_every_image_once_with_its_label(tmp_path):
  counts = [1, 4, 2, 7, 3]
  record_fixtures.write_shards(
      tmp_path, record_fixtures.synthetic_identities(counts, 10), 2)
  batches = list(eval_input.records_dataset(str(tmp_path), 10, 4))
  assert [len(b["label"]) for b in batches] == [4, 4, 4, 4, 1]
  labels = np.concatenate([b["label"].numpy() for b in batches])
  images = np.concatenate([b["image"].numpy() for b in batches])
  paths = [p.decode() for b in batches for p in b["path"].numpy()]
  assert sorted(paths) == sorted(
      f"id{i:03d}/{j:04d}.png" for i, n in enumerate(counts) for j in range(n))
  np.testing.assert_array_equal(images[:, 5, 5, 0], labels)
  assert [int(p[2:5]) for p in paths] == list(labels)


@pytest.mark.integration
def test_orl_records_read_back(tmp_path):
  identities = record_fixtures.orl_identities(shared_path("data", "att_orl"))
  record_fixtures.write_shards(tmp_path, identities, 3)
  seen = {}
  for batch in eval_input.records_dataset(str(tmp_path), (112, 92), 128):
    assert batch["image"].shape[1:] == (112, 92, 3)
    for path, label in zip(batch["path"].numpy(), batch["label"].numpy()):
      assert path.decode() not in seen
      seen[path.decode()] = label
  assert len(seen) == 400
  names = [name for name, _ in identities]
  assert all(names[label] == path.split("/")[0]
             for path, label in seen.items())
