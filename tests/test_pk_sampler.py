"""The P x K + R sampler: stratification, policies, determinism, replicas."""
import collections
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from facenet_tf.data import pk_sampler
from facenet_tf.data import shards
from tests import record_fixtures
from tests.conftest import shared_path

# Identity i has COUNTS[i] images; 24 identities over 4 shards (shard = i % 4).
COUNTS = [1, 2, 3, 5, 6, 8] * 4
# Synthetic images are 20 px, the model's view 16 px of them (fraction 0.8:
# 4 px of margin at 16 px): no resize, exact pixels.
SIZE, PAD = 16, 4
FRACTION = SIZE / (SIZE + PAD)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory):
  out = tmp_path_factory.mktemp("synthetic")
  record_fixtures.write_shards(
      out, record_fixtures.synthetic_identities(COUNTS, SIZE + PAD), 4)
  return str(out)


def batches(data_dir, count, **kwargs):
  kwargs = {"image_size": SIZE, "crop_fraction": FRACTION, **kwargs}
  dataset = pk_sampler.pk_dataset(data_dir, **kwargs)
  return [(images.numpy(), labels.numpy())
          for images, labels in dataset.take(count)]


def check_stratified(images, labels, p, k, r):
  """P distinct identities x K consecutive rows, then R other identities;
  the images are those of their labels (red channel = label)."""
  assert images.shape == (p * k + r, SIZE, SIZE, 3) and labels.shape[0] == (
      p * k + r)
  groups = labels[:p * k].reshape(p, k)
  assert (groups == groups[:, :1]).all()
  assert len(set(groups[:, 0])) == p
  negatives = labels[p * k:]
  assert len(set(negatives)) == r and not set(negatives) & set(groups[:, 0])
  assert (images[..., 0] == labels[:, None, None]).all()
  assert (images[..., 2] == record_fixtures.BLUE).all()


@pytest.mark.integration
def test_batches_are_stratified_with_static_shapes(synthetic_dir):
  dataset = pk_sampler.pk_dataset(synthetic_dir, 3, 4, 2, image_size=SIZE,
                                  crop_fraction=FRACTION)
  assert dataset.element_spec[0].shape == (14, SIZE, SIZE, 3)
  assert dataset.element_spec[1].shape == (14,)
  assert dataset.element_spec[1].dtype == tf.int32
  for images, labels in batches(synthetic_dir, 6, p=3, k=4, r=2):
    check_stratified(images, labels, 3, 4, 2)


@pytest.mark.integration
def test_exclude_policy_draws_k_distinct_images(synthetic_dir):
  seen_negative_counts = set()
  for images, labels in batches(synthetic_dir, 8, p=3, k=4, r=3):
    check_stratified(images, labels, 3, 4, 3)
    for group in range(3):
      rows = slice(group * 4, group * 4 + 4)
      assert COUNTS[labels[rows][0]] >= 4
      assert len(set(images[rows, 0, 0, 1])) == 4  # green = image index
    seen_negative_counts |= {COUNTS[label] for label in labels[12:]}
  assert 1 in seen_negative_counts, "1-image identities serve as negatives"
  for _, labels in batches(synthetic_dir, 4, p=3, k=4, min_images=6):
    assert min(COUNTS[label] for label in labels) >= 6


@pytest.mark.integration
def test_replace_policy_repeats_small_identities_evenly(synthetic_dir):
  used_counts = collections.Counter()
  for images, labels in batches(synthetic_dir, 8, p=4, k=5,
                                min_images_policy="replace"):
    check_stratified(images, labels, 4, 5, 0)
    for group in range(4):
      rows = slice(group * 5, group * 5 + 5)
      count = COUNTS[labels[rows][0]]
      used_counts[count] += 1
      uses = collections.Counter(images[rows, 0, 0, 1].astype(int))
      assert len(uses) == min(count, 5) and set(uses) <= set(range(count))
      assert max(uses.values()) - min(uses.values()) <= 1
  assert 1 not in used_counts and {2, 3} & set(used_counts)


@pytest.mark.integration
def test_same_seed_same_batches_other_seed_differs(synthetic_dir):
  first = batches(synthetic_dir, 3, p=3, k=2, r=2, seed=7)
  again = batches(synthetic_dir, 3, p=3, k=2, r=2, seed=7)
  other = batches(synthetic_dir, 3, p=3, k=2, r=2, seed=8)
  for (images, labels), (images2, labels2) in zip(first, again):
    np.testing.assert_array_equal(labels, labels2)
    np.testing.assert_array_equal(images, images2)
  assert any((a[1] != b[1]).any() for a, b in zip(first, other))


@pytest.mark.unit
@pytest.mark.parametrize("kwargs, match", [
    ({"k": 1}, "k >= 2"),
    ({"min_images_policy": "drop"}, "min_images_policy"),
    ({"min_images": 3}, "min_images=3 < 4"),
    ({"min_images_policy": "replace", "min_images": 1}, "min_images=1 < 2"),
])
def test_bad_arguments(synthetic_dir, kwargs, match):
  with pytest.raises(ValueError, match=match):
    pk_sampler.pk_dataset(synthetic_dir, **{"p": 2, "k": 4, **kwargs})


@pytest.mark.integration
def test_too_few_identities_is_a_clear_error(synthetic_dir):
  dataset = pk_sampler.pk_dataset(synthetic_dir, 13, 4, image_size=SIZE)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="fewer than 13 identities with >= 4 images"):
    next(iter(dataset))


