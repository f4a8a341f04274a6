"""Small identity shards for the input tests, written with records.py.

Synthetic images are constant colours that encode where they came from:
red = label, green = image index within the identity, blue = 200, so any
crop, flip or same-size resize keeps them and a test can read them back.
"""
import io
import json
import os
import re

import numpy as np
import tensorflow as tf
from PIL import Image

from facenet_tf.data import records

BLUE = 200


def encode(array, fmt="png"):
  """PNG or JPEG bytes of a uint8 [h, w] or [h, w, 3] array."""
  buffer = io.BytesIO()
  Image.fromarray(array).save(buffer, format=fmt.upper(), quality=95)
  return buffer.getvalue()


def synthetic_identities(counts, size=20):
  """[(name, images)] with counts[i] constant-colour PNGs for identity i."""
  identities = []
  for label, count in enumerate(counts):
    name = f"id{label:03d}"
    images = [{"bytes": encode(np.full((size, size, 3), (label, index, BLUE),
                                       np.uint8)),
               "format": "png", "height": size, "width": size,
               "path": f"{name}/{index:04d}.png"} for index in range(count)]
    identities.append((name, images))
  return identities


def orl_identities(root):
  """[(name, images)] of AT&T/ORL `s1..s40/1..10.pgm`, grey PNG-encoded.

  TF cannot decode PGM, so the images are stored as PNG; they stay grey.
  """
  identities = []
  names = [n for n in os.listdir(root) if re.fullmatch(r"s\d+", n)]
  for name in sorted(names, key=lambda n: int(n[1:])):
    images = []
    for index in range(1, 11):
      path = os.path.join(root, name, f"{index}.pgm")
      array = np.asarray(Image.open(path))
      images.append({"bytes": encode(array), "format": "png",
                     "height": array.shape[0], "width": array.shape[1],
                     "path": f"{name}/{index}.pgm"})
    identities.append((name, images))
  return identities


def write_shards(out_dir, identities, num_shards, name="train"):
  """Writes identity i to shard i % num_shards, plus a minimal manifest.

  Returns:
    The shard paths.
  """
  os.makedirs(out_dir, exist_ok=True)
  paths = [os.path.join(out_dir, records.shard_name(name, i, num_shards))
           for i in range(num_shards)]
  writers = [tf.io.TFRecordWriter(path) for path in paths]
  for label, (identity, images) in enumerate(identities):
    writers[label % num_shards].write(
        records.encode_identity(label, identity, images))
  for writer in writers:
    writer.close()
  manifest = {"num_identities": len(identities),
              "num_images": sum(len(images) for _, images in identities),
              "counts": {n: len(images) for n, images in identities}}
  with open(os.path.join(out_dir, "manifest.json"), "w",
            encoding="utf-8") as f:
    json.dump(manifest, f)
  return paths


LFW_PEOPLE = ["Ariel_Sharon", "Colin_Powell", "Donald_Rumsfeld",
              "George_W_Bush", "Gerhard_Schroeder", "Hugo_Chavez",
              "Jacques_Chirac", "Tony_Blair"]


def lfw_subset_and_pairs(lfw, tmp_path):
  """A tree of 8 LFW people x 6 images (symlinks) under tmp_path/images and
  an LFW-format pairs file of 20 + 20 pairs over it: (tree, pairs path)."""
  tree = tmp_path / "images"
  for name in LFW_PEOPLE:
    (tree / name).mkdir(parents=True)
    for i in range(1, 7):
      file = f"{name}_{i:04d}.jpg"
      (tree / name / file).symlink_to(lfw / "images" / name / file)
  rng = np.random.default_rng(0)
  same = [f"{n}\t{a}\t{b}" for n in LFW_PEOPLE for a, b in ((1, 2), (3, 4))]
  same += [f"{LFW_PEOPLE[i]}\t5\t6" for i in range(4)]
  diff = []
  for _ in range(20):
    a, b = rng.choice(len(LFW_PEOPLE), 2, replace=False)
    diff.append(f"{LFW_PEOPLE[a]}\t{rng.integers(1, 7)}\t{LFW_PEOPLE[b]}\t"
                f"{rng.integers(1, 7)}")
  pairs = tmp_path / "pairs.txt"
  pairs.write_text("20\n" + "\n".join(same + diff) + "\n")
  return tree, pairs


def random_pairs_tree(root, size=64, people=4, seed=0):
  """`people` identities x 2 seeded uniform-noise PNGs (size x size) under
  root/images and an LFW-format pairs file over them: each person's two
  images (`people` same pairs) and person i vs i + 1 (`people` different
  pairs). Enough to calibrate thresholds on; they mean nothing. Returns the
  pairs file's path."""
  rng = np.random.default_rng(seed)
  names = [f"Person_{i}" for i in range(people)]
  for name in names:
    os.makedirs(os.path.join(root, "images", name), exist_ok=True)
    for index in (1, 2):
      Image.fromarray(rng.integers(0, 256, (size, size, 3), np.uint8)).save(
          os.path.join(root, "images", name, f"{name}_{index:04d}.png"))
  same = [f"{name}\t1\t2" for name in names]
  diff = [f"{names[i]}\t1\t{names[(i + 1) % people]}\t2"
          for i in range(people)]
  pairs = os.path.join(root, "pairs.txt")
  with open(pairs, "w", encoding="utf-8") as f:
    f.write(f"{people}\n" + "\n".join(same + diff) + "\n")
  return pairs
