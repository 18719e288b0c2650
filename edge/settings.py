"""Settings of an edge node: one frozen object, read from the environment in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from edge.kernel.settings import SettingsError, WebSettings, env_name, from_environ
from replication.replicated_node import ReplicatedNode
from replication.store_config import StoreConfig, StoreSettings


@dataclass(frozen=True)
class Settings:
    """Everything an edge node can be told; see README for each setting."""

    node_id: str
    township_code: str
    data_dir: Path = Path("var/edge")
    web: WebSettings = WebSettings(port=8001)
    warning_working_days: int = 1
    follow_up_working_days: int = 5
    disclosure_warning_working_days: int = 3
    sms_gateway: str = "log"
    sms_http_url: str = ""
    sms_http_secret: str = ""
    sms_max_attempts: int = 6
    sms_inbound_secret: str = ""
    market_suspend_after: int = 3
    push_contact: str = "push@cunban.example.org"
    push_allow_http: bool = False
    replica: StoreSettings = StoreSettings()
    sync_interval_ms: int = 250
    monitor_interval_ms: int = 250
    replica_drill_seconds: int = 60
    central_url: str = ""
    allow_plain_http: bool = False
    heartbeat_ms: int = 2000
    feed_ms: int = 3000

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from the environment (CUNBAN_*)."""
        return from_environ(cls, os.environ if environ is None else environ)

    def validate(self) -> None:
        """Refuse settings that cannot work."""
        if not (len(self.township_code) == 12 and self.township_code.isdigit()):
            raise SettingsError(f"{env_name('township_code')} must be a 12-digit code")
        if not self.node_id.replace("-", "").replace("_", "").isalnum():
            raise SettingsError(f"{env_name('node_id')} must be letters, digits, - or _")
        if self.sms_gateway not in ("log", "http"):
            raise SettingsError(f"{env_name('sms_gateway')} must be log or http")
        if self.sms_gateway == "http" and not (self.sms_http_url and self.sms_http_secret):
            raise SettingsError(
                f"{env_name('sms_http_url')} and {env_name('sms_http_secret')} are required "
                "for the http SMS gateway"
            )
        if problem := self.store_config.problem(env_name):
            raise SettingsError(problem)
        if problem := self.web.base_url_problem(env_name):
            raise SettingsError(problem)
        if problem := self.web.proxies_problem(env_name):
            raise SettingsError(problem)
        if self.replica_drill_seconds < 1:
            raise SettingsError(f"{env_name('replica_drill_seconds')} must be at least 1")
        if problem := self._central_url_problem():
            raise SettingsError(problem)
        for name in ("sync_interval_ms", "monitor_interval_ms", "heartbeat_ms", "feed_ms"):
            if getattr(self, name) < 10:
                raise SettingsError(f"{env_name(name)} must be at least 10 (milliseconds)")

    def _central_url_problem(self) -> str | None:
        """The feed travels over HTTPS; plain http only where a development setting says so."""
        if not self.central_url:
            return None
        parts = urlsplit(self.central_url)
        if parts.scheme == "https" and parts.hostname:
            return None
        if parts.scheme == "http" and parts.hostname and self.allow_plain_http:
            return None
        return (
            f"{env_name('central_url')} must be an https:// URL (plain http:// only with "
            f"{env_name('allow_plain_http')}=true, for local development)"
        )

    @property
    def database_path(self) -> Path:
        """The node's own database file."""
        return self.data_dir / "edge.db"

    @property
    def blobs_dir(self) -> Path:
        """Content-addressed photos and signatures."""
        return self.data_dir / "blobs"

    @property
    def keys_dir(self) -> Path:
        """Private seal keys of this node's offices (never replicated)."""
        return self.data_dir / "keys"

    @property
    def store_config(self) -> StoreConfig:
        """The replica store: the same place for the database replica and the blobs."""
        return StoreConfig.of(self.replica)

    @property
    def replicated_node(self) -> ReplicatedNode:
        """This node as the transport sees it: Litestream, DR restore and blob upload."""
        return ReplicatedNode(
            self.node_id,
            self.database_path,
            self.blobs_dir,
            self.store_config,
            self.sync_interval_ms,
            self.monitor_interval_ms,
            self.replica_drill_seconds,
        )

    @property
    def queue_path(self) -> Path:
        """huey's own queue database (not replicated)."""
        return self.data_dir / "queue.db"

    @property
    def claimers_dir(self) -> Path:
        """Lock files of the worker processes that claim outbox rows (not replicated)."""
        return self.data_dir / "claimers"
