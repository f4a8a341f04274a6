"""facenet-embed --runner beam: embeddings of a photo tree or of TFRecord
shards on Apache Beam, written as shards (embedding_shards).

    tree: (position, path, identity) -> Reshuffle -> BatchElements ->
          PhotoFaces (MTCNN + the model's alignment; --aligned: read and
          cut the model's view) -------------------------------.
    shards: shard paths -> shard_images -> Reshuffle -> Decode ---------+
      -> RunInference(KeyedModelHandler(SavedModelHandler))            |
      -> (shard, (key, embedding)) + one empty entry per shard          |
      -> GroupByKey -> write_shard -> (after all) write_manifest <------'
                                        (no face, skipped, identities)

The model runs through Beam's RunInference (batching, one model per
process, metrics) with our `ModelHandler`, not Beam's TensorFlow handler
`TFModelHandlerNumpy`: its module imports tensorflow_hub (not installed;
it pulls in tf-keras, a second Keras), and it loads with
`tf.keras.models.load_model`, which Keras 3 refuses for a SavedModel
("File format not supported ... the legacy SavedModel format is not
supported by `load_model()` in Keras 3"), both seen with Beam 2.77 and TF
2.21. Ours loads the export with `facenet_tf.export_loaders.load` (its
serving signature, L2 normalisation inside). Keys carry each row's order, path,
identity and face, so rows come back in the local runner's order whatever
the engine's. Inputs and the output directory must be on a filesystem every
worker sees (as for data_pipelines.beam_align).
"""
import json

import apache_beam as beam
from apache_beam.ml.inference.base import KeyedModelHandler
from apache_beam.ml.inference.base import ModelHandler
from apache_beam.ml.inference.base import PredictionResult
from apache_beam.ml.inference.base import RunInference
from apache_beam.options.pipeline_options import PipelineOptions
import numpy as np

from facenet_tf import export_loaders
from facenet_tf import export_metadata
from facenet_tf.alignment import model_crop
from facenet_tf.data import shards as shards_lib
from facenet_tf.evaluation import embedding_io
from facenet_tf.evaluation import embedding_records
from facenet_tf.evaluation import embedding_shards
from facenet_tf.photos import photo_tree


class SavedModelHandler(ModelHandler):
  """uint8 [H, W, C] model inputs -> PredictionResult(input, embedding)."""

  def __init__(self, model_path, max_batch_size):
    super().__init__(min_batch_size=1, max_batch_size=max_batch_size)
    self._model_path = model_path

  def load_model(self):
    return export_loaders.load(self._model_path)

  def run_inference(self, batch, model, inference_args=None):
    embeddings = model(np.stack(batch), batch_size=len(batch))
    return [PredictionResult(x, e, self._model_path)
            for x, e in zip(batch, embeddings)]


class PhotoFaces(beam.DoFn):
  """A batch of (position, path, identity) -> keyed model inputs; photos
  without a face and unreadable ones go to the `no_face` and `skipped`
  outputs."""

  def __init__(self, model_path, aligned, min_confidence, detect_max_side):
    super().__init__()
    self._model_path, self._aligned = model_path, aligned
    self._detector_options = (min_confidence, detect_max_side)

  def setup(self):
    if self._aligned:
      self._model_input = model_crop.ModelInput.of(
          export_metadata.read(self._model_path))
    else:  # pylint: disable-next=import-outside-toplevel
      from facenet_tf import photos
      self._recognizer = photos.FaceRecognizer(self._model_path,
                                               *self._detector_options)

  def process(self, batch):
    if self._aligned:
      for position, path, identity in batch:
        image, error = embedding_io.try_load(path, self._model_input)
        yield from _keyed(((position, 0, 0), path, identity, ""), image,
                          error)
      return
    found = self._recognizer.face_crops([path for _, path, _ in batch],
                                        progress=False)
    for (position, path, identity), (photo, crops) in zip(batch, found):
      if photo.error:
        yield beam.pvalue.TaggedOutput("skipped", (
            (position, 0, 0), path, photo.error))
      elif crops is None:
        yield beam.pvalue.TaggedOutput("no_face", ((position, 0, 0), path))
      for face, crop in zip(photo.faces, crops if crops is not None else []):
        info = json.dumps(photo_tree.face_row(face))
        yield ((position, 0, face.index), path, identity, info), crop


