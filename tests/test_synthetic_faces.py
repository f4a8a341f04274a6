"""Procedural synthetic faces: shapes, determinism, identity vs nuisance."""
import numpy as np
import pytest

from facenet_tf.data import synthetic_faces
from facenet_tf.data import synthetic_faces_draw

render = synthetic_faces.render


def _squared_distances(images):
  """[N, N] squared L2 distances between flattened images (Gram form: a
  broadcast difference would be N * N * H * W * 3 floats)."""
  flat = images.reshape(len(images), -1).astype(np.float64)
  norms = (flat ** 2).sum(1)
  return norms[:, None] + norms[None, :] - 2 * flat @ flat.T


@pytest.mark.unit
def test_shapes_dtypes_and_labels():
  images, labels = render([3, 7, 100000], 4, image_size=32)
  assert images.shape == (12, 32, 32, 3) and images.dtype == np.uint8
  assert labels.dtype == np.int32
  np.testing.assert_array_equal(labels, np.repeat([3, 7, 100000], 4))
  assert images.min() < 60 and images.max() > 200, "uses the uint8 range"


@pytest.mark.unit
@pytest.mark.parametrize("size", [16, 17, 96])
def test_other_image_sizes(size):
  images, _ = render([0, 1], 2, image_size=size)
  assert images.shape == (4, size, size, 3)


@pytest.mark.unit
def test_identity_name():
  assert synthetic_faces.identity_name(42) == "synthetic_00042"
  assert synthetic_faces.identity_name(123456) == "synthetic_123456"


@pytest.mark.unit
def test_same_call_is_identical():
  first, first_labels = render([0, 5, 9], 3)
  second, second_labels = render([0, 5, 9], 3)
  np.testing.assert_array_equal(first, second)
  np.testing.assert_array_equal(first_labels, second_labels)


@pytest.mark.unit
def test_identity_renders_the_same_whatever_else_is_rendered():
  alone, _ = render([5], 3)
  images, labels = render([9, 1, 5, 2], 3)
  np.testing.assert_array_equal(images[labels == 5], alone)
  # Image j does not depend on the count: more images only add images.
  more, _ = render([5], 6)
  np.testing.assert_array_equal(more[:3], alone)


@pytest.mark.unit
def test_seed_changes_the_population():
  a, _ = render([5], 2, seed=0)
  b, _ = render([5], 2, seed=1)
  assert np.abs(a.astype(int) - b).mean() > 10


@pytest.mark.unit
def test_images_of_one_identity_all_differ():
  images, _ = render([4], 8)
  distances = _squared_distances(images)
  assert (distances[~np.eye(8, dtype=bool)] > 0).all()


@pytest.mark.unit
def test_held_out_identities_do_not_collide_with_training_ones():
  train = np.arange(1000)
  held_out = np.arange(100000, 101000)
  traits = synthetic_faces._trait_uniforms(np.r_[train, held_out], seed=0)
  assert len(np.unique(traits, axis=0)) == 2000, "no two identities alike"
  train_images, _ = render(train[:200], 1)
  held_out_images, _ = render(held_out[:200], 1)
  seen = {image.tobytes() for image in train_images}
  assert not any(image.tobytes() in seen for image in held_out_images)


@pytest.mark.integration
def test_identity_shows_through_the_nuisance():
  """In raw pixels, images of one identity are closer than images of two,
  and the nearest identity mean (leaving the image out) is right far more
  often than chance, yet far from always: the nuisance still matters."""
  num_ids, per_id = 20, 8
  images, labels = render(range(num_ids), per_id)
  distances = _squared_distances(images)
  same = labels[:, None] == labels[None, :]
  off_diagonal = ~np.eye(len(labels), dtype=bool)
  assert distances[same & off_diagonal].mean() < 0.9 * distances[~same].mean()

  flat = images.reshape(len(images), -1).astype(np.float64)
  sums = flat.reshape(num_ids, per_id, -1).sum(1)
  means = sums / per_id
  to_means = ((means ** 2).sum(1)[None, :] + (flat ** 2).sum(1)[:, None]
              - 2 * flat @ means.T)
  ids = np.repeat(np.arange(num_ids), per_id)
  own = (sums[ids] - flat) / (per_id - 1)  # the image's own mean, without it
  to_means[np.arange(len(flat)), ids] = ((own - flat) ** 2).sum(1)
  accuracy = (to_means.argmin(1) == ids).mean()
  chance = 1 / num_ids
  assert 4 * chance < accuracy < 0.9, accuracy


@pytest.mark.integration
def test_part_boxes_hold_every_part(monkeypatch):
  """Each part is drawn inside a box bounding it in every image of a chunk;
  drawing it on the whole image instead must change no pixel."""
  identities = list(range(150)) + list(range(100000, 100050))
  boxed, _ = render(identities, 2)
  whole = (slice(None), slice(None))
  monkeypatch.setattr(synthetic_faces_draw, "_box", lambda *args: whole)
  unboxed, _ = render(identities, 2)
  np.testing.assert_array_equal(boxed, unboxed)


@pytest.mark.unit
@pytest.mark.parametrize("kwargs, match", [
    (dict(identities=[1], images_per_identity=2, image_size=8), "image_size"),
    (dict(identities=[1], images_per_identity=0), "images_per_identity"),
    (dict(identities=[1, -1], images_per_identity=2), "identities"),
    (dict(identities=[2**31], images_per_identity=2), "identities"),
    (dict(identities=[], images_per_identity=2), "empty"),
    (dict(identities=[1], images_per_identity=2, seed=-1), "seed"),
    (dict(identities=[1], images_per_identity=2, seed=2**32), "seed"),
])
def test_bad_arguments_raise(kwargs, match):
  with pytest.raises(ValueError, match=match):
    render(**kwargs)
