"""Distillation losses against a NumPy brute force (facenet_tf/losses/distillation.py).

Fixtures: B = 6 faces, D = 4. Row 2's target is all zeros (the teacher could
not describe it), so the cosine loss averages 5 faces and the relational
loss 5 x 4 = 20 ordered pairs of two different faces with targets.
"""
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf.losses import distillation

pytestmark = pytest.mark.unit


def _fixture(seed=0, size=6, dim=4):
  rng = np.random.default_rng(seed)
  student = rng.normal(size=(size, dim)).astype(np.float32)
  student /= np.linalg.norm(student, axis=1, keepdims=True)
  teacher = (rng.normal(size=(size, dim)) * 1.4).astype(np.float32)
  teacher[2] = 0.0
  return student, teacher


def _numpy_cosine(student, teacher):
  total, count = 0.0, 0
  for s, t in zip(student.astype(np.float64), teacher.astype(np.float64)):
    if not t.any():
      continue
    total += 1 - s @ t / (np.linalg.norm(s) * np.linalg.norm(t))
    count += 1
  return total / count


def _numpy_relational(student, teacher):
  s = student / np.linalg.norm(student, axis=1, keepdims=True)
  has = teacher.any(axis=1)
  t = np.where(has[:, None], teacher, 1.0)
  t = t / np.linalg.norm(t, axis=1, keepdims=True)
  errors = []
  for i in range(len(s)):
    for j in range(len(s)):
      if i != j and has[i] and has[j]:
        d_s = np.sum((s[i] - s[j]) ** 2)
        d_t = np.sum((t[i] - t[j]) ** 2)
        errors.append((d_s - d_t) ** 2)
  assert len(errors) == 20  # 5 faces with targets, ordered pairs
  return np.mean(errors)


@pytest.mark.parametrize("kind,reference", [("cosine", _numpy_cosine),
                                            ("relational", _numpy_relational)])
def test_loss_matches_numpy(kind, reference):
  student, teacher = _fixture()
  loss = distillation.distillation_loss(student, teacher, kind)
  np.testing.assert_allclose(float(loss), reference(student, teacher),
                             rtol=1e-5, atol=1e-6)


def test_cosine_is_zero_on_the_teacher_and_ignores_missing_rows():
  """A student equal to the normalised teacher has loss 0; a zero target row
  contributes nothing whatever the student says there."""
  student, teacher = _fixture()
  unit = teacher / np.maximum(np.linalg.norm(teacher, axis=1,
                                             keepdims=True), 1e-12)
  unit[2] = student[2]
  assert float(distillation.distillation_loss(unit, teacher)) < 1e-6
  terms = distillation.cosine_terms(student, teacher)
  assert float(terms.count) == 5.0


def test_relational_is_rotation_invariant_but_cosine_is_not():
  """Rotating the student moves its coordinates, not its distances."""
  student, teacher = _fixture(1)
  rotation, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(4, 4)))
  rotated = (student @ rotation).astype(np.float32)
  for kind, same in (("relational", True), ("cosine", False)):
    a = float(distillation.distillation_loss(student, teacher, kind))
    b = float(distillation.distillation_loss(rotated, teacher, kind))
    assert np.isclose(a, b, rtol=1e-4) == same, kind


@pytest.mark.parametrize("kind", ("cosine", "relational"))
def test_replica_shares_sum_to_one_device(kind):
  """Two 'replicas' of 3 anchors each, keys = the whole batch: their summed
  terms over the global count give the one-device loss and gradient."""
  student, teacher = _fixture(3)
  x = tf.Variable(student)

  def shares(embeddings):
    if kind == "cosine":
      parts = [distillation.cosine_terms(embeddings[i:i + 3],
                                         teacher[i:i + 3]) for i in (0, 3)]
    else:
      parts = [distillation.relational_terms(
          embeddings[i:i + 3], teacher[i:i + 3], embeddings, teacher,
          offset=i) for i in (0, 3)]
    count = tf.add_n([p.count for p in parts])
    return tf.add_n([p.loss_sum for p in parts]) / count

  with tf.GradientTape(persistent=True) as tape:
    split = shares(x)
    whole = distillation.distillation_loss(x, teacher, kind)
  np.testing.assert_allclose(float(split), float(whole), rtol=1e-6)
  np.testing.assert_allclose(tape.gradient(split, x).numpy(),
                             tape.gradient(whole, x).numpy(), atol=1e-6)


def test_unknown_kind_is_refused():
  student, teacher = _fixture()
  for kind in ("kl", "harmonic"):  # harmonic needs labels: harmonic_loss
    with pytest.raises(ValueError, match="cosine"):
      distillation.distillation_loss(student, teacher, kind)


def _numpy_centred(teacher, center):
  """unit(unit(t) - center) row by row; zero rows stay zero."""
  out = np.zeros_like(teacher, dtype=np.float64)
  for i, t in enumerate(teacher.astype(np.float64)):
    if t.any():
      c = t / np.linalg.norm(t) - center
      out[i] = c / np.linalg.norm(c)
  return out


@pytest.mark.parametrize("kind,reference", [("cosine", _numpy_cosine),
                                            ("relational", _numpy_relational)])
def test_centred_loss_is_the_loss_of_the_centred_targets(kind, reference):
  """Centre = the mean unit target row (what the manifest stores): the loss
  equals the NumPy loss onto unit(unit(t) - centre), row 2 still absent."""
  student, teacher = _fixture(4)
  has = teacher.any(axis=1)
  unit = teacher[has] / np.linalg.norm(teacher[has], axis=1, keepdims=True)
  center = unit.mean(axis=0)
  centred = _numpy_centred(teacher, center)
  assert not centred[2].any()
  loss = distillation.distillation_loss(student, teacher, kind, center)
  np.testing.assert_allclose(float(loss), reference(student, centred),
                             rtol=1e-5, atol=1e-6)


def test_centring_spreads_targets_that_share_a_direction():
  """Targets = a common direction + small noise (dlib's shape: cosine 0.9+
  between any two). A student that outputs the common direction for every
  face scores a near-zero raw cosine loss (the collapse), but about 1 (no
  better than chance) against the centred targets."""
  rng = np.random.default_rng(5)
  common = rng.normal(size=16)
  teacher = (common + 0.3 * rng.normal(size=(32, 16))).astype(np.float32)
  collapsed = np.tile(common / np.linalg.norm(common), (32, 1)).astype(
      np.float32)
  unit = teacher / np.linalg.norm(teacher, axis=1, keepdims=True)
  raw = float(distillation.distillation_loss(collapsed, teacher))
  centred = float(distillation.distillation_loss(collapsed, teacher,
                                                 center=unit.mean(axis=0)))
  assert raw < 0.1, raw
  assert 0.7 < centred < 1.3, centred
