"""ExportMetadata and Thresholds: round trips, the old dict format, checks.

Fixture values: a 64 x 56 RGB `tiny` export trained on landmarks-aligned
faces, with thresholds as calibration.thresholds_from_distances makes them
from 6 distances (3 same pairs at 0.2-0.6, 3 different at 1.0-1.4: the best
split lies between 0.6 and 1.0, midpoint 0.8).
"""
import dataclasses
import json
import os

import numpy as np
import pytest

from facenet_tf import export_metadata
from facenet_tf import pretrained
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.evaluation import calibration

ExportMetadata = export_metadata.ExportMetadata


def _thresholds():
  return calibration.thresholds_from_distances(
      np.array([0.2, 0.4, 0.6, 1.0, 1.2, 1.4]),
      np.array([True, True, True, False, False, False]), source="/p.txt")


def _metadata(**changes):
  fields = dict(architecture="tiny", image_size=(64, 56), channels=3,
                embedding_dim=128, alignment=spec_lib.AlignmentSpec(),
                thresholds=_thresholds(), encoded_resize="as export.py says")
  return ExportMetadata(**{**fields, **changes})


@pytest.mark.unit
def test_calibrated_thresholds_are_typed():
  thresholds = _thresholds()
  assert thresholds.accuracy == pytest.approx(0.8)
  assert thresholds.calibration_accuracy == 1.0
  # The pairs in words, never a path (#31 item 9).
  assert (thresholds.pairs, thresholds.num_pairs) == ("the pairs of p.txt", 6)
  assert export_metadata.Thresholds.from_dict(
      thresholds.to_dict()) == thresholds


@pytest.mark.unit
@pytest.mark.parametrize("format_,quantization", [
    ("savedmodel", "float"), ("litert", "int8"), ("onnx", "float")])
def test_round_trip_through_json(format_, quantization):
  metadata = _metadata().converted(format_, quantization)
  again = ExportMetadata.from_json(metadata.to_json())
  assert again == metadata
  assert isinstance(again.alignment, spec_lib.AlignmentSpec)
  assert isinstance(again.thresholds, export_metadata.Thresholds)
  assert again.image_size == (64, 56)
  assert ("encoded_images" in again.signatures) == (format_ == "savedmodel")
  without = dataclasses.replace(metadata, alignment=None, thresholds=None)
  assert ExportMetadata.from_dict(without.to_dict()) == without


@pytest.mark.unit
def test_the_packaged_model_reads_and_writes_its_own_dict(tmp_path):
  """The reference model's JSON reads back key for key; the same JSON as
  exports before the class wrote it (no `format`, `quantization`) reads as
  a float SavedModel and writes every older key back with its value."""
  path = export_metadata.saved_model_metadata_path(
      pretrained.reference_model_path())
  with open(path, encoding="utf-8") as f:
    written = json.load(f)
  metadata = export_metadata.read(pretrained.reference_model_path())
  assert metadata.alignment.name == pretrained.reference_figures()["alignment"]
  assert metadata.thresholds.accuracy == written["thresholds"]["accuracy"]
  assert metadata.to_dict() == written
  older = {k: v for k, v in written.items()
           if k not in ("format", "quantization")}
  old_export = tmp_path / "old" / "assets.extra"
  old_export.mkdir(parents=True)
  (old_export / os.path.basename(path)).write_text(json.dumps(older))
  metadata = export_metadata.read(str(tmp_path / "old"))
  assert (metadata.format, metadata.quantization) == ("savedmodel", "float")
  assert metadata.to_dict().items() >= older.items()


@pytest.mark.unit
@pytest.mark.parametrize("changes,message", [
    ({"channels": 2}, "channels"),
    ({"image_size": (64,)}, "image_size"),
    ({"embedding_dim": 0}, "embedding_dim"),
    ({"format": "tfjs"}, "format"),
    ({"format": "onnx", "quantization": "int8"}, "quantization"),
    ({"distance": "cosine"}, "distance"),
])
def test_invalid_fields_are_refused(changes, message):
  with pytest.raises(ValueError, match=message):
    _metadata(**changes)


@pytest.mark.unit
@pytest.mark.parametrize("edit,message", [
    (lambda d: d.update(format_version=2), "version 2"),
    (lambda d: d.update(colour="RGB"), "unknown fields"),
    (lambda d: d["thresholds"].update(accuracy=float("nan")), "finite"),
    (lambda d: d["thresholds"].update(target_far=0), "target_far"),
    (lambda d: d["alignment"].update(name="box-m44-128px-v1"), "name"),
])
def test_bad_dicts_are_refused(edit, message):
  value = _metadata().to_dict()
  edit(value)
  with pytest.raises(ValueError, match=message):
    ExportMetadata.from_dict(value)


@pytest.mark.unit
def test_read_names_a_missing_or_newer_export(tmp_path):
  with pytest.raises(ValueError, match="not a facenet_tf export"):
    export_metadata.read(tmp_path)
  path = export_metadata.saved_model_metadata_path(tmp_path)
  (tmp_path / export_metadata.METADATA_DIR).mkdir()
  with open(path, "w", encoding="utf-8") as f:
    json.dump(dict(_metadata().to_dict(), format_version=9), f)
  with pytest.raises(ValueError, match=f"{tmp_path}: .*version 9"):
    export_metadata.read(tmp_path)


@pytest.mark.unit
def test_default_threshold_reads_the_typed_thresholds():
  metadata = _metadata()
  threshold, source = calibration.default_threshold(metadata, "far")
  assert threshold == metadata.thresholds.far
  assert source == "FAR 1e-3 on the pairs of p.txt"
  assert calibration.default_threshold(
      dataclasses.replace(metadata, thresholds=None))[0] == 1.1
  assert calibration.default_threshold(None)[0] == 1.1


@pytest.mark.unit
def test_own_thresholds_on_other_pairs():
  """facenet-eval's check of an export's calibration on new pairs. Same
  pairs at 0.5 and 0.9, different at 0.7 and 1.1; thresholds accuracy 0.8
  (the fixture's) and FAR 0.6: at 0.8, 0.5 and 0.7 are called same, so
  2 of 4 calls are right; at 0.6 only 0.5 is accepted: VAL 1/2, FAR 0."""
  thresholds = dataclasses.replace(_thresholds(), far=0.6)
  got = calibration.at_thresholds([0.5, 0.9, 0.7, 1.1],
                                  [True, True, False, False], thresholds)
  assert got == {"accuracy_threshold": 0.8, "accuracy": 0.5,
                 "far_threshold": 0.6, "target_far": 1e-3, "far": 0.0,
                 "val": 0.5, "calibrated_on": "the pairs of p.txt"}
  # At 0.8 the different pair at 0.7 is accepted too: FAR 1/2.
  loose = calibration.at_thresholds([0.5, 0.9, 0.7, 1.1],
                                    [True, True, False, False],
                                    dataclasses.replace(thresholds, far=0.8))
  assert (loose["far"], loose["val"]) == (0.5, 0.5)
