"""Embedding image files with an exported model, and the embeddings on disk.

    <output_dir>/embeddings.npy   float32 [N, D], row i = index row i
    <output_dir>/index.csv        row, path, identity, label
    <output_dir>/skipped.csv      path, error: the images that failed
    <output_dir>/model.json       the export's metadata (its thresholds are
                                  the recognition and clustering defaults)
    <output_dir>/no_face.csv      path: photos in which no face was found

Rows are images (`--aligned` crops) or faces of photos: then index.csv has
the columns face (its index in its photo, in reading order: rows top to
bottom, left to right; the main face is the largest box), x1, y1, x2, y2
(the box in the photo's pixels) and score (MTCNN's).

Image files are read by the one reader (data/reading.py: EXIF orientation,
grey, palette, 16-bit, PGM as in AT&T/ORL, TIFF; decompression bombs
refused). An aligned crop (`--aligned`) then becomes the model's input as
everywhere else (alignment/model_crop.py): the central `model_crop_fraction`
of the model's alignment spec (the whole image for a model without one),
resized, in the model's channels.
"""
import concurrent.futures
import csv
import dataclasses
import json
import os

import numpy as np
import tqdm

from facenet_tf import export_metadata
from facenet_tf.alignment import model_crop
from facenet_tf.data import image_tree
from facenet_tf.data import reading

EMBEDDINGS_FILE = "embeddings.npy"
INDEX_FILE = "index.csv"
SKIPPED_FILE = "skipped.csv"
MODEL_FILE = "model.json"
NO_FACE_FILE = "no_face.csv"
_FACE_COLUMNS = ("face", "x1", "y1", "x2", "y2", "score")
_INDEX_COLUMNS = ("row", "path", "identity", "label")


@dataclasses.dataclass
class EmbeddedImages:
  """Embeddings of image files; row i of every field is the same image.

  Attributes:
    embeddings: float32 [N, D].
    paths: image paths (absolute when listed from a tree).
    identities: identity (folder) name of each image.
    labels: int [N], the identity's index among the sorted distinct names;
      -1 for an unlabelled image (identity "", a photo directly in the
      tree's root).
    skipped: (path, error) of the images that could not be read.
    model_metadata: the embedding export's ExportMetadata, if known.
    faces: per row, {"face", "box", "score"} when rows are faces of photos.
    no_face: photos in which no face was found.
  """
  embeddings: np.ndarray
  paths: list
  identities: list
  labels: np.ndarray
  skipped: list = dataclasses.field(default_factory=list)
  model_metadata: export_metadata.ExportMetadata | None = None
  faces: list | None = None
  no_face: list = dataclasses.field(default_factory=list)

  @property
  def num_photos(self):
    """Every listed photo, as a progress bar counts them: read with faces,
    read without one, or unreadable."""
    return len(set(self.paths)) + len(self.no_face) + len(self.skipped)

  def main_faces(self):
    """Row indices of each photo's main face, its largest box (faces come
    in reading order), in row order; all rows for crops."""
    if self.faces is None:
      return np.arange(len(self.paths))
    largest = {}
    for row, (path, face) in enumerate(zip(self.paths, self.faces)):
      x1, y1, x2, y2 = face["box"]
      if path not in largest or (x2 - x1) * (y2 - y1) > largest[path][0]:
        largest[path] = ((x2 - x1) * (y2 - y1), row)
    return np.array(sorted(row for _, row in largest.values()), np.int64)


def load_image(source, model_input):
  """uint8 [H, W, C] of an aligned image (a path or encoded bytes): read
  (reading.read_photo), then `model_input`, a model_crop.ModelInput."""
  return model_input(reading.read_photo(source))


def load_images(paths, model_input):
  """uint8 [N, H, W, C] of every path; raises on the first unreadable one."""
  images = []
  for path in paths:
    try:
      images.append(load_image(path, model_input))
    except reading.PhotoError as e:
      raise FileNotFoundError(f"Cannot read image {e}") from None
  return np.stack(images)


