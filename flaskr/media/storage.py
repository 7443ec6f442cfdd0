"""Where picture files live: a folder in the instance path (one server), written so that
a crash, a full disk or a failing write never leaves a partial file under a real name.

An object store (S3) for several servers will offer the same three operations.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets

from flaskr import filemodes
from flaskr.media.pipeline import FORMATS

#: Stored names are random, never the uploader's: letters, digits, - and _, then the
#: extension of a format flaskr writes. Nothing else is ever a path under the folder.
_NAME = re.compile(
    r"[A-Za-z0-9_-]{16,64}\.(?:" + "|".join(ext for _, ext in FORMATS.values()) + r")"
)


class StorageError(OSError):
    """The store could not keep or give back a file (the disk or the service failed)."""


class StorageFull(StorageError):
    """No room left: the upload is refused, nothing of it kept."""


def new_name(extension: str) -> str:
    """A fresh random stored name (128 bits) with the extension of its format."""
    name = f"{secrets.token_urlsafe(16)}.{extension}"
    check_name(name)
    return name


def check_name(name: str) -> str:
    """The name, if it is one flaskr could have given; else ValueError (no path tricks)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a stored picture's name: {name!r}")
    return name


class LocalStore:
    """Files in one private folder (0700), each 0600, written whole or not at all."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def path(self, name: str) -> str:
        """Where a stored file is on disk (for serving it)."""
        return os.path.join(self.folder, check_name(name))

    def put(self, name: str, data: bytes) -> None:
        """Keep data under name: written to a temporary file, flushed to disk, then renamed,
        so the name holds all of it or nothing. StorageFull / StorageError on failure,
        with no file left behind."""
        target = self.path(name)
        filemodes.private_folder(self.folder)
        temporary = f"{target}.{secrets.token_hex(8)}.part"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, filemodes.FILE_MODE)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, target)
        except OSError as error:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull(error.errno, "no room left for the picture") from error
            raise StorageError(
                error.errno, f"could not store the picture: {error.strerror}"
            ) from error

    def get(self, name: str) -> bytes | None:
        """A stored file's bytes, or None if there is no such file."""
        try:
            with open(self.path(name), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def delete(self, name: str) -> None:
        """Remove a stored file; one already gone is fine (deleting twice is not an error)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(name))
