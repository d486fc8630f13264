"""Whether a report can be written where it is asked for, said before a run rather than after
it as a traceback: kept apart from the runner, so that the pytest plugin can ask without
importing Schemathesis."""

from __future__ import annotations

import os
from pathlib import Path


def unwritable(path: Path) -> str | None:
    """Why a report cannot be written at `path` (its folder made first, if missing), or None."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder of the path should be: "File exists"
        file = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        return f"{file} is a file, not a folder" if file else exc.strerror or str(exc)
    if path.is_dir():
        return "that is a folder; name the file to write"
    if not os.access(path.parent, os.W_OK):
        return "its folder is not writable"
    return None
