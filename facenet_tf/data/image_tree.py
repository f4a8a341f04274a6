"""Walking image trees: symbolic links followed, loops cut, empty refused.

Every tool that reads a folder of photos lists it here, so they all agree:

  - symbolic links are followed, to folders (a subset of identities picked
    by linking them) and to files;
  - a folder link that points at one of its own ancestors (a loop) is not
    entered: walking never hangs and never lists a file twice through it;
  - hidden names (starting with ".") are left out;
  - a link whose target is missing is listed as a file: reading it fails
    with "no such file", a counted skip rather than a silent drop.

Two shapes:

  walk_files(root)    every file at any depth (data_pipelines.align)
  list_photos(root)   root/<identity>/<photo> (the identity is the folder)
                      and root/<photo> (unlabelled: identity "")

list_photos raises EmptyTreeError, naming the tree, when it holds no image.
"""
import os

from facenet_tf.data import reading

UNLABELLED = ""  # the identity of a photo directly under the tree's root


class EmptyTreeError(FileNotFoundError):
  """A tree holds no image: a user error naming the tree."""


def _visible_entries(folder):
  """os.DirEntry of `folder`'s non-hidden entries, sorted by name."""
  with os.scandir(folder) as entries:
    return sorted((e for e in entries if not e.name.startswith(".")),
                  key=lambda e: e.name)


def _is_folder(entry):
  """A folder or a link to one (a broken link is not)."""
  return entry.is_dir(follow_symlinks=True)


def walk_files(root):
  """Relative POSIX paths of every non-hidden file under `root`, any depth.

  Order: a folder's files (sorted), then each sub-folder's (sorted), as a
  sorted os.walk lists them. Links are followed; a folder that is, through
  links, one of the folders it is reached through or one of their
  ancestors (a loop) is not entered.
  """
  found = []

  def visit(folder, prefix, ancestors):
    entries = _visible_entries(folder)
    found.extend(prefix + e.name for e in entries if not _is_folder(e))
    for entry in entries:
      if not _is_folder(entry):
        continue
      real = os.path.realpath(entry.path)
      if not any(_contains(real, folder) for folder in ancestors):
        visit(entry.path, f"{prefix}{entry.name}/", ancestors | {real})

  visit(os.fspath(root), "", frozenset({os.path.realpath(root)}))
  return found


def _contains(outer, inner):
  """Whether real path `outer` is `inner` or one of its ancestors."""
  return os.path.commonpath([outer, inner]) == outer


def is_loop(folder, root):
  """Whether `folder` (under `root`) is, through links, `root` itself or
  one of its ancestors: listing it would list the tree again. A remote
  root (`scheme://`, read through tf.io.gfile) has no links: never."""
  if "://" in os.fspath(root):
    return False
  return _contains(os.path.realpath(folder), os.path.realpath(root))


def _is_image(name, extensions):
  return name.lower().endswith(tuple(extensions))


def list_photos(root, unlabelled=True, extensions=reading.IMAGE_EXTENSIONS):
  """(paths, identities) of the images of a tree, sorted.

  `root/<identity>/<image>` has its folder's name as identity;
  `root/<image>` is unlabelled (identity UNLABELLED, ""), so a flat folder
  of photos is a tree too; `unlabelled` False leaves such photos out (for
  tools that need every photo's identity). Unlabelled photos come first,
  then identities sorted by name, each's files sorted. Only files with one
  of `extensions` (case-insensitive) count. An identity folder that is a
  link to the root or to one of its ancestors (a loop) is left out.

  Raises:
    FileNotFoundError: `root` is not a directory.
    EmptyTreeError: it holds no image (that counts), naming it.
  """
  if not os.path.isdir(root):
    raise FileNotFoundError(f"Images directory {root} does not exist.")
  root = os.path.abspath(root)
  paths, identities = [], []
  entries = _visible_entries(root)
  for entry in entries:
    if (unlabelled and not _is_folder(entry)
        and _is_image(entry.name, extensions)):
      paths.append(entry.path)
      identities.append(UNLABELLED)
  for entry in entries:
    if not _is_folder(entry) or is_loop(entry.path, root):
      continue  # a loop would list the root's photos under another name
    for photo in _visible_entries(entry.path):
      if not _is_folder(photo) and _is_image(photo.name, extensions):
        paths.append(photo.path)
        identities.append(entry.name)
  if not paths:
    what, shapes = ("images", f"{root}/<photo> or ") if unlabelled else (
        "identity folder with images", "")
    raise EmptyTreeError(f"No {what} ({', '.join(extensions)}) in {root}: "
                         f"expected {shapes}{root}/<identity>/<photo>.")
  return paths, identities
