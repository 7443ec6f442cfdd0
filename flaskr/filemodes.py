"""Files and folders flaskr owns are for its own user only: 0600 and 0700."""

from __future__ import annotations

import logging
import os
import stat

FILE_MODE = 0o600
FOLDER_MODE = 0o700

log = logging.getLogger(__name__)


def private_folder(path: str) -> None:
    """Create the folder (and missing parents) as 0700; an existing folder is left as it is."""
    # Only folders made here: DATABASE may point into a folder shared with
    # other software, whose mode is not flaskr's to change.
    os.makedirs(path, mode=FOLDER_MODE, exist_ok=True)


def private_file(path: str) -> None:
    """Create an empty file as 0600, or take group and other access away from an existing one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        tighten(path)
    else:
        os.close(fd)


def tighten(path: str) -> None:
    """Remove group and other access from a file flaskr made earlier with a looser mode."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    if not mode & 0o077:
        return
    try:
        os.chmod(path, mode & 0o700)
    except OSError as error:
        log.warning(
            "%s is readable by other users (mode %o) and can't be changed: %s",
            path,
            mode,
            error.strerror,
        )
    else:
        log.warning(
            "%s was readable by other users: mode changed from %o to %o", path, mode, mode & 0o700
        )
