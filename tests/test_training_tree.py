"""data_pipelines.training_tree: sources merged without name collisions."""
import json

import pytest

from data_pipelines import training_tree
from facenet_tf.alignment import spec as spec_lib

SPEC = spec_lib.AlignmentSpec("landmarks", 128)


def _aligned(root, identities, spec=SPEC, fallback=()):
  """A fake aligner output: <identity>/<i>.png files, spec and summary."""
  for name, count in identities.items():
    (root / name).mkdir(parents=True)
    for i in range(count):
      (root / name / f"{name}_{i + 1:04d}.png").write_bytes(b"png")
  if spec is not None:
    spec_lib.write(spec, root)
  (root / "align_summary.json").write_text(json.dumps(
      {"no_face_files": [f.replace(".png", ".jpg") for f in fallback]}))
  return root


@pytest.mark.unit
def test_same_folder_name_in_two_sources_stays_two_identities(tmp_path):
  lfw = _aligned(tmp_path / "lfw", {"Ann": 3, "Bob": 1},
                 fallback=["Ann/Ann_0002.png"])
  other = _aligned(tmp_path / "other", {"Ann": 2})
  summary = training_tree.build(tmp_path / "tree",
                                {"lfw": lfw, "other": other})
  tree = tmp_path / "tree"
  folders = sorted(p.name for p in tree.iterdir() if p.is_dir())
  assert folders == ["lfw.Ann", "lfw.Bob", "other.Ann"]
  # The fallback crop (no face found) is not a training image.
  assert sorted(p.name for p in (tree / "lfw.Ann").iterdir()) == [
      "Ann_0001.png", "Ann_0003.png"]
  assert (tree / "lfw.Ann" / "Ann_0001.png").resolve() == (
      lfw / "Ann" / "Ann_0001.png").resolve()
  assert summary["per_source"]["lfw"] == {
      "identities": 2, "images": 3, "fallback_skipped": 1,
      "filtered_identities": 0}
  assert (summary["identities"], summary["images"]) == (3, 5)
  assert spec_lib.read(tree) == SPEC
  assert json.loads((tree / training_tree.SUMMARY_NAME).read_text()) == (
      json.loads(json.dumps(summary)))


@pytest.mark.unit
def test_people_filter_and_identity_fraction(tmp_path):
  lfw = _aligned(tmp_path / "lfw", {"Ann": 2, "Bob": 2, "Cy": 2, "Di": 2})
  people = tmp_path / "people.txt"
  people.write_text("3\nAnn 2\nBob 2\nCy 2\n")
  summary = training_tree.build(tmp_path / "a", {"lfw": lfw},
                                {"lfw": people})
  assert summary["identities"] == 3
  assert summary["per_source"]["lfw"]["filtered_identities"] == 1
  half = training_tree.build(tmp_path / "b", {"lfw": lfw},
                             identity_fraction=0.5, seed=3)
  again = training_tree.build(tmp_path / "c", {"lfw": lfw},
                              identity_fraction=0.5, seed=3)
  names = lambda d: sorted(p.name for p in d.iterdir() if p.is_dir())
  assert half["identities"] == 2
  assert names(tmp_path / "b") == names(tmp_path / "c")  # seeded


@pytest.mark.unit
@pytest.mark.parametrize("problem, message", [
    ("spec", "aligned differently"), ("nonempty", "not empty"),
    ("people", "names no --source"), ("fraction", "identity_fraction"),
    ("dot", "no dots")])
def test_bad_requests_say_why(tmp_path, problem, message):
  a = _aligned(tmp_path / "a", {"Ann": 2})
  b = _aligned(tmp_path / "b", {"Bob": 2},
               spec=spec_lib.AlignmentSpec("box", 182))
  kwargs = {"sources": {"a": a}}
  if problem == "spec":
    kwargs["sources"] = {"a": a, "b": b}
  elif problem == "nonempty":
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("")
  elif problem == "people":
    kwargs["people"] = {"zz": tmp_path / "people.txt"}
  elif problem == "fraction":
    kwargs["identity_fraction"] = 0.0
  else:
    kwargs["sources"] = {"a.b": a}
  with pytest.raises(training_tree.TreeError, match=message):
    training_tree.build(tmp_path / "out", **kwargs)


@pytest.mark.unit
def test_cli_exits_2_with_the_message(tmp_path, capsys):
  with pytest.raises(SystemExit) as exit_info:
    training_tree.main(["--output_dir", str(tmp_path / "o"),
                        "--source", "nonsense"])
  assert exit_info.value.code == 2
  assert "NAME=PATH" in capsys.readouterr().err