@pytest.mark.integration
@pytest.mark.parametrize("cut", [5, -10])
def test_truncated_shard_is_named(synthetic_dir, tmp_path, cut):
  """Cut about half-way: 5 bytes into a record's header (TF's reader would
  stop silently) or 10 bytes before the end (TF: an error without the file)."""
  for name in os.listdir(synthetic_dir):
    data = open(os.path.join(synthetic_dir, name), "rb").read()
    if name.endswith("00001-of-00004"):
      data = data[:len(data) // 2 + cut]
    (tmp_path / name).write_bytes(data)
  with pytest.raises(shards.ShardError, match="Truncated shard .*00001-of"):
    pk_sampler.pk_dataset(str(tmp_path), 2, 2)
  os.remove(tmp_path / "train.tfrecord-00001-of-00004")
  with pytest.raises(shards.ShardError, match="Incomplete shard set"):
    pk_sampler.pk_dataset(str(tmp_path), 2, 2)


def replica_slices(images, labels, p, k, r, replicas):
  """The per-replica batches a global batch splits into."""
  pk = p * k
  for j in range(replicas):
    rows = np.r_[j * pk // replicas:(j + 1) * pk // replicas,
                 pk + j * r // replicas:pk + (j + 1) * r // replicas]
    yield images[rows], labels[rows]


@pytest.mark.integration
def test_replicas_split_the_global_batch(synthetic_dir):
  """Consecutive elements are the replicas' shares of the same global batch
  that pk_dataset yields without a context."""
  context = tf.distribute.InputContext(num_input_pipelines=1,
                                       input_pipeline_id=0,
                                       num_replicas_in_sync=2)
  fn = pk_sampler.distributed_dataset_fn(
      synthetic_dir, 4, 2, 2, image_size=SIZE, crop_fraction=FRACTION, seed=3)
  per_replica = [(i.numpy(), l.numpy()) for i, l in fn(context).take(4)]
  global_batches = batches(synthetic_dir, 2, p=4, k=2, r=2, seed=3)
  for step, (images, labels) in enumerate(global_batches):
    expected = replica_slices(images, labels, 4, 2, 2, 2)
    for replica, (want_images, want_labels) in enumerate(expected):
      got_images, got_labels = per_replica[2 * step + replica]
      np.testing.assert_array_equal(got_labels, want_labels)
      np.testing.assert_array_equal(got_images, want_images)
  with pytest.raises(ValueError, match="divisible by the 2 replicas"):
    fn = pk_sampler.distributed_dataset_fn(synthetic_dir, 3, 2)
    fn(context)


@pytest.mark.integration
def test_input_pipelines_read_disjoint_shards(synthetic_dir):
  def labels_of(pipeline):
    context = tf.distribute.InputContext(2, pipeline, 2)
    fn = pk_sampler.distributed_dataset_fn(
        synthetic_dir, 4, 2, 2, image_size=SIZE, crop_fraction=FRACTION)
    return {int(label) for _, labels in fn(context).take(6)
            for label in labels}
  # Shard s holds the labels = s mod 4; pipeline i reads shards i and i + 2.
  assert {label % 2 for label in labels_of(0)} == {0}
  assert {label % 2 for label in labels_of(1)} == {1}
  with pytest.raises(shards.ShardError, match="cannot feed 8 input pipelines"):
    pk_sampler.pk_dataset(synthetic_dir, 8, 2, input_context=(
        tf.distribute.InputContext(8, 0, 8)))


MIRRORED_CHECK = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorflow as tf
    cpu, = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from facenet_tf.data import pk_sampler
    from tests.test_pk_sampler import replica_slices
    kwargs = dict(image_size=16, crop_fraction=0.8, seed=5)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    fn = pk_sampler.distributed_dataset_fn(sys.argv[1], 4, 2, 2, **kwargs)
    step = next(iter(strategy.distribute_datasets_from_function(fn)))
    got = [tuple(x.numpy() for x in part) for part in zip(
        *map(strategy.experimental_local_results, step))]
    images, labels = next(iter(pk_sampler.pk_dataset(sys.argv[1], 4, 2, 2,
                                                     **kwargs)))
    want = list(replica_slices(images.numpy(), labels.numpy(), 4, 2, 2, 2))
    assert len(got) == 2, got
    for (gi, gl), (wi, wl) in zip(got, want):
      np.testing.assert_array_equal(gl, wl)
      np.testing.assert_array_equal(gi, wi)
    print("replicas", [list(gl) for _, gl in got])
""")


@pytest.mark.integration
def test_mirrored_strategy_on_two_logical_cpus(synthetic_dir):
  """In a subprocess: logical devices must be set before TF initialises."""
  env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}
  done = subprocess.run([sys.executable, "-c", MIRRORED_CHECK, synthetic_dir],
                        cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=300, check=False)
  assert done.returncode == 0, done.stderr[-3000:]
  assert "replicas" in done.stdout


@pytest.fixture(scope="module")
def orl_dir(tmp_path_factory):
  identities = record_fixtures.orl_identities(shared_path("data", "att_orl"))
  out = tmp_path_factory.mktemp("orl")
  record_fixtures.write_shards(out, identities, 4)
  return str(out)


@pytest.mark.integration
def test_orl_grey_images_become_rgb_batches(orl_dir):
  dataset = pk_sampler.pk_dataset(orl_dir, 8, 5, 4, image_size=96, seed=1)
  for images, labels in dataset.take(3):
    images, labels = images.numpy(), labels.numpy()
    assert images.shape == (44, 96, 96, 3)
    assert 0 <= images.min() and images.max() <= 255
    assert (images[..., 0] == images[..., 1]).all()
    assert (images[..., 0] == images[..., 2]).all()
    groups = labels[:40].reshape(8, 5)
    assert (groups == groups[:, :1]).all() and len(set(groups[:, 0])) == 8
    assert not set(labels[40:]) & set(groups[:, 0])
