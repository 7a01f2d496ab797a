"""The project's error hierarchy: every adapter raises subclasses of ``KksyncError``.

A ``BookError`` concerns one book: the run reports it and goes on with the others.
"""

from __future__ import annotations


class KksyncError(Exception):
    """Base of every error kksync raises on purpose."""


class ConfigurationError(KksyncError):
    """A setting has an unknown name or a value outside what it allows."""


class DeviceError(KksyncError):
    """The Kobo cannot be found, or its database cannot be opened at all."""


class BookError(KksyncError):
    """Something about one book failed; the book is skipped and the run goes on.

    The message is one line naming the book and the file, as the person will read it.
    """


class KoboDatabaseError(BookError):
    """Reading or writing a book's rows in KoboReader.sqlite failed; nothing of it was written."""


class KoboDatabaseLocked(KoboDatabaseError):
    """Nickel (or anything else) held the write lock past the busy timeout."""


class CorruptDatabase(DeviceError):
    """SQLite says the Kobo database is damaged (malformed, or not a database at all)."""


class ReadOnlyDatabase(DeviceError):
    """The database file or its file system cannot be written."""


class LedgerError(DeviceError):
    """The sync ledger on the device is damaged or cannot be written."""


class BackupError(DeviceError):
    """The backup before the first write failed, so nothing is written."""


class SidecarError(BookError):
    """A KOReader sidecar is unreadable, hostile or cannot be written."""


class BookContentError(BookError):
    """The book file cannot be read as an EPUB."""


class EncryptedBook(BookContentError):
    """The book file is DRM-protected; its positions cannot be converted."""


class StaleQuestion(KksyncError):
    """A prompt was answered after the book changed (or the question is unknown here)."""
