"""A persistent index of RPSL dumps: parsed once, reused until the dump file changes.

Each dump gets one SQLite file under ``<home>/irr/``, named by a hash of the
dump's resolved path plus a hash of its size and modification time (and the
index format version), so a new nightly dump is indexed again, an unchanged
one never is, and the index of the dump it replaced is removed.

Why a SQLite file per dump and not the main database or a pickle: measured on
the 1,000,000-object benchmark dump (``bench/irr_index.py``), writing this
index costs about 1.6 s on top of the parse, and opening it and expanding
1,000 AS-SETs takes 0.8 s, against 1.5 s just to load the same data from a
``marshal`` file (whose write is about 1 s cheaper); loading it into the main
database would put a million rows through the ORM and PostgreSQL for data that
is a disposable cache of a file. Deleting an index only costs the next sync a
re-index. It is written to a temporary file renamed into place, so a crash
never leaves a half-written index behind.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from ixp.errors import SourceUnavailable
from ixp.irr.rpsl import DumpContents, read_dump

log = logging.getLogger(__name__)

FORMAT_VERSION = "2"
_BATCH = 500
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE routes (origin INTEGER NOT NULL, family INTEGER NOT NULL, prefix TEXT NOT NULL);
CREATE TABLE as_sets (name TEXT PRIMARY KEY, members TEXT NOT NULL);
CREATE TABLE aut_nums (asn INTEGER PRIMARY KEY);
"""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def index_path(dump: Path, directory: Path) -> Path:
    """Where the index of ``dump`` lives; changes whenever the dump's size or mtime does."""
    resolved = dump.resolve()
    stat = resolved.stat()
    version = f"{FORMAT_VERSION}|{stat.st_size}|{stat.st_mtime_ns}"
    return directory / f"{_digest(str(resolved))}-{_digest(version)}.sqlite"


def _route_rows(contents: DumpContents) -> Iterator[tuple[int, int, str]]:
    for family, table in ((4, contents.routes4), (6, contents.routes6)):
        for origin, prefixes in table.items():
            for prefix in sorted(set(prefixes)):
                yield origin, family, prefix


def _write(dump: Path, contents: DumpContents, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".sqlite")
    os.close(fd)
    try:
        connection = sqlite3.connect(temporary)
        try:
            connection.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
            connection.executemany("INSERT INTO routes VALUES (?, ?, ?)", _route_rows(contents))
            connection.executemany(
                "INSERT INTO as_sets VALUES (?, ?)",
                ((name, " ".join(sorted(set(m)))) for name, m in contents.as_sets.items()),
            )
            connection.executemany(
                "INSERT INTO aut_nums VALUES (?)", ((asn,) for asn in contents.aut_nums)
            )
            connection.execute("CREATE INDEX routes_origin ON routes (origin, family)")
            connection.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("version", FORMAT_VERSION),
                    ("dump", str(dump.resolve())),
                    ("objects", str(contents.objects)),
                    ("skipped", str(contents.skipped)),
                    ("truncated", "1" if contents.truncated else ""),
                ],
            )
            connection.commit()
        finally:
            connection.close()
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class DumpIndex:
    """Lookups in the index of one dump (an open read-only SQLite connection)."""

    def __init__(self, dump: Path, path: Path) -> None:
        self.dump = dump
        self.path = path
        # as_uri() percent-escapes '#', '?' and '%', which a home directory may hold.
        self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        meta = dict(self._db.execute("SELECT key, value FROM meta"))
        if meta.get("version") != FORMAT_VERSION:
            self._db.close()
            raise sqlite3.DatabaseError(f"index format {meta.get('version')!r}")
        self.objects = int(meta["objects"])
        self.skipped = int(meta["skipped"])
        self.truncated = bool(meta["truncated"])

    def as_set(self, name: str) -> list[str] | None:
        """Members of the upper-case set ``name``, or None if the dump does not define it."""
        row = self._db.execute("SELECT members FROM as_sets WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0].split()

    def routes(self, asns: Sequence[int], family: int) -> list[str]:
        """Prefixes of ``family`` registered with any origin in ``asns``."""
        found: list[str] = []
        for start in range(0, len(asns), _BATCH):
            batch = asns[start : start + _BATCH]
            marks = ",".join("?" * len(batch))
            query = f"SELECT prefix FROM routes WHERE family = ? AND origin IN ({marks})"
            found.extend(row[0] for row in self._db.execute(query, (family, *batch)))
        return found

    def has_aut_num(self, asn: int) -> bool:
        """Whether the dump has an ``aut-num`` object for ``asn``."""
        return (
            self._db.execute("SELECT 1 FROM aut_nums WHERE asn = ?", (asn,)).fetchone() is not None
        )

    def close(self) -> None:
        """Release the SQLite connection."""
        self._db.close()


def load_index(dump: Path, directory: Path) -> DumpIndex:
    """The index of ``dump``: opened from ``directory`` if current, otherwise built first."""
    if not dump.is_file():
        raise SourceUnavailable(f"rpsl: {str(dump)!r} is not a readable file")
    target = index_path(dump, directory)
    if target.exists():
        try:
            return DumpIndex(dump, target)
        except (sqlite3.DatabaseError, KeyError, ValueError):
            log.warning("index %s is unreadable; rebuilding it", target)
    log.info("indexing RPSL dump %s", dump)
    try:
        contents = read_dump(dump)
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceUnavailable(f"rpsl: {str(dump)!r} cannot be read: {exc}") from exc
    _write(dump, contents, target)
    for stale in directory.glob(f"{target.name.split('-', 1)[0]}-*.sqlite"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return DumpIndex(dump, target)


class Registry:
    """Several dumps searched together, like bgpq4's ``-S`` source list.

    An AS-SET defined in more than one dump is taken from the first dump that
    has it (registries disagree, and the order of ``--rpsl`` is the operator's
    preference); route objects are the union of all dumps.
    """

    def __init__(self, indexes: Sequence[DumpIndex]) -> None:
        self.indexes = tuple(indexes)

    @property
    def truncated(self) -> list[Path]:
        """The dumps that end mid-line or mid-object (cut short, most likely)."""
        return [index.dump for index in self.indexes if index.truncated]

    def as_set(self, name: str) -> list[str] | None:
        """Members of the AS-SET ``name`` (any case), or None if no dump defines it."""
        key = name.upper()
        for index in self.indexes:
            members = index.as_set(key)
            if members is not None:
                return members
        return None

    def routes(self, asns: Iterable[int], family: int) -> list[str]:
        """Every prefix of ``family`` registered with an origin in ``asns``, in any dump."""
        ordered = sorted(asns)
        return [prefix for index in self.indexes for prefix in index.routes(ordered, family)]

    def has_aut_num(self, asn: int) -> bool:
        """Whether any dump has an ``aut-num`` object for ``asn``."""
        return any(index.has_aut_num(asn) for index in self.indexes)

    def close(self) -> None:
        """Release every index."""
        for index in self.indexes:
            index.close()


def open_registry(dumps: Sequence[Path], directory: Path) -> Registry:
    """A registry over ``dumps``, each indexed once and reused while unchanged."""
    indexes: list[DumpIndex] = []
    try:
        for path in dumps:
            indexes.append(load_index(path, directory))
    except BaseException:
        Registry(indexes).close()
        raise
    return Registry(indexes)
