"""deploy/install under a temporary root: --dry-run writes nothing, a real run writes every
file (checked here), a second run changes nothing; units pass `systemd-analyze verify` and
the Caddyfile `caddy validate` (both Debian packages, installed by the test when missing)."""

from __future__ import annotations

import ast
import datetime
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from central.settings import ENV_PREFIX as CENTRAL_PREFIX
from central.settings import CentralSettings
from deploy.steps import Command, StepFailed, Target, run
from edge.kernel.settings import env_names
from edge.settings import Settings
from replication.store import filer_command, master_command, volume_command

ROOT = Path(__file__).resolve().parent.parent
INSTALL = ROOT / "deploy" / "install"
EDGE_ARGS = [
    "edge",
    "--node-id", "lianzhou",
    "--township", "450521100000",
    "--domain", "lianzhou.example.gov.cn",
    "--central", "https://central.example.gov.cn",
    "--store", "https://store.example.gov.cn",
]  # fmt: skip
EDGE_FILES = {
    "etc/cunban/lianzhou.env": 0o600,
    "usr/local/sbin/cunban-lianzhou": 0o750,
    "etc/systemd/system/cunban-lianzhou-web.service": 0o644,
    "etc/systemd/system/cunban-lianzhou-worker.service": 0o644,
    "etc/systemd/system/cunban-lianzhou-replicate.service": 0o644,
    "etc/systemd/system/cunban-lianzhou-sync.service": 0o644,
    "etc/systemd/system/cunban-lianzhou.target": 0o644,
    "etc/caddy/Caddyfile": 0o644,
    "etc/caddy/cunban/lianzhou.caddy": 0o644,
    "opt/cunban/releases/0.1.0/RELEASE": 0o644,
}


def install(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(INSTALL), *map(str, args)], capture_output=True, text=True, timeout=120
    )


def written(root: Path) -> set[str]:
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and "opt/cunban/releases/0.1.0/" not in str(path)
    } | {str(p.relative_to(root)) for p in root.glob("opt/cunban/releases/*/RELEASE")}


def ensure(tool: str, package: str) -> str:
    """The Debian tool, installed with apt-get when missing (a test never skips for it)."""
    if shutil.which(tool) is None:
        subprocess.run(["apt-get", "install", "-y", package], check=True, capture_output=True)
    found = shutil.which(tool)
    assert found, f"{package} did not provide {tool}"
    return found


def test_debians_own_caddyfile_is_kept_once(tmp_path):
    default = tmp_path / "etc/caddy/Caddyfile"
    default.parent.mkdir(parents=True)
    default.write_text(":80 {\n\troot * /usr/share/caddy\n\tfile_server\n}\n")
    assert install(*EDGE_ARGS, "--root", tmp_path).returncode == 0
    kept = tmp_path / "etc/caddy/Caddyfile.before-cunban"
    assert kept.read_text().startswith(":80 {") and "import cunban/*.caddy" in default.read_text()
    again = install(*EDGE_ARGS, "--root", tmp_path)
    assert "nothing to change" in again.stdout and kept.read_text().startswith(":80 {")


