"""Shared fixtures: the read-only ../shared directory, skipped when absent."""
import os
import pathlib

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared"


def shared_path(*parts):
  """Path under ../shared, or skip the test saying why (a user's clone has none)."""
  path = SHARED.joinpath(*parts)
  if not path.exists():
    pytest.skip(f"{path} is absent: ../shared (data, oracles) ships only with "
                "the project's workspace and CI")
  return path
