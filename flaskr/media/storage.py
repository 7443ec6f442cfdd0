"""Where picture files live: a private folder in the instance path (one server) or an
S3-compatible bucket (several servers), both behind one interface, `Store`.

Each store keeps two kinds of file apart: public ones (the re-encoded variants readers
fetch) and originals (the uploads as received, never shown to anyone, kept only so the
variants can be made again). A file is written whole or not at all, and every failure
of the disk or the service comes out as StorageError.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from flaskr import filemodes
from flaskr.media.pipeline import FORMATS

#: Stored names are random, never the uploader's: letters, digits, - and _, then the
#: extension of a format flaskr writes. Nothing else is ever a path under the folder.
_NAME = re.compile(
    r"[A-Za-z0-9_-]{16,64}\.(?:" + "|".join(ext for _, ext in FORMATS.values()) + r")"
)

#: The two kinds of file, as folder names (LocalStore) and key prefixes (S3Store).
PUBLIC, ORIGINALS = "public", "originals"

#: S3: how long to wait for a connection and for an answer, and how many tries in all.
#: An outage then fails a request within seconds (503) instead of holding a worker.
S3_CONNECT_TIMEOUT = 5
S3_READ_TIMEOUT = 20
S3_ATTEMPTS = 2
#: Keys asked for per page when listing a bucket (1000 is S3's most).
S3_LIST_PAGE_SIZE = 1000
#: Error codes S3-compatible services give when a quota is used up (Ceph, MinIO).
_S3_FULL_CODES = frozenset({"QuotaExceeded", "XMinioStorageFull", "XMinioAdminBucketQuotaExceeded"})


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


class Store(Protocol):
    """What every picture store does; each raises StorageError when it cannot."""

    def put(self, name: str, data: bytes, content_type: str, *, public: bool) -> None:
        """Keep data under name, whole or not at all (StorageFull when there is no room)."""

    def get(self, name: str, *, public: bool) -> bytes | None:
        """A stored file's bytes, or None if there is no such file."""

    def delete(self, name: str, *, public: bool) -> None:
        """Remove a stored file; one already gone is fine."""

    def public_url(self, name: str) -> str | None:
        """Where browsers fetch a public file, or None when flaskr serves it itself."""

    def origin(self) -> str | None:
        """The scheme://host[:port] of public_url (for the CSP), None when flaskr serves."""

    def names(self, *, public: bool) -> Iterator[str]:
        """Every stored name of one kind (to find files no post uses any more)."""


def _kind(public: bool) -> str:
    return PUBLIC if public else ORIGINALS


