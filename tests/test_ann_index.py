"""The gallery index: exact equals recognition's search, FAISS IVF recall.

Fixture: a clustered gallery like face embeddings. 2,000 identities with a
random unit centre c each and 10 gallery rows unit(c + s * n), n ~ N(0, I),
s = 0.07. |s n|^2 ~ 128 s^2 = 0.63, so two rows of one identity are at squared
distance ~ 2 * 0.63 / (1 + 0.63) = 0.77 (measured 0.77), against ~2 between
identities: the spread of a trained embedder's faces (same-person pairs of
LFW sit near 0.6-0.9 for our models; the threshold is ~1.1).
Probes are new images of 500 identities drawn the same way.
"""
import numpy as np
import pytest

from facenet_tf import export_metadata
from facenet_tf.evaluation import ann_index
from facenet_tf.evaluation import calibration
from facenet_tf.evaluation import recognition

pytest.importorskip("faiss", reason="faiss-cpu is the index extra")

pytestmark = pytest.mark.unit


def _unit(x):
  return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data():
  rng = np.random.default_rng(0)
  centres = _unit(rng.standard_normal((2000, 128)))
  gallery = _unit(np.repeat(centres, 10, 0)
                  + 0.07 * rng.standard_normal((20000, 128)))
  probes = _unit(centres[:500] + 0.07 * rng.standard_normal((500, 128)))
  return gallery, probes


def test_exact_kind_is_recognition_search(data):
  gallery, probes = data
  index = ann_index.NeighbourIndex(gallery)  # auto: 20k rows -> exact
  assert index.kind == "exact"
  want = recognition.nearest_neighbours(probes, gallery, 5)
  got = index.search(probes, 5)
  np.testing.assert_array_equal(got[0], want[0])
  np.testing.assert_array_equal(got[1], want[1])


def test_ivf_recall_and_exact_distances(data):
  gallery, probes = data
  want_d, want_i = recognition.nearest_neighbours(probes, gallery, 5)
  got_d, got_i = ann_index.NeighbourIndex(gallery, kind="ivf").search(probes,
                                                                      5)
  assert np.mean(got_i[:, 0] == want_i[:, 0]) >= 0.99
  same = got_i[:, 0] == want_i[:, 0]
  np.testing.assert_allclose(got_d[same, 0], want_d[same, 0], atol=1e-5)
  assert np.all(np.diff(got_d, axis=1) >= 0)  # nearest first


def test_save_load_round_trip_and_stale_index(data, tmp_path):
  gallery, probes = data
  index = ann_index.NeighbourIndex(gallery, kind="ivf", nlist=64)
  index.save(tmp_path / "g.faiss")
  loaded = ann_index.NeighbourIndex.load(tmp_path / "g.faiss", gallery)
  for got, want in zip(loaded.search(probes, 3), index.search(probes, 3)):
    np.testing.assert_array_equal(got, want)
  changed = gallery.copy()
  changed[0, 0] += 1e-3
  with pytest.raises(ann_index.AnnIndexError, match="another gallery"):
    ann_index.NeighbourIndex.load(tmp_path / "g.faiss", changed)


def test_bad_kind_is_refused(data):
  with pytest.raises(ann_index.AnnIndexError, match="must be one of"):
    ann_index.NeighbourIndex(data[0], kind="hnsw")


class _Recognizer:
  """What a Gallery reads of its recognizer: no model is run here."""
  model = type("Model", (), {"embedding_dim": 128})()
  metadata = export_metadata.ExportMetadata(
      architecture="test", image_size=(64, 64), channels=3,
      embedding_dim=128)
  alignment = type("Spec", (), {"name": "landmarks-v1"})()
  model_path = "none"

  def operating_point(self, far=None, threshold=None):
    return calibration.operating_point(self.metadata, far, threshold)


def test_gallery_saves_and_loads_its_index(data, tmp_path, monkeypatch):
  from facenet_tf.photos import gallery as gallery_lib
  gallery, probes = data
  monkeypatch.setattr(ann_index, "EXACT_MAX_ROWS", 10_000)  # 20k -> ivf
  people = gallery_lib.Gallery(_Recognizer())
  people.names = [f"id{i // 10}" for i in range(len(gallery))]
  people.sources = [f"{i}.jpg" for i in range(len(gallery))]
  people.embeddings = gallery
  path = tmp_path / "people.npz"
  people.save(path)
  assert (tmp_path / "people.npz.faiss").exists()
  loaded = gallery_lib.Gallery.load(path, _Recognizer())
  assert loaded._index.kind == "ivf"  # read from the file, not rebuilt
  for got, want in zip(loaded.nearest(probes), people.nearest(probes)):
    np.testing.assert_array_equal(got, want)
  # A gallery saved small again leaves no stale index behind.
  people.embeddings, people.names = gallery[:50], people.names[:50]
  people.sources, people._index = people.sources[:50], None
  people.save(path)
  assert not (tmp_path / "people.npz.faiss").exists()
  assert gallery_lib.Gallery.load(path, _Recognizer())._index is None
