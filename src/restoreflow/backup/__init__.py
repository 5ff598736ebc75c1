"""Velero backups over fsspec: reading a backup storage location, the archive, restore records.

`BackupStorage.open(url)` opens a BSL (a local folder, `s3://`, `gs://`, `az://`...);
`open_archive()` streams a backup's tar.gz once; `RestoreRecords` writes and reads what a restore
leaves in the BSL; `BackupBuilder` writes Velero-format backups (tests, the demo).
"""

from .archive import BackupArchive, ResourceVersions, item_path
from .builder import BackupBuilder
from .errors import BackupError, BackupNotFound, ItemError, RestoreNotFound, ScheduleHasNoBackup
from .records import RestoreRecords
from .sample import SampleApplication, sample_application, sample_backup
from .storage import BackupRecord, BackupStorage

__all__ = [
    "BackupArchive",
    "BackupBuilder",
    "BackupError",
    "BackupNotFound",
    "BackupRecord",
    "BackupStorage",
    "ItemError",
    "ResourceVersions",
    "RestoreNotFound",
    "RestoreRecords",
    "SampleApplication",
    "ScheduleHasNoBackup",
    "item_path",
    "sample_application",
    "sample_backup",
]
