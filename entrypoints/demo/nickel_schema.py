"""Nickel's schema (firmware 4.38, DbVersion 174) and a way to create a fresh, empty database.

``CONTENT_DDL`` is the ``content`` table exactly as docs/reference/kobo.md §1.1 records it from a
real device; the other statements are the tables and indexes kksync touches or that hold rows
keyed on books (DbVersion, content_keys, volume_shortcovers, Bookmark, shelves, events).
``create_nickel_database`` builds demo and test devices; ``drop_columns`` imitates older
firmware whose ``content`` table lacks columns added later.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

NICKEL_DB_VERSION = 174
JOURNAL_MODES = ("delete", "wal", "truncate", "persist")
REQUIRED_COLUMNS = ("ContentID", "ContentType", "MimeType", "BookID", "___UserID")

CONTENT_DDL = """CREATE TABLE content(
  ContentID TEXT NOT NULL,
  ContentType TEXT NOT NULL,
  MimeType TEXT NOT NULL,
  BookID TEXT,
  BookTitle TEXT,
  ImageId TEXT,
  Title TEXT COLLATE NOCASE,
  Attribution TEXT COLLATE NOCASE,
  Description TEXT,
  DateCreated TEXT,
  ShortCoverKey TEXT,
  adobe_location TEXT,
  Publisher TEXT,
  IsEncrypted BOOL,
  DateLastRead TEXT,
  FirstTimeReading BOOL,
  ChapterIDBookmarked TEXT,
  ParagraphBookmarked INTEGER,
  BookmarkWordOffset INTEGER,
  NumShortcovers INTEGER,
  VolumeIndex INTEGER,
  ___NumPages INTEGER,
  ReadStatus INTEGER,
  ___SyncTime TEXT,
  ___UserID TEXT NOT NULL, PublicationId TEXT, ___FileOffset INTEGER, ___FileSize INTEGER,
  ___PercentRead INTEGER, ___ExpirationStatus INTEGER, FavouritesIndex NOT NULL DEFAULT -1,
  Accessibility INTEGER DEFAULT 1, ContentURL TEXT, Language TEXT, BookshelfTags TEXT,
  IsDownloaded BIT NOT NULL DEFAULT 1, FeedbackType INTEGER DEFAULT 0, AverageRating INTEGER DEFAULT 0,
  Depth INTEGER, PageProgressDirection TEXT, InWishlist BOOL NOT NULL DEFAULT FALSE, ISBN TEXT,
  WishlistedDate TEXT DEFAULT "0000-00-00T00:00:00.000", FeedbackTypeSynced INTEGER DEFAULT 0,
  IsSocialEnabled BOOL NOT NULL DEFAULT TRUE, EpubType INT NOT NULL DEFAULT -1,
  Monetization INTEGER DEFAULT 2, ExternalId TEXT, Series TEXT, SeriesNumber TEXT, Subtitle TEXT,
  WordCount INTEGER DEFAULT -1, Fallback TEXT, RestOfBookEstimate INTEGER,
  CurrentChapterEstimate INTEGER, CurrentChapterProgress FLOAT, PocketStatus INTEGER DEFAULT 0,
  UnsyncedPocketChanges TEXT, ImageUrl TEXT, DateAdded TEXT, WorkId TEXT, Properties TEXT,
  RenditionSpread TEXT, RatingCount INTEGER DEFAULT 0, ReviewsSyncDate TEXT, MediaOverlay TEXT,
  MediaOverlayType TEXT, RedirectPreviewUrl TEXT, PreviewFileSize INTEGER, EntitlementId TEXT,
  CrossRevisionId TEXT, DownloadUrl TEXT, ReadStateSynced BIT NOT NULL DEFAULT false,
  TimesStartedReading INTEGER, TimeSpentReading INTEGER, LastTimeStartedReading TEXT,
  LastTimeFinishedReading TEXT, ApplicableSubscriptions TEXT, ExternalIds TEXT,
  PurchaseRevisionId TEXT, SeriesID TEXT, SeriesNumberFloat REAL, AdobeLoanExpiration TEXT,
  HideFromHomePage bit, IsInternetArchive BOOL NOT NULL DEFAULT FALSE, titleKana TEXT,
  subtitleKana TEXT, seriesKana TEXT, attributionKana TEXT, publisherKana TEXT,
  IsPurchaseable BOOL DEFAULT TRUE, IsSupported BOOL DEFAULT TRUE, AnnotationsSyncToken TEXT,
  DateModified TEXT DEFAULT "0000-00-00T00:00:00.000", StorePages INTEGER DEFAULT 0,
  StoreWordCount INTEGER DEFAULT 0, StoreTimeToReadLowerEstimate INTEGER DEFAULT 0,
  StoreTimeToReadUpperEstimate INTEGER DEFAULT 0, Duration INTEGER DEFAULT 0,
  IsAbridged BOOL DEFAULT NULL, SyncConflictType INTEGER DEFAULT 0,
  PRIMARY KEY (ContentID)
)"""

COMPANION_DDL = (
    "CREATE TABLE DbVersion( version INTEGER NOT NULL, PRIMARY KEY(version))",
    "CREATE INDEX content_bookid_index ON content (BookID)",
    "CREATE TABLE content_keys ( volumeId TEXT NOT NULL, elementId TEXT NOT NULL, elementKey TEXT,"
    " PRIMARY KEY (volumeId, elementId))",
    "CREATE INDEX content_keys_volume ON content_keys (volumeid)",
    "CREATE TABLE volume_shortcovers(\t\tvolumeId TEXT NOT NULL,\t\tshortcoverId TEXT NOT NULL,"
    "\t\tVolumeIndex INTEGER,\t\tPRIMARY KEY (volumeId, shortcoverId))",
    "CREATE INDEX volume_shortcovers_shortcoverId ON volume_shortcovers (shortcoverId)",
    "CREATE TABLE Bookmark ( BookmarkID TEXT NOT NULL, VolumeID TEXT NOT NULL, ContentID TEXT NOT NULL,"
    " StartContainerPath TEXT NOT NULL, StartContainerChildIndex INTEGER NOT NULL,"
    " StartOffset INTEGER NOT NULL,"
    " EndContainerPath TEXT NOT NULL, EndContainerChildIndex INTEGER NOT NULL, EndOffset INTEGER NOT NULL,"
    " Text TEXT, Annotation TEXT, ExtraAnnotationData BLOB, DateCreated TEXT,"
    " ChapterProgress REAL NOT NULL DEFAULT 0, Hidden BOOL NOT NULL DEFAULT 0, Version TEXT,"
    " DateModified TEXT, Creator TEXT, UUID TEXT, UserID TEXT, SyncTime TEXT, Published BIT default false,"
    " ContextString TEXT, Type TEXT, PRIMARY KEY (BookmarkID) )",
    "CREATE INDEX bookmark_content ON bookmark (ContentID)",
    "CREATE INDEX bookmark_volume ON bookmark (VolumeID)",
    "CREATE TABLE Shelf ( CreationDate TEXT, Id TEXT, InternalName TEXT, LastModified TEXT, Name TEXT,"
    " Type TEXT, _IsDeleted BOOL, _IsVisible BOOL, _IsSynced BOOL, _SyncTime TEXT, LastAccessed TEXT,"
    " PRIMARY KEY(Id) )",
    "CREATE TABLE ShelfContent ( ShelfName TEXT, ContentId TEXT, DateModified TEXT, _IsDeleted BOOL,"
    " _IsSynced BOOL, PRIMARY KEY(ShelfName, ContentId) )",
    "CREATE TABLE Event ( EventType INTEGER NOT NULL, FirstOccurrence TEXT, LastOccurrence TEXT,"
    " EventCount INTEGER DEFAULT 0, ContentID TEXT, ExtraData BLOB, Checksum TEXT,"
    " PRIMARY KEY (EventType, ContentID) )",
    "CREATE TABLE SyncQueue ( Date TEXT, VolumeId TEXT, State INT, PRIMARY KEY(VolumeId) )",
)


def content_columns() -> list[str]:
    """The column names of ``CONTENT_DDL``, in order."""
    return [definition.split()[0] for definition in _content_definitions() if not _is_constraint(definition)]


def content_ddl(drop_columns: Sequence[str] = ()) -> str:
    """``CONTENT_DDL`` without the named columns, for building databases of older firmware."""
    if not drop_columns:
        return CONTENT_DDL
    unknown = set(drop_columns) - set(content_columns())
    if unknown:
        raise ValueError(f"not columns of the content table: {sorted(unknown)}")
    required = set(drop_columns) & set(REQUIRED_COLUMNS)
    if required:
        raise ValueError(f"every firmware has these content columns: {sorted(required)}")
    kept = [d for d in _content_definitions() if _is_constraint(d) or d.split()[0] not in drop_columns]
    return "CREATE TABLE content(\n  " + ",\n  ".join(kept) + "\n)"


def create_nickel_database(
    path: Path, *, journal_mode: str = "delete", drop_columns: Sequence[str] = ()
) -> None:
    """Create an empty Nickel database at ``path`` (which must not exist yet)."""
    if journal_mode.lower() not in JOURNAL_MODES:
        raise ValueError(f"unknown journal mode {journal_mode!r}; expected one of {JOURNAL_MODES}")
    if path.exists():
        raise FileExistsError(f"refusing to overwrite {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        connection.execute(f"PRAGMA journal_mode = {journal_mode.lower()}")
        connection.execute("BEGIN")
        connection.execute(content_ddl(drop_columns))
        for statement in COMPANION_DDL:
            connection.execute(statement)
        connection.execute("INSERT INTO DbVersion (version) VALUES (?)", (NICKEL_DB_VERSION,))
        connection.execute("COMMIT")


def _content_definitions() -> list[str]:
    """Column definitions and constraints of ``CONTENT_DDL``, split on top-level commas."""
    body = CONTENT_DDL[CONTENT_DDL.index("(") + 1 : CONTENT_DDL.rindex(")")]
    definitions: list[str] = []
    current: list[str] = []
    depth = 0
    for char in body:
        if char == "," and depth == 0:
            definitions.append("".join(current).strip())
            current = []
            continue
        depth += (char == "(") - (char == ")")
        current.append(char)
    definitions.append("".join(current).strip())
    return [definition for definition in definitions if definition]


def _is_constraint(definition: str) -> bool:
    return definition.upper().startswith("PRIMARY KEY")
