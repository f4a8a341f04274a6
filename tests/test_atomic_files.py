"""atomic_files: an interrupted write leaves the old file or directory."""
import json
import os
import pathlib
import signal
import subprocess
import sys

import pytest

from facenet_tf import atomic_files

ROOT = pathlib.Path(__file__).resolve().parents[1]


class _Interrupted(Exception):
  pass


@pytest.mark.unit
@pytest.mark.parametrize("mode, new", [("w", "new text"), ("wb", b"new")])
def test_an_exception_mid_write_leaves_the_old_file(tmp_path, mode, new):
  path = tmp_path / "file"
  path.write_text("old")
  with pytest.raises(_Interrupted):
    with atomic_files.open_for_write(path, mode) as f:
      f.write(new)
      raise _Interrupted
  assert path.read_text() == "old"
  assert os.listdir(tmp_path) == ["file"]  # the temporary is gone


@pytest.mark.unit
def test_writes_replace_and_create(tmp_path):
  path = tmp_path / "value.json"
  atomic_files.write_json(path, {"a": [1, 2]}, indent=1)
  assert json.loads(path.read_text()) == {"a": [1, 2]}
  assert path.read_text().endswith("]\n}\n")
  atomic_files.write_text(path, "é")
  assert path.read_bytes() == "é".encode()
  atomic_files.write_bytes(str(path), b"\x00\xff")
  assert path.read_bytes() == b"\x00\xff"
  assert os.listdir(tmp_path) == ["value.json"]
  with pytest.raises(ValueError, match="mode"):
    with atomic_files.open_for_write(path, "a"):
      pass


@pytest.mark.integration
def test_a_killed_writer_leaves_the_old_file_and_a_marked_temporary(tmp_path):
  """SIGKILL mid-write: no cleanup runs, so the temporary stays, hidden and
  recognisable by is_temporary; the target still holds the old bytes."""
  path = tmp_path / "file"
  path.write_text("old")
  writer = subprocess.Popen(
      [sys.executable, "-c",
       "import sys, time\n"
       "from facenet_tf import atomic_files\n"
       f"with atomic_files.open_for_write({str(path)!r}) as f:\n"
       "  f.write('half'); f.flush(); print('writing', flush=True)\n"
       "  time.sleep(60)\n"],
      cwd=ROOT, stdout=subprocess.PIPE, text=True)
  assert writer.stdout.readline() == "writing\n"
  os.kill(writer.pid, signal.SIGKILL)
  writer.wait()
  assert path.read_text() == "old"
  leftovers = sorted(set(os.listdir(tmp_path)) - {"file"})
  assert len(leftovers) == 1 and atomic_files.is_temporary(leftovers[0])
  assert (tmp_path / leftovers[0]).read_text() == "half"
  assert not atomic_files.is_temporary("file")


@pytest.mark.unit
def test_staged_directory_replaces_or_keeps_the_old_one(tmp_path):
  target = tmp_path / "out"
  target.mkdir()
  (target / "old.txt").write_text("old")
  with pytest.raises(_Interrupted):
    with atomic_files.staged_directory(target) as staging:
      (pathlib.Path(staging) / "new.txt").write_text("new")
      raise _Interrupted
  assert os.listdir(target) == ["old.txt"]
  with atomic_files.staged_directory(target) as staging:
    (pathlib.Path(staging) / "new.txt").write_text("new")
  assert os.listdir(target) == ["new.txt"]
  with atomic_files.staged_directory(tmp_path / "a" / "fresh") as staging:
    (pathlib.Path(staging) / "x").write_text("x")
  assert sorted(os.listdir(tmp_path)) == ["a", "out"]  # nothing left over
