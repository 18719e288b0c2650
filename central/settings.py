"""Settings of the central node, read from CUNBAN_CENTRAL_* in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from edge.kernel.settings import SettingsError, WebSettings, env_name, from_environ
from replication import shards
from replication.store_config import StoreConfig, StoreSettings

ENV_PREFIX = "CUNBAN_CENTRAL_"


@dataclass(frozen=True)
class CentralSettings:
    """Everything the central node can be told; see README for each setting."""

    data_dir: Path = Path("var/central")
    web: WebSettings = WebSettings(port=8000)
    nodes: str = ""
    replica: StoreSettings = StoreSettings()
    follow_interval_ms: int = 500
    follow_mode: str = "poll"
    follow_restore: str = "ltx"
    follow_shard: str = "0/1"
    follow_ship: bool = False
    ingest_ms: int = 1000
    ingest_batch: int = 500
    silent_after_seconds: int = 60
    feed_page: int = 100
    tls_cert: str = ""
    tls_key: str = ""
    warning_working_days: int = 1
    sms_gateway: str = "log"
    sms_http_url: str = ""
    sms_http_secret: str = ""
    sms_max_attempts: int = 6

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> CentralSettings:
        """Read settings from the environment (CUNBAN_CENTRAL_*)."""
        return from_environ(cls, os.environ if environ is None else environ, ENV_PREFIX)

    def validate(self) -> None:
        """Refuse settings that cannot work."""
        if problem := self.store_config.problem(lambda field: env_name(field, ENV_PREFIX)):
            raise SettingsError(problem)
        if problem := self.web.base_url_problem(lambda field: env_name(field, ENV_PREFIX)):
            raise SettingsError(problem)
        if problem := self.web.proxies_problem(lambda field: env_name(field, ENV_PREFIX)):
            raise SettingsError(problem)
        for name in ("follow_interval_ms", "ingest_ms"):
            if getattr(self, name) < 10:
                raise SettingsError(f"{env_name(name, ENV_PREFIX)} must be at least 10 (ms)")
        if self.follow_mode not in ("poll", "litestream"):
            raise SettingsError(f"{env_name('follow_mode', ENV_PREFIX)} must be poll or litestream")
        if self.follow_restore not in ("ltx", "litestream"):
            name = env_name("follow_restore", ENV_PREFIX)
            raise SettingsError(f"{name} must be ltx or litestream")
        if shards.parse(self.follow_shard) is None:
            raise SettingsError(
                f"{env_name('follow_shard', ENV_PREFIX)} must be i/n with 0 <= i < n, e.g. 0/2"
            )
        if self.follow_ship and (shards.parse(self.follow_shard) or (0, 1))[0] == 0:
            raise SettingsError(
                f"{env_name('follow_ship', ENV_PREFIX)} is for a shard other than 0 (shard 0 "
                "runs beside central.db and applies what the others ship)"
            )
        if self.follow_ship and self.follow_mode != "poll":
            name = env_name("follow_ship", ENV_PREFIX)
            raise SettingsError(f"{name} needs {env_name('follow_mode', ENV_PREFIX)}=poll")
        if not 1 <= self.feed_page <= 1000:
            raise SettingsError(f"{env_name('feed_page', ENV_PREFIX)} must be 1 to 1000")
        if not 0 <= self.warning_working_days <= 30:
            name = env_name("warning_working_days", ENV_PREFIX)
            raise SettingsError(f"{name} must be 0 to 30 (working days)")
        if problem := self._sms_problem():
            raise SettingsError(problem)
        if bool(self.tls_cert) != bool(self.tls_key):
            cert, key = env_name("tls_cert", ENV_PREFIX), env_name("tls_key", ENV_PREFIX)
            raise SettingsError(f"{cert} and {key} go together")

    def _sms_problem(self) -> str | None:
        """Why central's SMS gateway settings cannot work, or None."""
        gateway, url, secret, attempts = (
            env_name(field, ENV_PREFIX)
            for field in ("sms_gateway", "sms_http_url", "sms_http_secret", "sms_max_attempts")
        )
        if self.sms_gateway not in ("log", "http"):
            return f"{gateway} must be log or http"
        if self.sms_gateway == "http" and not (self.sms_http_url and self.sms_http_secret):
            return f"{url} and {secret} are required when {gateway} is http"
        if self.sms_max_attempts < 1:
            return f"{attempts} must be at least 1"
        return None

    @property
    def claimers_dir(self) -> Path:
        """Lock files of the processes that claimed SMS rows (edge.kernel.claimers)."""
        return self.data_dir / "claimers"

    @property
    def store_config(self) -> StoreConfig:
        """The replica store central reads replicas and blobs from."""
        return StoreConfig.of(self.replica)

    @property
    def mirrors_dir(self) -> Path:
        """Where the followers keep their read-only mirrors of edge databases."""
        return self.data_dir / "mirrors"

    @property
    def keys_dir(self) -> Path:
        """Private seal keys of central's offices (county departments)."""
        return self.data_dir / "keys"

    @property
    def database_path(self) -> Path:
        """Central's own database file."""
        return self.data_dir / "central.db"
