"""Photos after a disaster recovery: fetch from the store every blob the restored database
records and the node lacks, and name what never reached the store, by application and photo."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from edge.kernel.blobstore import BlobStore
from replication.litestream import RestoreRefused
from replication.objectstore import StoreUnavailable, blob_key, open_store, verified
from replication.replicated_node import ReplicatedNode


@dataclass(frozen=True)
class MissingPhoto:
    """A recorded blob the store never received: the application it belongs to (None: none
    attaches it, e.g. a photo staged for an intake not sent), its material key or `signature`,
    and whether it is the thumbnail."""

    tracking_code: str | None
    photo: str
    thumbnail: bool
    sha256: str


@dataclass(frozen=True)
class BlobsRestored:
    """What restoring the photos did: how many were fetched, which could not be."""

    fetched: int
    missing: tuple[MissingPhoto, ...]

    def report(self) -> str:
        """One line per application that lacks photos, naming each photo."""
        by_application: dict[str, list[str]] = {}
        for gap in self.missing:
            name = f"{gap.photo} (thumbnail)" if gap.thumbnail else gap.photo
            by_application.setdefault(gap.tracking_code or "no application", []).append(name)
        return "\n".join(
            f"  {code}: {', '.join(names)}" for code, names in sorted(by_application.items())
        )


# Each blob with the attachment that uses it: its photo, or that photo's thumbnail.
ATTACHED_SQL = """
SELECT b.sha256, a.tracking_code, t.material_key, t.thumb_sha256 = b.sha256 AS thumbnail
FROM blobs b
LEFT JOIN attachments t ON b.sha256 IN (t.sha256, t.thumb_sha256)
LEFT JOIN applications a ON a.id = t.application_id
ORDER BY a.tracking_code, t.material_key, thumbnail, b.sha256
"""


def restore_blobs(node: ReplicatedNode) -> BlobsRestored:
    """Fetch from the store every blob the restored database records and we lack; the ones
    never uploaded before the node died are missing, named by application and photo."""
    with sqlite3.connect(f"file:{node.database_path}?mode=ro", uri=True) as conn:
        uses = conn.execute(ATTACHED_SQL).fetchall()
    local = BlobStore(node.blobs_dir)
    store = open_store(node.store)
    fetched, absent = 0, set()
    for sha256 in sorted({use[0] for use in uses}):
        if local.has(sha256):
            continue
        try:
            data = verified(store.get(blob_key(node.node_id, sha256)), sha256)
        except StoreUnavailable as exc:
            raise RestoreRefused(f"the store is unreachable: {exc}") from exc
        if data is None:
            absent.add(sha256)
            continue
        local.put(data)
        fetched += 1
    missing = tuple(
        MissingPhoto(code, key or "-", bool(thumbnail), sha256)
        for sha256, code, key, thumbnail in uses
        if sha256 in absent
    )
    return BlobsRestored(fetched, missing)
