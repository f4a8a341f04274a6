"""Walking image trees (#31 items 4, 11): flat folders, links, loops, empty.

Every tool lists its input tree through facenet_tf/data/image_tree.py (or
checks loops with it): symbolic links to folders and files are followed, a
link back to an ancestor is not entered, and a tree without images is an
error naming it.
"""
import numpy as np
import pytest

from data_pipelines import tfrecords_identities
from data_pipelines import training_tree
from facenet_tf.data import eval_input
from facenet_tf.data import image_tree
from facenet_tf.evaluation import clustering
from facenet_tf.evaluation import embedding_io

pytestmark = pytest.mark.unit


def _touch(root, *relatives):
  for relative in relatives:
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    (root / relative).write_bytes(b"")


@pytest.fixture
def linked_tree(tmp_path):
  """tree/: a loose photo, a real folder, a linked folder, a folder holding
  a linked file, a loop back to tree/ and hidden names."""
  _touch(tmp_path / "elsewhere", "Bob/b1.jpg", "Bob/b2.PNG", "Cid/c1.jpg")
  tree = tmp_path / "tree"
  _touch(tree, "loose.jpg", "notes.txt", ".hidden.jpg", "Ann/a1.jpg",
         "Ann/.a2.jpg", ".Dan/d1.jpg")
  (tree / "Bob").symlink_to(tmp_path / "elsewhere" / "Bob")
  (tree / "Cid").mkdir()
  (tree / "Cid" / "c1.jpg").symlink_to(tmp_path / "elsewhere/Cid/c1.jpg")
  (tree / "loop").symlink_to(tree)
  (tree / "Ann" / "up").symlink_to(tmp_path)
  return tree


def test_list_photos_follows_links_and_cuts_loops(linked_tree):
  paths, identities = image_tree.list_photos(linked_tree)
  relative = [str(p)[len(str(linked_tree)) + 1:] for p in paths]
  assert relative == ["loose.jpg", "Ann/a1.jpg", "Bob/b1.jpg", "Bob/b2.PNG",
                      "Cid/c1.jpg"]
  assert identities == ["", "Ann", "Bob", "Bob", "Cid"]
  labelled, names = image_tree.list_photos(linked_tree, unlabelled=False)
  assert labelled == paths[1:] and names == identities[1:]


def test_walk_files_follows_links_and_cuts_loops(linked_tree):
  assert image_tree.walk_files(linked_tree) == [
      "loose.jpg", "notes.txt", "Ann/a1.jpg", "Bob/b1.jpg", "Bob/b2.PNG",
      "Cid/c1.jpg"]


def test_a_flat_folder_is_an_unlabelled_tree(tmp_path):
  _touch(tmp_path, "b.jpg", "a.jpeg", "c.txt")
  paths, identities = embedding_io.list_tree(tmp_path, unlabelled=True)
  assert paths == [str(tmp_path / "a.jpeg"), str(tmp_path / "b.jpg")]
  assert identities == ["", ""]
  with pytest.raises(image_tree.EmptyTreeError,
                     match=f"No identity folder with images .* in {tmp_path}"):
    embedding_io.list_tree(tmp_path)  # tools that need identities


@pytest.mark.parametrize("unlabelled", [True, False])
def test_a_tree_without_images_is_an_error_naming_it(tmp_path, unlabelled):
  _touch(tmp_path, "person/notes.txt", ".hidden.jpg")
  (tmp_path / "loop").symlink_to(tmp_path)
  with pytest.raises(FileNotFoundError, match=f"in {tmp_path}: expected"):
    image_tree.list_photos(tmp_path, unlabelled)


def test_identity_labels_number_names_and_leave_unlabelled_at_minus_one():
  np.testing.assert_array_equal(
      embedding_io.identity_labels(["", "Bob", "Ann", "", "Bob"]),
      [-1, 1, 0, -1, 1])


def test_eval_tree_follows_linked_folders_and_cuts_loops(linked_tree):
  (linked_tree / "loop2").symlink_to(linked_tree.parent)
  for hidden in (".Dan/d1.jpg", "Ann/.a2.jpg"):  # eval_input lists them
    (linked_tree / hidden).unlink()
  paths, labels, names = eval_input.list_identity_tree(str(linked_tree))
  assert names == ["Ann", "Bob", "Cid"]
  assert len(paths) == 4 and labels == [0, 1, 1, 2]


def test_tfrecords_listing_skips_a_loop(linked_tree):
  identities, skipped = tfrecords_identities.list_identities(
      str(linked_tree), 2, seed=0)
  assert sorted(name for name, _ in identities) == [
      ".Dan", "Ann", "Bob", "Cid"]
  assert {"path": "loop", "reason": "not_an_identity_folder",
          "detail": "a link to the tree or an ancestor (a loop)"} in skipped


def test_training_tree_refuses_a_source_without_images(tmp_path):
  _touch(tmp_path / "aligned", "person/.hidden.png")
  with pytest.raises(training_tree.TreeError,
                     match=f"source {tmp_path / 'aligned'} holds no identity"):
    training_tree.build(tmp_path / "out", {"s": tmp_path / "aligned"})


def test_unreadable_reason_drops_the_leading_name():
  assert embedding_io.unreadable_reason(
      "/x/a.jpg", "/x/a.jpg: no such file") == "no such file"
  assert embedding_io.unreadable_reason("/x/a.jpg", "other") == "other"


def test_describe_clusters_names_photos_once_largest_first():
  paths = ["/p/flat/a.jpg", "/p/flat/b.jpg", "/p/flat/b.jpg", "/p/flat/c.jpg"]
  faces = [{"face": 0}, {"face": 0}, {"face": 1}, {"face": 0}]
  lines = clustering.describe_clusters(paths, np.array([1, 0, 0, 2]), faces)
  assert lines == ["cluster 0 (2): b.jpg, b.jpg[face 1]",
                   "cluster 1 (1): a.jpg", "cluster 2 (1): c.jpg"]
  lines = clustering.describe_clusters(paths, np.array([0, 0, 0, 1]),
                                       max_clusters=1, max_members=2)
  assert lines == ["cluster 0 (3): a.jpg, b.jpg, ... and 1 more",
                   "... and 1 more clusters (1 items)"]
