"""data_pipelines.align --runner beam equals the local runner (issue #16).

The input tree is test_align's: 6 LFW photos, a grey PGM, a blank image (no
face), an undecodable file and a two-face image. Both runners align it with
the same spec; the Beam run is the DirectRunner in this process.
"""
import numpy as np
from PIL import Image
import pytest

from data_pipelines import align
from data_pipelines.align_worker import AlignOptions
from tests.test_align import _written
from tests.test_align import input_tree  # noqa: F401  (a fixture)

pytest.importorskip("apache_beam", reason="apache-beam is the beam extra")

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def both(input_tree):  # noqa: F811
  out = input_tree.parent
  local = align.align_dataset(input_tree, out / "local", AlignOptions())
  beam = align.align_dataset(input_tree, out / "beam", AlignOptions(),
                             num_workers=None, runner="beam")
  return out / "local", local, out / "beam", beam


def test_same_files_and_crops(both):
  local_dir, _, beam_dir, _ = both
  files = _written(local_dir)
  assert files == _written(beam_dir)
  assert len(files) == 8  # the 6 photos, the PGM and the group photo
  for relative in files:
    want = np.asarray(Image.open(local_dir / relative), np.int16)
    got = np.asarray(Image.open(beam_dir / relative), np.int16)
    assert got.shape == want.shape, relative
    assert np.abs(got - want).max() <= 1, relative  # PNG: lossless
  assert not (beam_dir / "align_log.jsonl").read_text().count(".beam_records")
  assert not list(beam_dir.glob(".beam_records*"))  # scratch removed


def test_same_summary(both):
  _, local, _, beam = both
  assert beam["counts"] == local["counts"]
  assert local["counts"]["no_face"] == 1
  assert local["counts"]["undecodable"] == 1
  assert local["counts"]["multiple_faces"] == 1
  assert sorted(beam["no_face_files"]) == sorted(local["no_face_files"])
  assert beam["undecodable_files"] == local["undecodable_files"]
  assert beam["runner"]["runner"] == "beam"


def test_beam_rerun_skips_done_crops_and_retries_the_rest(both, input_tree):  # noqa: F811,E501
  _, _, beam_dir, first = both
  again = align.align_dataset(input_tree, beam_dir, AlignOptions(),
                              num_workers=None, runner="beam")
  assert again["this_run"] == {  # the blank and the broken file retried
      "processed": 2, "skipped_done": first["counts"]["aligned"]}
  assert again["counts"] == first["counts"]  # the whole tree's (#31 item 12)


@pytest.mark.parametrize("flags, message", [
    (["--runner", "beam", "--num_workers", "2"], "is for --runner local"),
    (["--", "--direct_num_workers=2"], "are for --runner beam"),
])
def test_runner_flag_errors_exit_2(input_tree, tmp_path, capsys, flags,  # noqa: F811,E501
                                   message):
  with pytest.raises(SystemExit) as exit_info:
    align.main(["--input_dir", str(input_tree), "--output_dir",
                str(tmp_path / "o"), *flags])
  assert exit_info.value.code == 2
  assert message in capsys.readouterr().err