def _keyed(key, image, error):
  if error is not None:
    yield beam.pvalue.TaggedOutput("skipped", (key[0], key[1], error))
  else:
    yield key, image


def _decoded(item, model_input):
  order, path, identity, data = item
  image, error = embedding_io.try_load(data, model_input)
  return _keyed((order, path, identity, ""), image, error)


def run(model_path, output_dir, pipeline_args, images_dir=None,
        tfrecords_dir=None, aligned=False, num_shards=16, batch_size=64,
        min_confidence=0.9, detect_max_side=1024):
  """Embeds a tree (`images_dir`) or shards (`tfrecords_dir`) on Beam and
  returns the manifest written to `output_dir` (embedding_shards)."""
  metadata = export_metadata.read(model_path)
  handler = KeyedModelHandler(SavedModelHandler(model_path, batch_size))
  with beam.Pipeline(options=PipelineOptions(list(pipeline_args))) as p:
    if images_dir is not None:
      paths, identities = embedding_io.list_tree(images_dir, unlabelled=True)
      listed = p | "Photos" >> beam.Create(
          [(i, path, name) for i, (path, name) in
           enumerate(zip(paths, identities))])
      names = p | "Names" >> beam.Create([sorted(set(identities))])
      prepared = (
          listed
          | "Spread" >> beam.Reshuffle()
          | "Batch" >> beam.BatchElements(min_batch_size=batch_size,
                                          max_batch_size=batch_size)
          | "Faces" >> beam.ParDo(PhotoFaces(
              model_path, aligned, min_confidence,
              detect_max_side)).with_outputs("skipped", "no_face",
                                             main="inputs"))
    else:
      _, shard_paths = shards_lib.find_shards(tfrecords_dir)
      items = (p | "Shards" >> beam.Create(shard_paths)
               # tf.data, not Beam's TFRecord source: that one needs a CRC
               # package (crcmod, google-crc32c) the beam extra lacks.
               | "Spread shards" >> beam.Reshuffle()
               | "Images" >> beam.FlatMap(embedding_records.shard_images))
      names = (items | "Name" >> beam.Map(lambda item: item[2])
               | "Distinct" >> beam.Distinct()
               | "AllNames" >> beam.combiners.ToList())
      model_input = model_crop.ModelInput.of(metadata)
      prepared = (items | "Spread" >> beam.Reshuffle()
                  | "Decode" >> beam.FlatMap(_decoded, model_input)
                  .with_outputs("skipped", "no_face", main="inputs"))
    embedded = (
        prepared.inputs
        | "Embed" >> RunInference(handler)
        | "ByShard" >> beam.Map(lambda kv: (kv[0][0][0] % num_shards, (
            kv[0], np.asarray(kv[1].inference, np.float32)))))
    every_shard = p | "EveryShard" >> beam.Create(
        [(shard, None) for shard in range(num_shards)])
    written = (
        (embedded, every_shard) | "All" >> beam.Flatten()
        | "Group" >> beam.GroupByKey()
        | "Write" >> beam.MapTuple(lambda shard, rows: embedding_shards
                                   .write_shard(output_dir, shard, num_shards,
                                                [r for r in rows if r is not None])))
    run_info = {"runner": "beam", "pipeline_args": list(pipeline_args),
                "source": "tfrecords" if images_dir is None else
                          ("aligned" if aligned else "photos")}
    _ = (p | "Manifest" >> beam.Create([None])
         | "WriteManifest" >> beam.Map(
             lambda _, shards, names, no_face, skipped: embedding_shards
             .write_manifest(output_dir, shards, names, no_face, skipped,
                             metadata, run_info),
             beam.pvalue.AsList(written), beam.pvalue.AsSingleton(names),
             beam.pvalue.AsList(prepared.no_face),
             beam.pvalue.AsList(prepared.skipped)))
  manifest = embedding_shards.read_manifest(output_dir)
  if not manifest["rows"]:
    raise FileNotFoundError(
        f"Nothing embedded in {images_dir or tfrecords_dir}: "
        f"{len(manifest['no_face'])} photos without a face, "
        f"{len(manifest['skipped'])} unreadable (listed in {output_dir}/"
        f"{embedding_shards.MANIFEST_FILE})")
  return manifest
