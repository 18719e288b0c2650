"""Where replicas and blobs go: a directory (`file`) or an S3 bucket (`s3`), and its checks.

Edge and central settings embed the same store fields (`StoreSettings`, as `settings.replica`);
`StoreConfig.of` reads them, `problem` says what makes a store unusable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoreSettings:
    """The store fields, declared once and embedded by both nodes' settings as `replica`, filled
    from the same flat variables (CUNBAN_STORE, CUNBAN_REPLICA_DIR, CUNBAN_S3_*)."""

    store: str = "file"
    replica_dir: Path = Path("var/replica")
    s3_endpoint: str = ""
    s3_bucket: str = "cunban"
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = ""


@dataclass(frozen=True)
class StoreConfig:
    """Where replicas and blobs go: a directory (`file`) or an S3 bucket (`s3`)."""

    kind: str
    root: Path
    endpoint: str
    bucket: str
    region: str
    access_key: str
    secret_key: str

    @classmethod
    def of(cls, settings: StoreSettings) -> StoreConfig:
        """The store a node's settings name."""
        return cls(
            settings.store,
            settings.replica_dir,
            settings.s3_endpoint,
            settings.s3_bucket,
            settings.s3_region,
            settings.s3_access_key,
            settings.s3_secret_key,
        )

    def problem(self, setting: Callable[[str], str]) -> str | None:
        """What makes this store unusable, naming each field by `setting(field)`; None if fine."""
        if self.kind not in ("file", "s3"):
            return f"{setting('store')} must be file or s3"
        if self.kind == "s3" and not (self.endpoint and self.bucket and self.access_key):
            return (
                f"{setting('s3_endpoint')}, {setting('s3_bucket')} and "
                f"{setting('s3_access_key')} are required for the s3 store"
            )
        if self.kind == "s3" and not self.endpoint.startswith(("http://", "https://")):
            return f"{setting('s3_endpoint')} must start with http(s)://"
        return None