class LocalStore:
    """Files under one private folder (0700): <folder>/public/<name> and
    <folder>/originals/<name>, each 0600. flaskr serves the public ones itself."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def path(self, name: str, *, public: bool) -> str:
        """Where a stored file is on disk (for serving it with send_file)."""
        return os.path.join(self.folder, _kind(public), check_name(name))

    def put(self, name: str, data: bytes, content_type: str, *, public: bool) -> None:
        """Keep data under name: written to a temporary file, flushed to disk, then renamed,
        so the name holds all of it or nothing. StorageFull / StorageError on failure,
        with no file left behind. (The content type is not kept: the extension says it.)"""
        target = self.path(name, public=public)
        temporary = f"{target}.{secrets.token_hex(8)}.part"
        try:
            # One call each: os.makedirs gives only the last folder the private mode.
            filemodes.private_folder(self.folder)
            filemodes.private_folder(os.path.dirname(target))
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

    def get(self, name: str, *, public: bool) -> bytes | None:
        """A stored file's bytes, or None if there is no such file."""
        path = self.path(name, public=public)
        with _disk_errors("read the picture"):
            try:
                with open(path, "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return None

    def delete(self, name: str, *, public: bool) -> None:
        """Remove a stored file; one already gone is fine (deleting twice is not an error)."""
        path = self.path(name, public=public)
        with _disk_errors("delete the picture"), contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    def public_url(self, name: str) -> str | None:
        """None: flaskr serves local files itself, from its own origin."""
        check_name(name)
        return None

    def origin(self) -> str | None:
        """None: local files come from flaskr's own origin."""
        return None

    def names(self, *, public: bool) -> Iterator[str]:
        """Every stored name of one kind; other files (a crashed write's .part) are skipped."""
        with _disk_errors("list the pictures"):
            try:
                entries = list(os.scandir(os.path.join(self.folder, _kind(public))))
            except FileNotFoundError:
                return
            for entry in entries:
                if _NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                    yield entry.name


@contextlib.contextmanager
def _disk_errors(doing: str) -> Iterator[None]:
    """Turn a failing disk into StorageError, as every store reports failures."""
    try:
        yield
    except OSError as error:
        raise StorageError(error.errno, f"could not {doing}: {error.strerror}") from error


class S3Store:
    """Objects in an S3-compatible bucket: public/<name> and originals/<name>.

    No ACL is set on any object: the operator makes the public/ prefix (and only it)
    readable by everyone with a bucket policy, so originals stay private. The
    credentials need s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket
    (without ListBucket, S3 answers a missing key with 403 instead of 404).
    """

    def __init__(self, bucket: str, *, client: Any, public_url: str) -> None:
        self.bucket = bucket
        self.client = client
        self.base_url = public_url.rstrip("/")

    def put(self, name: str, data: bytes, content_type: str, *, public: bool) -> None:
        """Keep data under name; one PUT, which S3 makes visible whole or not at all."""
        key = _key(name, public)
        # Public names are never reused for other bytes, so caches may keep them forever.
        headers = (
            {"CacheControl": "public, max-age=31536000, immutable", "ContentDisposition": "inline"}
            if public
            else {}
        )
        with _service_errors("store the picture"):
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **headers
            )

    def get(self, name: str, *, public: bool) -> bytes | None:
        """A stored object's bytes, or None if there is no such object."""
        key = _key(name, public)
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        with _service_errors("read the picture"):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if _missing_key(error):
                    return None
                raise
            with contextlib.closing(response["Body"]) as body:
                data: bytes = body.read()
                return data

    def delete(self, name: str, *, public: bool) -> None:
        """Remove a stored object; one already gone is fine."""
        key = _key(name, public)
        from botocore.exceptions import ClientError

        with _service_errors("delete the picture"):
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                # S3 itself says 204 for a missing key; some compatible services say 404.
                if not _missing_key(error):
                    raise

    def public_url(self, name: str) -> str | None:
        """The absolute URL readers' browsers fetch a public file from."""
        return f"{self.base_url}/{PUBLIC}/{check_name(name)}"

    def origin(self) -> str | None:
        """The scheme://host[:port] public files come from (for the CSP's img-src)."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def names(self, *, public: bool) -> Iterator[str]:
        """Every stored name of one kind; keys flaskr could not have written are skipped."""
        prefix = f"{_kind(public)}/"
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": S3_LIST_PAGE_SIZE}
        )
        with _service_errors("list the pictures"):
            for page in pages:
                for item in page.get("Contents", ()):
                    name = item["Key"].removeprefix(prefix)
                    if _NAME.fullmatch(name):
                        yield name


def _key(name: str, public: bool) -> str:
    return f"{_kind(public)}/{check_name(name)}"


def _missing_key(error: Any) -> bool:
    """Whether a ClientError says the key is not there (a missing bucket is a failure)."""
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code == "NoSuchKey" or (status == 404 and code != "NoSuchBucket")


@contextlib.contextmanager
def _service_errors(doing: str) -> Iterator[None]:
    """Turn every failure of the service or the network into StorageError: no botocore
    exception reaches the app, which answers 503 to StorageError."""
    from botocore import exceptions as boto  # type: ignore[import-untyped]

    # Refused, timed out, cut short: botocore's own classes, not Python's ConnectionError.
    network = (boto.ConnectionError, boto.HTTPClientError, boto.IncompleteReadError)
    try:
        yield
    except boto.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "") or "an error"
        if code in _S3_FULL_CODES:
            raise StorageFull(errno.ENOSPC, "no room left for the picture") from error
        raise StorageError(errno.EIO, f"the object store would not {doing}: {code}") from error
    except (*network, ConnectionError, TimeoutError) as error:
        raise StorageError(errno.EIO, f"could not reach the object store to {doing}") from error
    except boto.BotoCoreError as error:
        # The rest is the client's own setup, e.g. "Unable to locate credentials".
        raise StorageError(errno.EIO, f"could not {doing} in the object store: {error}") from error


def s3_client(config: Mapping[str, Any]) -> Any:
    """A boto3 S3 client for the MEDIA_S3_* settings, quick to give up when S3 is down."""
    endpoint = config.get("MEDIA_S3_ENDPOINT_URL") or None
    key_id = config.get("MEDIA_S3_ACCESS_KEY_ID") or None
    secret = config.get("MEDIA_S3_SECRET_ACCESS_KEY") or None
    if (key_id is None) != (secret is None):
        raise ValueError(
            "MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY are set together or not at all"
        )
    return _client(endpoint, config.get("MEDIA_S3_REGION") or None, key_id, secret)


@functools.lru_cache(maxsize=8)
def _client(
    endpoint: str | None, region: str | None, key_id: str | None, secret: str | None
) -> Any:
    # One per process and settings: making one reads boto3's service models (about
    # 0.1-0.3 s), and a client may be shared by threads (a session may not).
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    settings = Config(
        connect_timeout=S3_CONNECT_TIMEOUT,
        read_timeout=S3_READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": S3_ATTEMPTS},
    )
    # A session of its own: boto3's default session is shared and not thread-safe.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=settings,
    )


def open_store(config: Mapping[str, Any], instance_path: str) -> Store:
    """The store the MEDIA_* settings name: a local folder or an S3 bucket.
    ValueError, naming the setting, when they do not make one."""
    kind = config.get("MEDIA_STORE", "local")
    if kind == "local":
        return LocalStore(config.get("MEDIA_FOLDER") or os.path.join(instance_path, "media"))
    if kind != "s3":
        raise ValueError(f"MEDIA_STORE must be 'local' or 's3', not {kind!r}")
    bucket = config.get("MEDIA_S3_BUCKET")
    if not bucket:
        raise ValueError("MEDIA_STORE is 's3' but MEDIA_S3_BUCKET is not set")
    public_url = config.get("MEDIA_S3_PUBLIC_URL")
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"MEDIA_S3_PUBLIC_URL must be an absolute http(s) URL, not {public_url!r}"
            )
    client = s3_client(config)
    # Unset: the bucket's own address, path-style (as botocore reaches a bucket when an
    # endpoint is set; self-hosted services rarely have a DNS name per bucket).
    base = public_url or f"{client.meta.endpoint_url.rstrip('/')}/{bucket}"
    return S3Store(bucket, client=client, public_url=base)
