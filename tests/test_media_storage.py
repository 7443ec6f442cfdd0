"""The local picture store: private files written whole or not at all, under random
names that can never be a path anywhere else."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from flaskr.media import storage
from flaskr.media.storage import LocalStore, StorageError, StorageFull


@pytest.fixture
def store(tmp_path) -> LocalStore:
    return LocalStore(str(tmp_path / "media"))


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_file_is_kept_private_given_back_and_deleted(store):
    name = storage.new_name("png")
    store.put(name, b"picture bytes")
    assert store.get(name) == b"picture bytes"
    assert _mode(store.folder) == 0o700 and _mode(store.path(name)) == 0o600
    store.delete(name)
    assert store.get(name) is None
    store.delete(name)  # twice is fine
    assert os.listdir(store.folder) == []


def test_new_names_are_random_and_valid():
    names = {storage.new_name("webp") for _ in range(50)}
    assert len(names) == 50
    assert all(storage.check_name(name) == name for name in names)


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "../" + "a" * 20 + ".png",
        "a" * 20 + ".png/../x",
        "short.png",  # not one flaskr gives
        "a" * 20 + ".svg",  # not a format flaskr writes
        "a" * 20 + ".html",
        "a" * 20 + ".PNG",
        "a" * 20 + ".png\n",
        "/abs/" + "a" * 20 + ".png",
    ],
)
def test_a_name_flaskr_could_not_have_given_is_refused_everywhere(store, name):
    for call in (store.path, store.get, store.delete, lambda n: store.put(n, b"x")):
        with pytest.raises(ValueError):
            call(name)


def test_a_full_disk_leaves_no_file_and_says_so(store, monkeypatch):
    name = storage.new_name("jpg")
    written = []

    def full(fd, data):
        if written:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(len(data))
        return 10  # part of it went in, then the disk filled

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StorageFull):
        store.put(name, b"0123456789" * 100)
    monkeypatch.undo()
    assert os.listdir(store.folder) == []  # neither the name nor a .part file


def test_a_failed_rename_keeps_the_old_file_whole(store, monkeypatch):
    name = storage.new_name("gif")
    store.put(name, b"the first version")

    def broken(_source, _target):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(StorageError) as raised:
        store.put(name, b"a second version")
    assert not isinstance(raised.value, StorageFull)
    monkeypatch.undo()
    assert store.get(name) == b"the first version"
    assert os.listdir(store.folder) == [name]
