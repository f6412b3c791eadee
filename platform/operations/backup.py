"""Backup and restore of one KernelCamp install: the database and the data directory's state.

A backup is one .tar.gz:
  manifest.json        format, time, database engine, applied migrations, files
  database.sqlite3     SQLite: a consistent copy made with SQLite's online backup API, or
  database.pgdump      PostgreSQL: `pg_dump --format=custom` (one snapshot)
  data/...             KC_DATA_DIR's state: the secret key, the OpenID Connect signing key, the
                       hub's token, OAuth client and database (copied with the backup API too)
Submitted notebooks and project files are stored in the database, so they travel with it.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import connections

FORMAT = 1
# Under KC_DATA_DIR: caches and things made again at start-up, never backed up.
# The cache (cached sessions) is derived from the database: a restored database must not meet
# sessions cached after the backup was taken, so it is neither saved nor kept on restore.
SKIPPED_DATA = {"static", "mail", "backups", "cache"}
SKIPPED_SUFFIXES = ("-wal", "-shm", "-journal", ".pid", ".lock", ".sock")


class BackupError(RuntimeError):
    pass


def _database() -> dict:
    return settings.DATABASES["default"]


def engine() -> str:
    name = _database()["ENGINE"]
    if name.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in name:
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")


def _pg_env() -> tuple[list[str], dict]:
    db = _database()
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _sqlite_copy(source: Path | str, target: Path) -> None:
    """A consistent copy of a live SQLite file (WAL included), whatever writes meanwhile."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _is_sqlite_file(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def _applied_migrations() -> dict[str, str]:
    from django.db.migrations.recorder import MigrationRecorder

    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connections["default"]).applied_migrations():
        latest[app] = max(latest.get(app, ""), name)
    return latest


def _data_files(data_dir: Path, database_file: Path | None) -> list[Path]:
    files = []
    if not data_dir.is_dir():
        return files
    for path in sorted(data_dir.rglob("*")):
        relative = path.relative_to(data_dir)
        if relative.parts[0] in SKIPPED_DATA or not path.is_file() or path.is_symlink():
            continue
        if path.name.endswith(SKIPPED_SUFFIXES):
            continue
        if database_file is not None and path.resolve() == database_file.resolve():
            continue
        files.append(path)
    return files


def make_backup(output: Path) -> dict:
    """Write a backup archive to `output`; returns its manifest."""
    kind = engine()
    data_dir = Path(settings.DATA_DIR)
    database_file = Path(_database()["NAME"]) if kind == "sqlite" else None
    with tempfile.TemporaryDirectory(prefix="kc-backup-") as scratch:
        staging = Path(scratch)
        if kind == "sqlite":
            db_name = "database.sqlite3"
            _sqlite_copy(database_file, staging / db_name)
        else:
            db_name = "database.pgdump"
            args, env = _pg_env()
            dump = [
                shutil.which("pg_dump") or "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "--file",
                str(staging / db_name),
            ]
            result = subprocess.run(dump + args, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        copied = []
        for path in _data_files(data_dir, database_file):
            relative = path.relative_to(data_dir)
            target = staging / "data" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if _is_sqlite_file(path):
                _sqlite_copy(path, target)  # the hub's database, live
            else:
                shutil.copy2(path, target)
            copied.append(str(relative))
        manifest = {
            "format": FORMAT,
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "engine": kind,
            "database": db_name,
            "migrations": _applied_migrations(),
            "data_files": copied,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1))
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            for path in sorted(staging.rglob("*")):
                if path.is_file():
                    archive.add(path, arcname=str(path.relative_to(staging)))
        os.chmod(partial, 0o600)  # it holds the secret key and every password hash
        partial.replace(output)
    return manifest


def read_manifest(archive_path: Path) -> dict:
    with tarfile.open(archive_path, "r:gz") as archive:
        member = archive.extractfile("manifest.json")
        if member is None:
            raise BackupError("not a KernelCamp backup: no manifest.json")
        manifest = json.load(io.TextIOWrapper(member, encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def database_is_empty() -> bool:
    """A fresh install: no tables yet, or migrated with no user in it."""
    from django.contrib.auth import get_user_model

    connection = connections["default"]
    table = get_user_model()._meta.db_table
    if table not in connection.introspection.table_names():
        return True
    return not get_user_model().objects.exists()


def restore_backup(archive_path: Path, *, force: bool = False) -> dict:
    """Restore an archive onto this install (meant for a fresh one; `force` replaces data)."""
    manifest = read_manifest(archive_path)
    kind = engine()
    if manifest["engine"] != kind:
        raise BackupError(
            f"this backup holds a {manifest['engine']} database and this install uses {kind}"
        )
    if not force and not database_is_empty():
        raise BackupError(
            "this install already has users: restore onto a fresh install, or --force"
        )
    data_dir = Path(settings.DATA_DIR)
    with tempfile.TemporaryDirectory(prefix="kc-restore-") as scratch:
        staging = Path(scratch)
        with tarfile.open(archive_path, "r:gz") as archive:
            archive.extractall(staging, filter="data")
        connections.close_all()
        if kind == "sqlite":
            target = Path(_database()["NAME"])
            target.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            # Through the backup API, so that a process holding the file sees a whole database.
            _sqlite_copy(staging / manifest["database"], target)
        else:
            args, env = _pg_env()
            restore = [
                shutil.which("pg_restore") or "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
            ]
            result = subprocess.run(
                restore + args + [str(staging / manifest["database"])],
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        shutil.rmtree(data_dir / "cache", ignore_errors=True)
        caches["sessions"].clear()
        for relative in manifest["data_files"]:
            source = staging / "data" / relative
            target = data_dir / relative
            if not source.resolve().is_relative_to(staging.resolve()):
                raise BackupError(f"unsafe path in backup: {relative}")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return manifest
