"""Aligned crops from TFRecord shards (data_pipelines.build_tfrecords),
embedded like a tree of crops (`--aligned`): the model's view of each.

A row's path is the image's path inside the converted tree (the record's
`paths`), its identity the record's name; rows come in label order (= name
order), then image order within the record: the tree's order.
"""
import tensorflow as tf

from facenet_tf.data import shards
from facenet_tf.evaluation import embedding_io


def record_images(serialized):
  """[((label, image, 0), path, identity, encoded bytes)] of one record."""
  feature = tf.train.Example.FromString(serialized).features.feature
  label = int(feature["label"].int64_list.value[0])
  name = feature["name"].bytes_list.value[0].decode()
  return [((label, i, 0), path.decode(), name, data)
          for i, (data, path) in enumerate(zip(
              feature["images"].bytes_list.value,
              feature["paths"].bytes_list.value))]


def shard_images(path):
  """record_images of every record of one shard file (tf.data reads it, so
  gs:// paths work too)."""
  for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
    yield from record_images(record)


def embed_records(embedder, data_dir, batch_size=128, progress=True):
  """EmbeddedImages of every image of the shards in `data_dir`.

  Raises:
    shards.ShardError: no complete shard set in `data_dir`.
  """
  _, paths = shards.find_shards(data_dir)
  items = sorted((item for path in paths for item in shard_images(path)),
                 key=lambda item: item[0])
  return embedding_io.embed_files(
      embedder, [i[1] for i in items], [i[2] for i in items], batch_size,
      progress, sources=[i[3] for i in items])

