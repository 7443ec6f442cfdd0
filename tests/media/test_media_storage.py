"""The picture stores, local folder and S3 bucket (moto's server on loopback): files
written whole or not at all, originals kept apart from public files, names that can
never be a path or key anywhere else, and failures that always say StorageError."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import socket
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from botocore.stub import Stubber
from faults import silent_server, within
from s3server import (  # noqa: F401 - the *_fixture functions are the fixtures s3_endpoint, s3_store
    new_bucket_name,
    s3_endpoint_fixture,
    s3_settings,
    s3_store_fixture,
)
from servers import free_port

from flaskr.media import storage
from flaskr.media.storage import (
    LocalStore,
    S3Store,
    StorageError,
    StorageFull,
    open_store,
)

# What these tests check is the same on every database: CI runs them once, on SQLite.
pytestmark = pytest.mark.db_independent

#: Every way a name could escape the store, or be one flaskr never gives.
BAD_NAMES = [
    "../../etc/passwd",
    "../" + "a" * 20 + ".png",
    "a" * 20 + ".png/../x",
    "short.png",  # not one flaskr gives
    "a" * 20 + ".svg",  # not a format flaskr writes
    "a" * 20 + ".html",
    "a" * 20 + ".PNG",
    "a" * 20 + ".png\n",
    "/abs/" + "a" * 20 + ".png",
    "public/" + "a" * 20 + ".png",  # a key under another prefix
]


@pytest.fixture
def local_store(tmp_path) -> LocalStore:
    return LocalStore(str(tmp_path / "media"))


@pytest.fixture(params=["local", "s3"])
def store(request) -> LocalStore | S3Store:
    return request.getfixturevalue(f"{request.param}_store")


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@contextlib.contextmanager
def _touches(store) -> Iterator[Callable[[], bool]]:
    """While open: whether the store has touched its disk or sent a request."""
    if isinstance(store, LocalStore):
        yield lambda: os.path.lexists(store.folder)
        return
    sent: list[object] = []

    def record(request, **_kwargs) -> None:
        sent.append(request)

    store.client.meta.events.register("before-send", record)
    try:
        yield lambda: bool(sent)
    finally:
        store.client.meta.events.unregister("before-send", record)


# --- both stores --------------------------------------------------------------


@pytest.mark.parametrize("public", [True, False])
def test_a_file_is_kept_given_back_replaced_and_deleted(store, public):
    name = storage.new_name("png")
    store.put(name, b"picture bytes", "image/png", public=public)
    assert store.get(name, public=public) == b"picture bytes"
    store.put(name, b"other bytes", "image/png", public=public)
    assert store.get(name, public=public) == b"other bytes"
    store.delete(name, public=public)
    assert store.get(name, public=public) is None
    store.delete(name, public=public)  # twice is fine
    assert list(store.names(public=public)) == []


def test_originals_and_public_files_are_kept_apart(store):
    original, variant = storage.new_name("jpg"), storage.new_name("webp")
    store.put(original, b"as uploaded", "image/jpeg", public=False)
    store.put(variant, b"re-encoded", "image/webp", public=True)
    assert store.get(original, public=True) is None
    assert store.get(variant, public=False) is None
    store.delete(original, public=True)  # the wrong kind: the original stays
    assert store.get(original, public=False) == b"as uploaded"
    assert list(store.names(public=True)) == [variant]
    assert list(store.names(public=False)) == [original]


def test_names_lists_every_stored_file_of_one_kind(store):
    public = {storage.new_name("webp") for _ in range(3)}
    for name in public:
        store.put(name, b"x", "image/webp", public=True)
    store.put(storage.new_name("png"), b"x", "image/png", public=False)
    assert set(store.names(public=True)) == public
    assert len(list(store.names(public=False))) == 1


def test_new_names_are_random_and_valid():
    names = {storage.new_name("webp") for _ in range(50)}
    assert len(names) == 50
    assert all(storage.check_name(name) == name for name in names)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_flaskr_could_not_have_given_is_refused_before_any_io(store, name):
    calls = [
        lambda n: store.put(n, b"x", "image/png", public=True),
        lambda n: store.put(n, b"x", "image/png", public=False),
        store.public_url,
    ]
    for public in (True, False):
        calls += [
            lambda n, p=public: store.get(n, public=p),
            lambda n, p=public: store.delete(n, public=p),
        ]
        if isinstance(store, LocalStore):
            calls.append(lambda n, p=public: store.path(n, public=p))
    with _touches(store) as touched:
        for call in calls:
            with pytest.raises(ValueError):
                call(name)
        assert not touched()


# --- the local folder -----------------------------------------------------------


def test_local_files_are_private_and_where_flaskr_serves_them_from(local_store):
    original, variant = storage.new_name("png"), storage.new_name("png")
    local_store.put(original, b"as uploaded", "image/png", public=False)
    local_store.put(variant, b"re-encoded", "image/png", public=True)
    folder = local_store.folder
    assert local_store.path(variant, public=True) == os.path.join(folder, "public", variant)
    assert local_store.path(original, public=False) == os.path.join(folder, "originals", original)
    for path in (folder, os.path.join(folder, "public"), os.path.join(folder, "originals")):
        assert _mode(path) == 0o700
    for path in (local_store.path(variant, public=True), local_store.path(original, public=False)):
        assert _mode(path) == 0o600
    assert local_store.public_url(variant) is None and local_store.origin() is None


def test_local_names_skip_files_flaskr_did_not_name(local_store):
    name = storage.new_name("gif")
    local_store.put(name, b"x", "image/gif", public=True)
    leftover = local_store.path(name, public=True) + ".0123456789abcdef.part"
    with open(leftover, "wb"):
        pass  # what a write cut short by a crash leaves
    os.mkdir(os.path.join(local_store.folder, "public", storage.new_name("gif")))
    assert list(local_store.names(public=True)) == [name]
    assert list(LocalStore(local_store.folder + "-never-used").names(public=True)) == []


def test_a_full_disk_leaves_no_file_and_says_so(local_store, monkeypatch):
    name = storage.new_name("jpg")
    written = []

    def full(fd, data):
        if written:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(len(data))
        return 10  # part of it went in, then the disk filled

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StorageFull):
        local_store.put(name, b"0123456789" * 100, "image/jpeg", public=True)
    monkeypatch.undo()
    assert os.listdir(os.path.join(local_store.folder, "public")) == []  # nor a .part file


def test_a_failed_rename_keeps_the_old_file_whole(local_store, monkeypatch):
    name = storage.new_name("gif")
    local_store.put(name, b"the first version", "image/gif", public=False)

    def broken(_source, _target):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(StorageError) as raised:
        local_store.put(name, b"a second version", "image/gif", public=False)
    assert not isinstance(raised.value, StorageFull)
    monkeypatch.undo()
    assert local_store.get(name, public=False) == b"the first version"
    assert os.listdir(os.path.join(local_store.folder, "originals")) == [name]


def test_a_failing_disk_says_storage_error(local_store):
    name = storage.new_name("png")
    # A folder where the file should be: reading or unlinking it fails (EISDIR).
    os.makedirs(local_store.path(name, public=True))
    for call in (
        lambda: local_store.get(name, public=True),
        lambda: local_store.delete(name, public=True),
        lambda: local_store.put(name, b"x", "image/png", public=True),
    ):
        with pytest.raises(StorageError):
            call()
    # A file where the folder should be: listing it fails (ENOTDIR).
    with open(os.path.join(local_store.folder, "originals"), "wb"):
        pass
    with pytest.raises(StorageError):
        list(local_store.names(public=False))


# --- the S3 bucket ----------------------------------------------------------------


def test_public_objects_are_served_inline_and_cached_forever(s3_store):
    variant, original = storage.new_name("webp"), storage.new_name("png")
    s3_store.put(variant, b"re-encoded", "image/webp", public=True)
    s3_store.put(original, b"as uploaded", "image/png", public=False)
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=f"public/{variant}")
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert head["ContentDisposition"] == "inline"
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=f"originals/{original}")
    assert head["ContentType"] == "image/png"
    assert "CacheControl" not in head and "ContentDisposition" not in head


def test_with_the_documented_policy_readers_fetch_public_files_and_never_originals(s3_endpoint):
    store = open_store(s3_settings(s3_endpoint, new_bucket_name()), "unused")
    store.client.create_bucket(Bucket=store.bucket)
    # What S3Store's docstring asks operators to do: the public/ prefix readable, no more.
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{store.bucket}/public/*",
    }
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    store.client.put_bucket_policy(Bucket=store.bucket, Policy=policy)
    name = storage.new_name("webp")
    store.put(name, b"re-encoded", "image/webp", public=True)
    store.put(name, b"as uploaded", "image/webp", public=False)
    url = store.public_url(name)
    assert url == f"{s3_endpoint}/{store.bucket}/public/{name}"  # path-style, no CDN set
    assert store.origin() == s3_endpoint
    with urllib.request.urlopen(url, timeout=5) as response:  # as a browser would
        assert response.read() == b"re-encoded"
        assert response.headers["Content-Type"] == "image/webp"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url.replace("/public/", "/originals/"), timeout=5)
    refused.value.close()
    assert refused.value.code == 403


def test_a_public_url_with_a_cdn_is_under_it(s3_endpoint):
    settings = s3_settings(
        s3_endpoint, "pictures", MEDIA_S3_PUBLIC_URL="https://cdn.example.org:8443/m/"
    )
    store = open_store(settings, "unused")
    name = storage.new_name("avif")
    assert store.public_url(name) == f"https://cdn.example.org:8443/m/public/{name}"
    assert store.origin() == "https://cdn.example.org:8443"


def test_names_reads_every_page_and_skips_keys_flaskr_did_not_write(s3_store, monkeypatch):
    monkeypatch.setattr(storage, "S3_LIST_PAGE_SIZE", 2)
    names = {storage.new_name("jpg") for _ in range(5)}
    for name in names:
        s3_store.put(name, b"x", "image/jpeg", public=True)
    for key in ("public/notes.txt", "public/sub/" + "a" * 20 + ".png", "elsewhere.png"):
        s3_store.client.put_object(Bucket=s3_store.bucket, Key=key, Body=b"x")
    assert set(s3_store.names(public=True)) == names


def _every_call(store: S3Store) -> list[Callable[[], object]]:
    name = storage.new_name("png")
    return [
        lambda: store.put(name, b"x", "image/png", public=True),
        lambda: store.get(name, public=True),
        lambda: store.delete(name, public=False),
        lambda: list(store.names(public=True)),
    ]


def test_a_missing_bucket_says_storage_error(s3_endpoint):
    store = open_store(s3_settings(s3_endpoint, new_bucket_name()), "unused")
    for call in _every_call(store):
        with pytest.raises(StorageError, match="NoSuchBucket"):
            call()


def test_an_unreachable_service_says_storage_error_quickly():
    nobody = f"http://127.0.0.1:{free_port()}"
    store = open_store(s3_settings(nobody, "pictures"), "unused")
    tries: list[object] = []
    store.client.meta.events.register("before-send", lambda request, **_: tries.append(request))
    for call in _every_call(store):
        tries.clear()
        with pytest.raises(StorageError, match="could not reach"):
            within(3, call)
        assert len(tries) == storage.S3_ATTEMPTS == 2  # one retry, then the request fails


def test_a_service_that_never_answers_says_storage_error_quickly(monkeypatch):
    monkeypatch.setattr(storage, "S3_READ_TIMEOUT", 0.5)
    with silent_server() as port:
        store = open_store(s3_settings(f"http://127.0.0.1:{port}", "pictures"), "unused")
        with pytest.raises(StorageError, match="could not reach"):
            within(5, _every_call(store)[1])


def test_a_host_that_never_completes_the_connection_says_storage_error_quickly(monkeypatch):
    monkeypatch.setattr(storage, "S3_CONNECT_TIMEOUT", 0.5)
    with socket.socket() as listener, socket.socket() as first:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        # The one connection the backlog holds: the kernel drops later handshakes unanswered.
        first.connect(("127.0.0.1", port))
        store = open_store(s3_settings(f"http://127.0.0.1:{port}", "pictures"), "unused")
        with pytest.raises(StorageError, match="could not reach"):
            within(5, _every_call(store)[0])


def test_no_credentials_anywhere_says_storage_error(s3_endpoint, monkeypatch, tmp_path):
    for variable in [key for key in os.environ if key.startswith("AWS_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no cloud to ask, and no wait
    settings = s3_settings(
        s3_endpoint, new_bucket_name(), MEDIA_S3_ACCESS_KEY_ID=None, MEDIA_S3_SECRET_ACCESS_KEY=None
    )
    store = open_store(settings, "unused")
    for call in _every_call(store):
        with pytest.raises(StorageError, match="Unable to locate credentials"):
            within(3, call)


def test_a_service_that_says_404_to_deleting_a_missing_key_is_fine(s3_endpoint):
    # S3 itself answers 204; Google Cloud Storage, for one, answers 404.
    store = open_store(s3_settings(s3_endpoint, new_bucket_name()), "unused")
    with Stubber(store.client) as stub:
        stub.add_client_error("delete_object", "NoSuchKey", http_status_code=404)
        store.delete(storage.new_name("png"), public=True)
        stub.assert_no_pending_responses()


def test_a_used_up_quota_says_storage_full(s3_endpoint):
    store = open_store(s3_settings(s3_endpoint, new_bucket_name()), "unused")
    with Stubber(store.client) as stub:
        stub.add_client_error("put_object", "QuotaExceeded", http_status_code=403)
        with pytest.raises(StorageFull):
            store.put(storage.new_name("png"), b"x", "image/png", public=True)


# --- choosing the store ---------------------------------------------------------


def test_the_local_store_is_in_the_instance_folder_unless_set(tmp_path):
    store = open_store({"MEDIA_STORE": "local", "MEDIA_FOLDER": None}, str(tmp_path))
    assert isinstance(store, LocalStore) and store.folder == str(tmp_path / "media")
    store = open_store({"MEDIA_FOLDER": str(tmp_path / "elsewhere")}, str(tmp_path))
    assert isinstance(store, LocalStore) and store.folder == str(tmp_path / "elsewhere")


def test_a_local_site_never_loads_boto3(tmp_path):
    code = (
        "import sys; from flaskr.media.storage import open_store; "
        f"open_store({{'MEDIA_STORE': 'local'}}, {str(tmp_path)!r}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_s3_store_is_the_bucket_set(s3_endpoint):
    store = open_store(s3_settings(s3_endpoint, "pictures"), "unused")
    assert isinstance(store, S3Store) and store.bucket == "pictures"
    assert store.client.meta.endpoint_url == s3_endpoint


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"MEDIA_STORE": "ftp"}, "MEDIA_STORE must be 'local' or 's3', not 'ftp'"),
        ({"MEDIA_STORE": "s3"}, "MEDIA_S3_BUCKET is not set"),
        ({"MEDIA_STORE": "s3", "MEDIA_S3_BUCKET": ""}, "MEDIA_S3_BUCKET is not set"),
        (
            {"MEDIA_STORE": "s3", "MEDIA_S3_BUCKET": "b", "MEDIA_S3_ACCESS_KEY_ID": "id"},
            "MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY are set together",
        ),
        (
            {"MEDIA_STORE": "s3", "MEDIA_S3_BUCKET": "b", "MEDIA_S3_PUBLIC_URL": "cdn.example.org"},
            "MEDIA_S3_PUBLIC_URL must be an absolute http(s) URL",
        ),
    ],
)
def test_settings_that_make_no_store_are_refused_by_name(settings, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        open_store(settings, "unused")
