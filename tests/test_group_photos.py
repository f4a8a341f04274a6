"""Group photos: detect, align, embed and identify every face (issue #15).

Twelve LFW people are enrolled from three photos each (images 2-4). Six
group photos are composed from another photo of each (image 1 or 5): 3 or
4 faces per photo at widths drawn log-uniformly from 40 to 300 px, rotated
in plane by up to +-30 degrees, at random non-overlapping places on a
1,600 x 1,200 canvas (experiments/benchmarks/group_photos.py). A seventh
photo is background only. The reference model shipped in the package
identifies the faces: detection recall and identification accuracy must
(the nearest enrolled person) stay above floors set from the measured
values (WORKSPACE_NOTES.md, #15); the open-set rate at the strict FAR 1e-3
threshold is printed,
and the empty photo must give an explicit empty result.
"""
import numpy as np
import pytest

from experiments.benchmarks import group_photos
from facenet_tf.photos import results as results_lib
from tests.conftest import shared_path

PEOPLE = ("Abdullah_Gul", "Adrien_Brody", "Al_Gore", "Amelie_Mauresmo",
          "Andre_Agassi", "Ariel_Sharon", "Arnold_Schwarzenegger",
          "Angelina_Jolie", "Bill_Clinton", "Colin_Powell", "Hugo_Chavez",
          "Serena_Williams")
CANVAS = (1600, 1200)
# Floors below the measured figures (recall 1.000, nearest-of-12
# identification 0.864 = 19 of 22 faces, when written): a regression in
# detection, alignment or the model fails them; a face or two does not.
RECALL_FLOOR = 0.85
IDENTIFICATION_FLOOR = 0.7


def _lfw(name, index):
  return shared_path("data", "lfw", "images") / name / f"{name}_{index:04d}.jpg"


@pytest.fixture(scope="module")
def scene():
  """(recognizer, gallery, [(photo array, placed faces)])."""
  from facenet_tf import photos
  recognizer = photos.FaceRecognizer()
  gallery = photos.Gallery(recognizer, far=1e-3)  # the open-set point
  for name in PEOPLE:
    report = gallery.enroll(name, [str(_lfw(name, i)) for i in (2, 3, 4)])
    assert report["enrolled"] == 3, report
  rng = np.random.default_rng(7)
  order = rng.permutation(len(PEOPLE) * 2)
  slots = [(PEOPLE[k % len(PEOPLE)], 1 if k < len(PEOPLE) else 5)
           for k in order]
  scenes, start = [], 0
  for count in (4, 4, 4, 4, 3, 3):
    faces = [(name, _lfw(name, index),
              float(np.exp(rng.uniform(np.log(40), np.log(300)))),
              float(rng.uniform(-30, 30)))
             for name, index in slots[start:start + count]]
    start += count
    image, placed = group_photos.compose(faces, CANVAS, rng)
    scenes.append((np.asarray(image), placed))
  return recognizer, gallery, scenes


@pytest.mark.integration
def test_group_photos_detection_and_identification(scene):
  recognizer, gallery, scenes = scene
  results = gallery.identify([image for image, _ in scenes])
  total = found = correct = accepted = 0
  for (image, placed), (photo_faces, answers) in zip(scenes, results):
    assert photo_faces.error is None and photo_faces.size == image.shape[:2]
    # Faces come in reading order, numbered so (#31 item 10).
    boxes = [face.box for face in photo_faces.faces]
    assert results_lib.reading_order(boxes) == list(range(len(boxes)))
    assert [f.index for f in photo_faces.faces] == list(range(len(boxes)))
    by_face = {id(a.face): a for a in answers}
    for truth, face in zip(placed, group_photos.match(placed,
                                                      photo_faces.faces)):
      total += 1
      if face is not None:
        found += 1
        answer = by_face[id(face)]
        correct += answer.nearest == truth.person
        accepted += answer.name == truth.person
  recall, accuracy = found / total, correct / total
  print(f"group photos: {total} faces, detection recall {recall:.3f}, "
        f"identification accuracy (nearest of 12) {accuracy:.3f}, "
        f"accepted as themselves at the FAR-1e-3 threshold "
        f"{gallery.threshold:g}: {accepted / total:.3f}")
  assert total == 22
  assert recall >= RECALL_FLOOR
  assert accuracy >= IDENTIFICATION_FLOOR


@pytest.mark.integration
def test_a_photo_without_a_face_is_an_explicit_empty_result(scene):
  recognizer, gallery, _ = scene
  empty = np.asarray(group_photos.background(800, 600,
                                             np.random.default_rng(1)))
  [(photo_faces, answers)] = gallery.identify([empty])
  assert photo_faces.error is None and photo_faces.faces == []
  assert answers == []
  [found] = recognizer.faces(empty)
  assert found.faces == [] and found.size == (600, 800)


@pytest.mark.integration
def test_a_large_photo_is_detected_small_and_cut_from_the_original(scene):
  """A 3,000 x 2,000 photo is detected on a 1,024 px copy: the box comes
  back in the original's pixels, around the pasted face."""
  recognizer, gallery, _ = scene
  rng = np.random.default_rng(3)
  image, placed = group_photos.compose(
      [("Al_Gore", _lfw("Al_Gore", 5), 260.0, 12.0)], (3000, 2000), rng)
  [(found, answers)] = gallery.identify([np.asarray(image)])
  assert found.size == (2000, 3000)
  [face] = [f for f in group_photos.match(placed, found.faces) if f]
  x1, y1, x2, y2 = face.box
  assert 150 < x2 - x1 < 400  # the face's width in original pixels
  assert answers[[a.face for a in answers].index(face)].nearest == "Al_Gore"
