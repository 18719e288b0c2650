"""`python -m replication.bucket`: create the store's bucket once its cluster is up, unless it
exists (deploy/install's oneshot unit on each store machine; running it again changes nothing)."""

from __future__ import annotations

import argparse

from replication.store import bucket_command, ensure_bucket


def main(argv: list[str] | None = None) -> None:
    """Create the bucket through `weed shell`, waiting for the cluster up to --wait seconds."""
    parser = argparse.ArgumentParser(prog="python -m replication.bucket")
    parser.add_argument("--masters", required=True, help="ip:port of every master, comma-separated")
    parser.add_argument("--filer", required=True, help="ip:port of a filer")
    parser.add_argument("--weed", default="", help="the weed binary (default: the installed one)")
    parser.add_argument("--wait", type=float, default=300, help="seconds to wait for the cluster")
    args = parser.parse_args(argv)
    created = ensure_bucket(bucket_command(args.masters, args.filer, args.weed), args.wait)
    print("bucket created" if created else "bucket already there")


if __name__ == "__main__":
    main()
