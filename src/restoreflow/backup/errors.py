"""What can go wrong reading backups and restore records."""

from __future__ import annotations


class BackupError(Exception):
    """A backup or restore record that cannot be read or written; the message names the file."""


class BackupNotFound(BackupError):
    """The named backup has no `velero-backup.json` in the storage location."""

    def __init__(self, name: str, location: str | None = None) -> None:
        where = f" in backup storage location {location}" if location else ""
        super().__init__(f'backup "{name}" not found{where}')
        self.name = name


class ScheduleHasNoBackup(BackupNotFound):
    """No (completed) backup of a schedule: Velero's own validation messages."""

    def __init__(self, schedule: str, message: str) -> None:
        BackupError.__init__(self, message)
        self.name = schedule


class RestoreNotFound(BackupError):
    """The named restore has no record in the storage location."""

    def __init__(self, name: str, location: str | None = None) -> None:
        where = f" in backup storage location {location}" if location else ""
        super().__init__(f'restore "{name}" not found{where}')
        self.name = name


class ItemError(BackupError):
    """One archive item that cannot be used; only that item fails (Velero's behaviour).

    `str()` is Velero's per-item error, `error decoding "<path>": <message>`.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f'error decoding "{path}": {message}')
        self.path = path
        self.message = message