def list_tree(images_dir, unlabelled=False):
  """(paths, identities) of the images of a tree (image_tree.list_photos).

  `images_dir/<identity>/<image>` has its folder's name as identity. With
  `unlabelled`, `images_dir/<image>` is listed too, unlabelled (identity
  ""): a flat folder of photos is a tree; without, such photos are left
  out (for tools that need identities: enrolling, recognition rates).
  Paths are absolute, unlabelled ones first, then by identity and file
  name. Symbolic links are followed (loops cut); files with other
  extensions than reading.IMAGE_EXTENSIONS are left out.

  Raises:
    FileNotFoundError: `images_dir` is missing or holds no image (then
      image_tree.EmptyTreeError, naming it).
  """
  return image_tree.list_photos(images_dir, unlabelled)


def identity_labels(identities):
  """int64 [N] labels of identity names: each name's index among the
  sorted distinct names, -1 for unlabelled rows (identity "")."""
  names = sorted(set(identities) - {image_tree.UNLABELLED})
  label_of = {name: i for i, name in enumerate(names)}
  return np.array([label_of.get(name, -1) for name in identities], np.int64)


def embed_tree(embedder, images_dir, batch_size=128, progress=True,
               unlabelled=False):
  """embed_files of every image of a tree (list_tree)."""
  return embed_files(embedder, *list_tree(images_dir, unlabelled),
                     batch_size, progress)


def embed_files(embedder, paths, identities, batch_size=128, progress=True,
                sources=None):
  """EmbeddedImages of image files, in their order.

  Unreadable images are skipped and listed in `skipped`; the others are
  embedded in batches while the next batch is decoded on a thread pool
  (Pillow and TensorFlow release the GIL).

  Args:
    embedder: a loaded export (facenet_tf.export_loaders.load), or any
      callable from uint8 [N, H, W, C] to [N, D] with `image_size` (H, W),
      `channels` and `alignment` (its spec or None: model_crop.ModelInput).
    paths: image file paths.
    identities: identity name of each path ("": unlabelled); labels as
      identity_labels numbers them.
    batch_size: images per model call.
    progress: show a progress bar over batches (tqdm, on stderr).
    sources: what to read for path i, if not the path (e.g. a TFRecord's
      image bytes; `paths` then only name the rows).

  Raises:
    FileNotFoundError: none of the images could be read.
  """
  labels = identity_labels(identities)
  sources = paths if sources is None else sources
  model_input = model_crop.ModelInput.of(embedder)
  load = lambda i: try_load(sources[i], model_input)
  batches = [range(i, min(i + batch_size, len(paths)))
             for i in range(0, len(paths), batch_size)]
  kept, embeddings, skipped = [], [], []
  with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
    pending = pool.map(load, batches[0])
    for b, rows in enumerate(tqdm.tqdm(batches, "embedding", unit="batch",
                                       disable=not progress)):
      loaded = list(pending)
      if b + 1 < len(batches):
        pending = pool.map(load, batches[b + 1])
      good = [row for row, (_, error) in zip(rows, loaded) if error is None]
      skipped += [(paths[row], error) for row, (_, error) in zip(rows, loaded)
                  if error is not None]
      if good:
        embeddings.append(embedder(np.stack(
            [image for image, error in loaded if error is None])))
        kept += good
  if not kept:
    raise FileNotFoundError(f"None of the {len(paths)} images could be read; "
                            f"e.g. {skipped[0][0]}: {skipped[0][1]}")
  return EmbeddedImages(
      np.concatenate(embeddings).astype(np.float32, copy=False),
      [paths[i] for i in kept], [str(identities[i]) for i in kept],
      labels[kept], skipped, getattr(embedder, "metadata", None))


def try_load(source, model_input):
  """(load_image's image, None), or (None, why the file cannot be read)."""
  try:
    return load_image(source, model_input), None
  except reading.PhotoError as e:
    return None, unreadable_reason(reading.describe(source), str(e))


