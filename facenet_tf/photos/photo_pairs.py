"""Verification on LFW-format pairs straight from photos, via the photo API.

The path a user's photo takes (detect, align with the model's spec, embed)
rather than a pre-aligned tree. Of several faces, the one
data_pipelines.align keeps is embedded (`central`: davidsandberg's area
minus twice the squared offset from the centre; LFW centres its subject
and 1,556 of its photos hold more than one face); a photo without a
detected face falls back to its central square (the evaluation policy of
issue #14: every pair is scored, and the result counts the pairs that were
touched). The pairs evaluator (evaluation/pairs_evaluator.py) reads the
pairs and scores them; this module is its photos image source.
"""
import numpy as np

from facenet_tf.alignment import geometry
from facenet_tf.alignment import warp
from facenet_tf.data import reading
from facenet_tf.evaluation import eval_lib
from facenet_tf.evaluation import pairs_evaluator


def embed_main_faces(recognizer, paths, progress=False,
                     multiple_faces="central"):
  """(embeddings [N, D], indices of the photos that used the fallback)."""
  found = recognizer.faces(list(paths), progress=progress)
  embeddings, fallback = [None] * len(paths), []
  for i, item in enumerate(found):
    if item.error:
      raise eval_lib.InputError(item.error)
    if item.faces:
      boxes = np.array([face.box for face in item.faces])
      chosen = geometry.choose_face(boxes, item.size, multiple_faces)
      embeddings[i] = item.faces[chosen].embedding
    else:
      fallback.append(i)
  if fallback:
    # The aligner's fallback crop, seen through the model's window.
    crops = [recognizer.model_view(warp.center_fallback(
        reading.read_photo(paths[i]), recognizer.alignment)[0])
             for i in fallback]
    for i, embedding in zip(fallback, recognizer.embed_aligned(
        np.stack(crops))):
      embeddings[i] = embedding
  return np.stack(embeddings), fallback


def evaluate_photo_pairs(recognizer, pairs_file, images_dir=None,
                         target_far=1e-3, progress=False,
                         multiple_faces="central"):
  """The pairs evaluator's scores of the photo API's embeddings, plus
  fallback counts and the model."""
  evaluator = pairs_evaluator.PairsEvaluator(pairs_file, images_dir,
                                             target_far=target_far)
  embeddings, fallback = embed_main_faces(recognizer, evaluator.paths,
                                          progress, multiple_faces)
  result = evaluator.score(embeddings)
  touched = np.zeros(len(evaluator.paths), bool)
  touched[fallback] = True
  result.update({
      "model": str(recognizer.model_path),
      "pairs_file": evaluator.pairs_file,
      "fold_source": evaluator.fold_source,
      "num_images": len(evaluator.paths),
      "alignment": recognizer.alignment.to_dict(),
      **evaluator.fallback_counts(touched),
      "input": f"photos (detect + align + embed, {multiple_faces} face)"})
  return result