def test_dry_run_says_what_it_would_do_and_writes_nothing(tmp_path):
    done = install(*EDGE_ARGS, "--root", tmp_path, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []
    for path in EDGE_FILES:
        if not path.endswith("RELEASE"):
            assert f"would    file /{path}" in done.stdout
    assert "would    release 0.1.0 in /opt/cunban/releases/0.1.0" in done.stdout
    assert "skip     Debian packages" in done.stdout
    assert "skip     system user cunban" in done.stdout


def test_edge_install_writes_every_file_and_a_second_run_changes_nothing(tmp_path):
    first = install(*EDGE_ARGS, "--root", tmp_path, "--tls", "internal")
    assert first.returncode == 0, first.stderr
    assert written(tmp_path) == set(EDGE_FILES)
    for path, mode in EDGE_FILES.items():
        assert stat.S_IMODE((tmp_path / path).stat().st_mode) == mode, path
    assert os.readlink(tmp_path / "opt/cunban/current") == "releases/0.1.0"
    release = tmp_path / "opt/cunban/releases/0.1.0"
    assert (release / "edge/app.py").is_file()
    assert os.readlink(release / ".venv") == sys.prefix  # a real install builds its own
    assert stat.S_IMODE((tmp_path / "var/lib/cunban/lianzhou").stat().st_mode) == 0o750

    env = (tmp_path / "etc/cunban/lianzhou.env").read_text()
    lines = env.splitlines()
    for name in env_names(Settings):  # every setting, each with its description and default
        line = next(i for i, text in enumerate(lines) if text.lstrip("#").startswith(f"{name}="))
        assert lines[line - 1].startswith("# default:"), name
        assert lines[line - 2].startswith("# ") and lines[line - 2] != "# ", name
    values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert values["CUNBAN_BASE_URL"] == "https://lianzhou.example.gov.cn"
    assert values["CUNBAN_DATA_DIR"] == "/var/lib/cunban/lianzhou"
    assert values["CUNBAN_CENTRAL_URL"] == "https://central.example.gov.cn"
    assert values["CUNBAN_STORE"] == "s3" and values["CUNBAN_S3_ACCESS_KEY"] == "lianzhou"
    assert values["CUNBAN_COOKIE_SECURE"] == "true" and values["CUNBAN_HOST"] == "127.0.0.1"
    assert values["CUNBAN_CLIENT_ADDRESS_HEADER"] == "X-Forwarded-For"
    assert len(values["CUNBAN_S3_SECRET_KEY"]) >= 24 and len(values["CUNBAN_METRICS_TOKEN"]) >= 24
    Settings.from_environ(values)  # the node accepts what was written

    web = (tmp_path / "etc/systemd/system/cunban-lianzhou-web.service").read_text()
    for line in (
        "ExecStart=/opt/cunban/current/.venv/bin/python -m edge serve",
        "EnvironmentFile=/etc/cunban/lianzhou.env",
        "User=cunban",
        "Restart=always",
        "MemoryMax=768M",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/cunban/lianzhou",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "PartOf=cunban-lianzhou.target",
    ):
        assert line in web.splitlines(), line
    wrapper = (tmp_path / "usr/local/sbin/cunban-lianzhou").read_text()
    assert ". /etc/cunban/lianzhou.env" in wrapper
    assert 'runuser -u cunban -- /opt/cunban/current/.venv/bin/python -m edge "$@"' in wrapper
    target = (tmp_path / "etc/systemd/system/cunban-lianzhou.target").read_text()
    assert "cunban-lianzhou-replicate.service" in target
    assert "cunban-lianzhou-sync.service" in target
    site = (tmp_path / "etc/caddy/cunban/lianzhou.caddy").read_text()
    assert "lianzhou.example.gov.cn {" in site and "\ttls internal" in site
    assert "encode zstd gzip" in site and "Strict-Transport-Security" in site
    assert "reverse_proxy 127.0.0.1:8001" in site
    assert "protocols h1 h2 h3" in (tmp_path / "etc/caddy/Caddyfile").read_text()

    before = {path: (tmp_path / path).stat().st_mtime_ns for path in EDGE_FILES}
    second = install(*EDGE_ARGS, "--root", tmp_path, "--tls", "internal")
    assert second.returncode == 0, second.stderr
    assert "nothing to change" in second.stdout and "done " not in second.stdout
    assert {path: (tmp_path / path).stat().st_mtime_ns for path in EDGE_FILES} == before

    # an operator's edit survives; what the command line says wins
    (tmp_path / "etc/cunban/lianzhou.env").write_text(
        env.replace("#CUNBAN_SESSION_HOURS=12", "CUNBAN_SESSION_HOURS=8")
    )
    third = install(*EDGE_ARGS[:-2], "--store", "https://s3.example.gov.cn", "--root", tmp_path)
    assert third.returncode == 0, third.stderr
    env3 = (tmp_path / "etc/cunban/lianzhou.env").read_text()
    assert "\nCUNBAN_SESSION_HOURS=8\n" in env3
    assert "\nCUNBAN_S3_ENDPOINT=https://s3.example.gov.cn\n" in env3
    assert f"\nCUNBAN_S3_SECRET_KEY={values['CUNBAN_S3_SECRET_KEY']}\n" in env3
    assert "\ttls" not in (tmp_path / "etc/caddy/cunban/lianzhou.caddy").read_text()  # ACME

    # a port given once stays, in the env file and Caddy's site, until another is given
    assert install(*EDGE_ARGS, "--root", tmp_path, "--port", "9100").returncode == 0
    assert install(*EDGE_ARGS, "--root", tmp_path).returncode == 0
    assert "\nCUNBAN_PORT=9100\n" in (tmp_path / "etc/cunban/lianzhou.env").read_text()
    site = (tmp_path / "etc/caddy/cunban/lianzhou.caddy").read_text()
    assert "reverse_proxy 127.0.0.1:9100" in site


def test_units_pass_systemd_analyze_verify(tmp_path):
    analyze = ensure("systemd-analyze", "systemd")
    root = tmp_path / "root"
    assert install(*EDGE_ARGS, "--root", root).returncode == 0
    assert install("central", "--domain", "central.example.gov.cn", "--root", root).returncode == 0
    store = install(
        "store", "--domain", "store.example.gov.cn", "--ip", "10.0.0.11", "--root", root,
        "--peers", "10.0.0.11:9333,10.0.0.12:9333,10.0.0.13:9333",
        "--identity", "central=central:secret-central-0001",
        "--identity", "lianzhou=lianzhou:secret-lianzhou-01",
    )  # fmt: skip
    assert store.returncode == 0, store.stderr
    # the release's venv is built only on a real machine: the test's stands in for it
    assert (root / "opt/cunban/releases/0.1.0/.venv/bin/python").exists()
    units = tmp_path / "units"
    units.mkdir()
    names = sorted(p.name for p in (root / "etc/systemd/system").iterdir())
    assert len(names) == 4 + 1 + 2 + 1 + 4 + 1  # the store: 3 servers and its bucket's oneshot
    for name in names:
        text = (root / "etc/systemd/system" / name).read_text()
        (units / name).write_text(text.replace("/opt/cunban/", f"{root}/opt/cunban/"))
    checked = subprocess.run(
        [analyze, "verify", "--man=no", *(str(units / name) for name in names)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip() == "", checked.stderr
    s3 = (root / "var/lib/cunban/store/s3.json").read_text()
    assert stat.S_IMODE((root / "var/lib/cunban/store/s3.json").stat().st_mode) == 0o600
    assert '"Write:cunban/nodes/lianzhou/*"' in s3
    master = (root / "etc/systemd/system/cunban-store-master.service").read_text()
    assert "-defaultReplication=001" in master and "-peers=10.0.0.11:9333,10.0.0.12" in master
    peers = "10.0.0.11:9333,10.0.0.12:9333,10.0.0.13:9333"
    data = Path("/var/lib/cunban/store")
    weed = "/opt/cunban/current/.venv/bin/weed"
    for name, argv in (  # the units run replication/store.py's command lines, nothing of their own
        ("master", master_command(data / "master", 9333, "001", 30000, ip="10.0.0.11",
                                  peers=peers.split(","), weed=weed)),
        ("volume", volume_command(data / "volume", 8080, 0, ip="10.0.0.11",
                                  masters=peers.split(","), weed=weed)),
        ("filer", filer_command(data / "filer", 8888, 8333, 0, data / "s3.json", ip="10.0.0.11",
                                masters=peers.split(","), replication="001", weed=weed)),
    ):  # fmt: skip
        unit = (root / f"etc/systemd/system/cunban-store-{name}.service").read_text()
        assert f"ExecStart={shlex.join(argv)}\n" in unit, name
    bucket = (root / "etc/systemd/system/cunban-store-bucket.service").read_text()
    assert "Type=oneshot" in bucket and "After=network-online.target cunban-store-filer" in bucket
    assert f"-m replication.bucket --masters {peers} --filer 10.0.0.11:8888" in bucket
    target = (root / "etc/systemd/system/cunban-store.target").read_text()
    assert "cunban-store-bucket.service" in target


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "10.0.0.5")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "node.crt", folder / "node.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("tls", ["auto", "internal", "cert"])
def test_caddyfile_passes_caddy_validate(tmp_path, tls):
    caddy = ensure("caddy", "caddy")
    root = tmp_path / "root"
    args = [*EDGE_ARGS, "--root", root, "--tls", tls]
    if tls == "cert":
        cert, key = _certificate(tmp_path)
        args = [*args[:6], "10.0.0.5", *args[7:], "--tls-cert", cert, "--tls-key", key]
    done = install(*args)
    assert done.returncode == 0, done.stderr
    main = (root / "etc/caddy/Caddyfile").read_text(encoding="utf-8")
    assert ("default_sni 10.0.0.5" in main) == (tls == "cert")  # HTTP/3 to an IP address
    checked = subprocess.run(
        [caddy, "validate", "--adapter", "caddyfile", "--config", root / "etc/caddy/Caddyfile"],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")},
    )
    assert checked.returncode == 0, checked.stderr
    assert "Valid configuration" in checked.stdout + checked.stderr


def test_refusals_are_clear(tmp_path):
    ip = install(*EDGE_ARGS[:6], "10.0.0.5", *EDGE_ARGS[7:], "--root", tmp_path)
    assert ip.returncode == 2 and "use --tls internal or --tls cert" in ip.stderr
    township = install(*EDGE_ARGS[:4], "4505", *EDGE_ARGS[5:], "--root", tmp_path)
    assert township.returncode == 2 and "12-digit" in township.stderr
    cert = install(*EDGE_ARGS, "--root", tmp_path, "--tls", "cert")
    assert cert.returncode == 2 and "--tls-cert" in cert.stderr
    assert list(tmp_path.iterdir()) == []


def test_central_env_documents_every_central_setting(tmp_path):
    done = install("central", "--domain", "central.example.gov.cn", "--root", tmp_path)
    assert done.returncode == 0, done.stderr
    env = (tmp_path / "etc/cunban/central.env").read_text()
    for name in env_names(CentralSettings, CENTRAL_PREFIX):
        assert f"\n{name}=" in env or f"\n#{name}=" in env, name
    values = dict(line.split("=", 1) for line in env.splitlines() if line[:1] not in ("", "#"))
    assert values["CUNBAN_CENTRAL_BASE_URL"] == "https://central.example.gov.cn"
    CentralSettings.from_environ(values)
    nodes = "lianzhou=450521100000=https://lianzhou.example.gov.cn"
    told = install("central", "--domain", "central.example.gov.cn", "--root", tmp_path,
                   "--nodes", nodes)  # fmt: skip
    assert told.returncode == 0
    again = install("central", "--domain", "central.example.gov.cn", "--root", tmp_path)
    assert "nothing to change" in again.stdout  # the township list is kept
    assert f"\nCUNBAN_CENTRAL_NODES={nodes}\n" in (tmp_path / "etc/cunban/central.env").read_text()


def _imported_packages(folder: Path) -> dict[str, str]:
    """Top-level modules the code under `folder` imports at run time (not only for typing),
    each with one file that imports it."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def _installed_with(requirements: list[str]) -> set[str]:
    """The distributions pip installs for `requirements` (no extras of ours), by name."""
    wanted = [Requirement(text) for text in requirements]
    seen: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(requirement.name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            child = Requirement(text)
            extras = ("", *requirement.extras)  # e.g. uvicorn[standard]
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in extras):
                wanted.append(child)
    return seen


def test_the_release_venv_holds_every_package_the_code_imports():
    """A release's venv installs the project's dependencies only (not the test extra): every
    package the running code imports must come with them. (`httpx2`, used by the SMS gateway,
    was a test dependency: a real install's processes died on `import httpx2`.)"""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = _installed_with(project["dependencies"])
    owners = metadata.packages_distributions()
    ours = {"edge", "central", "replication", "deploy"}
    missing = {
        module: path
        for folder in ours
        for module, path in _imported_packages(ROOT / folder).items()
        if module not in sys.stdlib_module_names
        and module not in ours
        and not {canonicalize_name(d) for d in owners.get(module, [module])} & installed
    }
    assert missing == {}, f"imported by the app but not in pyproject's dependencies: {missing}"


def test_install_brings_python3_to_a_machine_without_it(tmp_path):
    """A minimal Debian has no python3: deploy/install starts in /bin/sh and installs it with
    apt-get (here a stand-in that links this test's Python), then runs with it."""
    folder = tmp_path / "bin"
    folder.mkdir()
    apt = folder / "apt-get"
    apt.write_text(
        "#!/bin/sh\n"
        f'echo "apt-get $*" >> {tmp_path}/apt.log\n'
        f'[ "$1" = install ] && /bin/ln -sf {sys.executable} {folder}/python3\n'
        "exit 0\n"
    )
    apt.chmod(0o755)
    done = subprocess.run(
        [str(INSTALL), "--help"], env={"PATH": str(folder)}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "usage: deploy/install" in done.stdout
    log = (tmp_path / "apt.log").read_text().splitlines()
    assert log == ["apt-get update -q", "apt-get install -y -q --no-install-recommends python3"]


def test_a_failing_step_is_said_in_one_line(tmp_path):
    """A command that fails (no network for the venv, a package that will not install) stops
    the install with what failed, not a Python traceback."""
    failing = Command(["sh", "-c", "exit 3"], needed=lambda _t: True, system=False, label="venv")
    with pytest.raises(StepFailed, match="venv: sh -c exit 3 exited with 3"):
        run([failing], Target(tmp_path))
    script = (
        "import sys; from deploy import cli; from deploy.steps import StepFailed\n"
        "def fail(_argv): raise StepFailed('venv of release 0.1.0: pip exited with 1')\n"
        "cli._main = fail; sys.exit(cli.main([]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == (
        "deploy/install: FAILED venv of release 0.1.0: pip exited with 1; "
        "fix the cause and run it again\n"
    )


def test_the_installer_runs_on_the_system_python_alone():
    """deploy/install runs with a fresh Debian's python3, before any venv exists: what it
    imports (the settings classes, the store's command lines) needs only the standard library.
    `-S` leaves the venv's packages out, as a system python3 has none of them."""
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import deploy.cli, edge.settings, central.settings, replication.store; "
        "tops = {m.split('.')[0] for m in sys.modules} - {'__main__'}; "
        "print(sorted(tops - set(sys.stdlib_module_names)))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(ROOT)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['central',", "'deploy',", "'edge',", "'replication']"]


FOLLOW_ARGS = [
    "follow",
    "--shard", "1/2",
    "--nodes", "lianzhou=450521100000=https://lianzhou.example.gov.cn",
    "--store", "https://store.example.gov.cn",
    "--store-secret-key", "secret-central-0001",
]  # fmt: skip
FOLLOW_FILES = {
    "etc/cunban/follow1.env": 0o600,
    "usr/local/sbin/cunban-follow1": 0o750,
    "etc/systemd/system/cunban-follow1-follow.service": 0o644,
    "etc/systemd/system/cunban-follow1.target": 0o644,
    "opt/cunban/releases/0.1.0/RELEASE": 0o644,
}


def test_a_follow_machine_runs_centrals_follow_process_alone_on_its_shard(tmp_path):
    analyze = ensure("systemd-analyze", "systemd")
    root = tmp_path / "root"
    first = install(*FOLLOW_ARGS, "--root", root)
    assert first.returncode == 0, first.stderr
    assert written(root) == set(FOLLOW_FILES)  # no web process, no Caddy
    for path, mode in FOLLOW_FILES.items():
        assert stat.S_IMODE((root / path).stat().st_mode) == mode, path
    lines = (root / "etc/cunban/follow1.env").read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert values["CUNBAN_CENTRAL_FOLLOW_SHARD"] == "1/2"
    assert values["CUNBAN_CENTRAL_FOLLOW_SHIP"] == "true"
    assert values["CUNBAN_CENTRAL_FOLLOW_MODE"] == "poll"
    assert values["CUNBAN_CENTRAL_DATA_DIR"] == "/var/lib/cunban/follow1"
    assert values["CUNBAN_CENTRAL_S3_ACCESS_KEY"] == "central"  # reads every replica
    assert values["CUNBAN_CENTRAL_S3_SECRET_KEY"] == "secret-central-0001"
    for name in env_names(CentralSettings, CENTRAL_PREFIX):  # documented as central's file
        assert f"\n{name}=" in "\n" + "\n".join(lines) or f"\n#{name}=" in "\n".join(lines), name
    CentralSettings.from_environ(values).validate()  # the follow process accepts them
    # the same unit as central's follow process, but for the node's name
    assert install("central", "--domain", "c.example.gov.cn", "--root", root).returncode == 0
    ours = (root / "etc/systemd/system/cunban-follow1-follow.service").read_text()
    centrals = (root / "etc/systemd/system/cunban-central-follow.service").read_text()
    assert ours == centrals.replace("central.env", "follow1.env").replace(
        "cunban/central", "cunban/follow1"
    ).replace("cunban-central", "cunban-follow1").replace("Cunban central:", "Cunban follow1:")
    assert "ExecStart=/opt/cunban/current/.venv/bin/python -m central follow\n" in ours
    wrapper = (root / "usr/local/sbin/cunban-follow1").read_text()
    assert 'runuser -u cunban -- /opt/cunban/current/.venv/bin/python -m central "$@"' in wrapper
    units = tmp_path / "units"
    units.mkdir()
    for name in ("cunban-follow1-follow.service", "cunban-follow1.target"):
        text = (root / "etc/systemd/system" / name).read_text()
        (units / name).write_text(text.replace("/opt/cunban/", f"{root}/opt/cunban/"))
    checked = subprocess.run(
        [analyze, "verify", "--man=no", *(str(p) for p in sorted(units.iterdir()))],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0 and checked.stderr.strip() == "", checked.stderr

    second = install(*FOLLOW_ARGS, "--root", root)
    assert second.returncode == 0, second.stderr
    assert "nothing to change" in second.stdout and "done " not in second.stdout

    # central takes shard 0; the follow machines the others
    zero = install("central", "--domain", "c.example.gov.cn", "--shard", "0/2", "--root", root)
    assert zero.returncode == 0, zero.stderr
    assert "\nCUNBAN_CENTRAL_FOLLOW_SHARD=0/2\n" in (root / "etc/cunban/central.env").read_text()
    for wrong in ("0/2", "2/2", "one"):
        refused = install(*FOLLOW_ARGS[:2], wrong, *FOLLOW_ARGS[3:], "--root", tmp_path / "x")
        assert refused.returncode == 2 and "--shard must be i/n" in refused.stderr, wrong
    central_one = install(
        "central", "--domain", "c.example.gov.cn", "--shard", "1/2", "--root", tmp_path / "x"
    )
    assert central_one.returncode == 2 and "--shard must be 0/n" in central_one.stderr
    assert not (tmp_path / "x").exists()