def unreadable_reason(name, message):
  """Why a photo cannot be read, from a PhotoError's message, without the
  photo's name it starts with: skipped lists name the path once, beside."""
  prefix = f"{name}: "
  return message[len(prefix):] if message.startswith(prefix) else message


def write_embeddings(embedded, output_dir):
  """Writes embeddings.npy, index.csv and skipped.csv to `output_dir`."""
  os.makedirs(output_dir, exist_ok=True)
  np.save(os.path.join(output_dir, EMBEDDINGS_FILE), embedded.embeddings)
  with open(os.path.join(output_dir, INDEX_FILE), "w", newline="") as f:
    writer = csv.writer(f)
    faces = embedded.faces
    writer.writerow(_INDEX_COLUMNS + (_FACE_COLUMNS if faces else ()))
    for row, values in enumerate(zip(embedded.paths, embedded.identities,
                                     embedded.labels)):
      extra = ([faces[row]["face"], *faces[row]["box"], faces[row]["score"]]
               if faces else [])
      writer.writerow([row, *values, *extra])
  with open(os.path.join(output_dir, NO_FACE_FILE), "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(("path",))
    writer.writerows([p] for p in embedded.no_face)
  with open(os.path.join(output_dir, SKIPPED_FILE), "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(("path", "error"))
    writer.writerows(embedded.skipped)
  if embedded.model_metadata is not None:
    with open(os.path.join(output_dir, MODEL_FILE), "w") as f:
      json.dump(embedded.model_metadata.to_dict(), f, indent=1)


def read_embeddings(output_dir):
  """EmbeddedImages from a write_embeddings directory (skipped included),
  or from the shards of `facenet-embed --runner beam`.

  Raises:
    FileNotFoundError: a file is missing.
    ValueError: the index and the embeddings disagree.
  """
  # Imported here: embedding_shards builds on this module.
  from facenet_tf.evaluation import embedding_shards  # pylint: disable=import-outside-toplevel
  if embedding_shards.is_sharded(output_dir):
    return embedding_shards.read_sharded(output_dir)
  files = [os.path.join(output_dir, name)
           for name in (EMBEDDINGS_FILE, INDEX_FILE, SKIPPED_FILE)]
  for path in files:
    if not os.path.isfile(path):
      raise FileNotFoundError(f"{path} does not exist: is {output_dir} a "
                              "facenet-embed output directory?")
  embeddings = np.load(files[0])
  with open(files[1], newline="") as f:
    rows = list(csv.DictReader(f))
  with open(files[2], newline="") as f:
    skipped = [(row["path"], row["error"]) for row in csv.DictReader(f)]
  if len(rows) != len(embeddings) or any(int(row["row"]) != i
                                          for i, row in enumerate(rows)):
    raise ValueError(f"{files[1]} does not index the {len(embeddings)} rows "
                     f"of {files[0]} in order.")
  model_path = os.path.join(output_dir, MODEL_FILE)
  metadata = None
  if os.path.isfile(model_path):
    with open(model_path) as f:
      metadata = export_metadata.ExportMetadata.from_dict(json.load(f))
  faces = None
  if rows and "face" in rows[0]:
    faces = [{"face": int(r["face"]),
              "box": [float(r[k]) for k in ("x1", "y1", "x2", "y2")],
              "score": float(r["score"])} for r in rows]
  no_face = []
  no_face_path = os.path.join(output_dir, NO_FACE_FILE)
  if os.path.isfile(no_face_path):
    with open(no_face_path, newline="") as f:
      no_face = [row["path"] for row in csv.DictReader(f)]
  return EmbeddedImages(embeddings, [row["path"] for row in rows],
                        [row["identity"] for row in rows],
                        np.asarray([int(row["label"]) for row in rows]),
                        skipped, metadata, faces, no_face)
