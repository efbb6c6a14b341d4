"""Atomic writes of files that mark something complete, and checking a folder is writable before work."""

import os
import tempfile
import uuid
from pathlib import Path

from harness.errors import InputError


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so a reader sees the old file or the whole new one, never a torn one.

    The text goes to a temporary file in the same folder (a rename is atomic only within one file
    system), is flushed to disk, then renamed over `path`: a kill at any moment leaves no half file.
    """
    # Named by hand, not by mkstemp, so the file gets the usual permissions (mkstemp's are owner-only).
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("x", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def ensure_writable(folder: Path, what: str) -> None:
    """Create `folder` if needed and prove a file can be written in it; else one line naming it.

    Checked before a run starts, so a read-only folder costs a second, not a whole run's answers.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".write-check-")
        os.close(handle)
        os.unlink(probe)
    except OSError as err:
        raise InputError(str(folder), f"{what} is not writable ({err.strerror or err})") from None
