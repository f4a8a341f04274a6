"""Atomic writes: a reader sees the old file (or directory) or the new one.

Every write goes to a hidden temporary sibling in the same directory,
`.<name>.tmp-<pid>-<random>`, which replaces the target by one rename
(`os.replace`, atomic within a POSIX file system) only once the writer has
finished. An exception removes the temporary and leaves the old file as it
was. A killed process (SIGKILL) can leave a temporary behind; a resumable job
recognises it with `is_temporary` and removes it. No fsync: this guards
against a crashed or killed writer, not against power loss.

This module imports nothing of facenet_tf, so every layer may use it.
"""
import contextlib
import json
import os
import secrets
import shutil
import warnings

TEMPORARY_MARK = ".tmp-"
_OLD_MARK = ".old-"


def temporary_sibling(path, mark=TEMPORARY_MARK):
  """A new hidden name beside `path`: `.<name><mark><pid>-<random>`."""
  directory, name = os.path.split(os.path.abspath(os.fspath(path)))
  return os.path.join(
      directory, f".{name}{mark}{os.getpid()}-{secrets.token_hex(4)}")


def is_temporary(name):
  """Whether a file name is one of temporary_sibling's."""
  return name.startswith(".") and TEMPORARY_MARK in name


@contextlib.contextmanager
def open_for_write(path, mode="w"):
  """A new file ("w": UTF-8 text, "wb": bytes) that replaces `path` when
  the `with` block ends without an exception; yields the file object."""
  if mode not in ("w", "wb"):
    raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
  path = os.fspath(path)
  temporary = temporary_sibling(path)
  try:
    with open(temporary, mode, encoding="utf-8" if mode == "w" else None) as f:
      yield f
    os.replace(temporary, path)
  finally:
    if os.path.lexists(temporary):
      os.remove(temporary)


def write_text(path, text):
  with open_for_write(path, "w") as f:
    f.write(text)


def write_bytes(path, data):
  with open_for_write(path, "wb") as f:
    f.write(data)


def write_json(path, value, **dump_args):
  """`value` as JSON text (json.dumps' keyword arguments) and a newline."""
  write_text(path, json.dumps(value, **dump_args) + "\n")


@contextlib.contextmanager
def staged_directory(path):
  """Yields a new empty directory that replaces `path` (absent or a
  directory) when the `with` block ends without an exception.

  Two renames: a reader sees the old directory, then briefly none, then the
  new one; never a partial one (POSIX has no atomic directory swap). An
  exception removes the staging directory and leaves the old one. Assumes
  one writer at a time per `path`.
  """
  path = os.path.abspath(os.fspath(path))
  os.makedirs(os.path.dirname(path), exist_ok=True)
  staging = temporary_sibling(path)
  os.mkdir(staging)
  try:
    yield staging
    _swap_in(staging, path)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise


def _swap_in(staging, path):
  if not os.path.lexists(path):
    os.rename(staging, path)
    return
  old = temporary_sibling(path, _OLD_MARK)
  os.rename(path, old)
  try:
    os.rename(staging, path)
  except BaseException:
    os.rename(old, path)
    raise
  try:
    shutil.rmtree(old)
  except OSError as error:
    warnings.warn(f"Wrote {path}, but its previous version, moved to {old}, "
                  f"could not be removed: {error}")
