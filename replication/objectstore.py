"""The replica store's objects: blobs under `nodes/<node>/blobs/<sha256>`, in a folder or S3."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from edge.kernel.durable_files import write_durably
from replication.store_config import StoreConfig

CONNECTIONS = 8  # kept open per store: enough for the parallel blob uploads


class StoreUnavailable(RuntimeError):
    """The store could not be reached or refused the request; try again later."""


class ObjectStore(Protocol):
    """What blob upload (edge), photo reads (central) and DR restore need of a store."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def keys(self, prefix: str) -> list[str]: ...

    def keys_after(self, prefix: str, start_after: str) -> list[str]: ...

    def delete(self, key: str) -> None: ...


def blob_key(node_id: str, sha256: str) -> str:
    """Where a node's blob lives in the store."""
    return f"nodes/{node_id}/blobs/{sha256}"


def verified(data: bytes | None, sha256: str) -> bytes | None:
    """`data` if its sha256 is `sha256`, else None (a damaged or foreign object)."""
    if data is None or hashlib.sha256(data).hexdigest() != sha256:
        return None
    return data


class DirectoryStore:
    """The embedded `file` store: objects are files under a root folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"key escapes the store: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write the object durably (temporary file, fsync, rename)."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_durably(target, data)

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when absent."""
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def keys(self, prefix: str) -> list[str]:
        """Every key under `prefix`."""
        folder = self._path(prefix)
        if not folder.is_dir():
            return []
        root = self.root.resolve()
        return sorted(
            str(path.relative_to(root))
            for path in folder.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        )

    def keys_after(self, prefix: str, start_after: str) -> list[str]:
        """The keys directly under `prefix` that sort after `start_after`."""
        folder = self._path(prefix)
        if not folder.is_dir():
            return []
        found = (f"{prefix}/{path.name}" for path in folder.iterdir() if path.is_file())
        return sorted(key for key in found if key > start_after)

    def delete(self, key: str) -> None:
        """Remove the object (nothing when absent)."""
        self._path(key).unlink(missing_ok=True)


class S3Store:
    """An S3-compatible bucket (SeaweedFS, MinIO, Ceph, OSS) through the MinIO client."""

    def __init__(self, config: StoreConfig, connections: int = CONNECTIONS) -> None:
        import urllib3
        from minio import Minio

        url = urlsplit(config.endpoint)
        http = urllib3.PoolManager(
            maxsize=connections,  # one per thread that calls the store, or each extra reconnects
            timeout=urllib3.Timeout(connect=3, read=30),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(500, 502, 503)),
        )
        self.bucket = config.bucket
        self.client = Minio(
            url.netloc,
            access_key=config.access_key,
            secret_key=config.secret_key,
            secure=url.scheme == "https",
            region=config.region,
            http_client=http,
        )

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Upload the object; S3 answers with the MD5 it stored, which must be ours."""
        try:
            result = self.client.put_object(
                self.bucket, key, io.BytesIO(data), len(data), content_type=content_type
            )
        except _unreachable() as exc:
            raise StoreUnavailable(f"put {key}: {type(exc).__name__}") from exc
        if result.etag and result.etag.strip('"') != hashlib.md5(data).hexdigest():
            raise StoreUnavailable(f"put {key}: the store's checksum differs from ours")

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when absent."""
        from minio.error import S3Error

        try:
            response = self.client.get_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return None
            raise StoreUnavailable(f"get {key}: {exc.code}") from exc
        except _unreachable() as exc:
            raise StoreUnavailable(f"get {key}: {type(exc).__name__}") from exc
        try:
            return response.read()
        except _unreachable() as exc:
            raise StoreUnavailable(f"get {key}: {type(exc).__name__}") from exc
        finally:
            response.close()
            response.release_conn()

    def keys(self, prefix: str) -> list[str]:
        """Every key under `prefix`."""
        try:
            found = self.client.list_objects(self.bucket, prefix=prefix + "/", recursive=True)
            return sorted(item.object_name for item in found if item.object_name)
        except _unreachable() as exc:
            raise StoreUnavailable(f"list {prefix}: {type(exc).__name__}") from exc

    def keys_after(self, prefix: str, start_after: str) -> list[str]:
        """The keys directly under `prefix` that sort after `start_after` (one cheap LIST)."""
        try:
            found = self.client.list_objects(
                self.bucket, prefix=prefix + "/", start_after=start_after
            )
            return sorted(item.object_name for item in found if item.object_name)
        except _unreachable() as exc:
            raise StoreUnavailable(f"list {prefix}: {type(exc).__name__}") from exc

    def delete(self, key: str) -> None:
        """Remove the object (S3 answers the same when it was absent)."""
        try:
            self.client.remove_object(self.bucket, key)
        except _unreachable() as exc:
            raise StoreUnavailable(f"delete {key}: {type(exc).__name__}") from exc


def _unreachable() -> tuple[type[Exception], ...]:
    """What the S3 client raises when the store is down, refuses or answers nonsense: MinIO's
    errors, a socket's, urllib3's (MaxRetryError, ProtocolError), and an error body it cannot
    parse (a proxy's HTML page: ParseError is a SyntaxError, a bad encoding a ValueError)."""
    from minio.error import MinioException
    from urllib3.exceptions import HTTPError

    return (MinioException, OSError, HTTPError, SyntaxError, ValueError)


def open_store(config: StoreConfig, connections: int = CONNECTIONS) -> ObjectStore:
    """The store a node's settings describe (`connections`: kept open to an S3 store)."""
    if config.kind == "s3":
        return S3Store(config, connections)
    return DirectoryStore(config.root)
