"""Every face of every photo of a tree `<identity>/<photo>`, embedded.

Photos directly in the tree's root are unlabelled (identity "", label -1).

The rows of the returned `embedding_io.EmbeddedImages` are faces: a photo
gives one row per face found (in reading order; its main face is the
largest, `EmbeddedImages.main_faces`), none when no face is found (listed in `no_face`), and a photo
that cannot be read is in `skipped` with the reason. Nothing is dropped
silently.
"""
import sys

import numpy as np
import tqdm

from facenet_tf.evaluation import embedding_io


def face_row(face):
  """A face's columns in the embeddings index (face, box, score)."""
  return {"face": face.index, "box": [round(float(v), 1) for v in face.box],
          "score": round(float(face.score), 4)}


def embed_photos(recognizer, paths, identities, batch_size=64,
                 progress=True):
  """EmbeddedImages of the faces of `paths` (see the module docstring)."""
  labels = embedding_io.identity_labels(identities)
  rows, embeddings, skipped, no_face = [], [], [], []
  bar = tqdm.tqdm(total=len(paths), unit="photo", desc="faces",
                  disable=not progress, file=sys.stderr)
  for start in range(0, len(paths), batch_size * 4):
    chunk = slice(start, start + batch_size * 4)
    found = recognizer.faces(list(paths[chunk]), progress=False)
    for path, identity, label, item in zip(paths[chunk], identities[chunk],
                                           labels[chunk], found):
      if item.error:
        skipped.append((path, embedding_io.unreadable_reason(item.photo,
                                                             item.error)))
      elif not item.faces:
        no_face.append(path)
      for face in item.faces:
        rows.append((path, identity, label, face_row(face)))
        embeddings.append(face.embedding)
    bar.update(len(found))
  bar.close()
  if not rows:
    raise FileNotFoundError(f"No face found in any of the {len(paths)} "
                            "photos" + (f"; e.g. {skipped[0][0]}: "
                                        f"{skipped[0][1]}" if skipped else ""))
  return embedding_io.EmbeddedImages(
      np.stack(embeddings).astype(np.float32), [r[0] for r in rows],
      [r[1] for r in rows], np.array([r[2] for r in rows], np.int64),
      skipped, recognizer.metadata, [r[3] for r in rows], no_face)
