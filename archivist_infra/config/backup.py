"""The `backup` section: Velero backups of the stack's namespace.

On by default where the stack is protected on a cloud (`protect: true` on gke/eks/aks): the
stack creates the bucket and the identity. A local stack may point at any S3-compatible target
(`backup.s3`), off by default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .reader import ConfigReader

# Velero's schedule is a standard 5-field cron expression (robfig/cron), e.g. "0 3 * * *".
_CRON = re.compile(r"^(@(hourly|daily|weekly|monthly|yearly|annually|midnight)|(\S+\s+){4}\S+)$")
# Velero's ttl is a Go duration (metav1.Duration): hours are the largest unit, e.g. "720h".
_DURATION = re.compile(r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$")
CLOUDS = ("gke", "eks", "aks")


@dataclass(frozen=True)
class S3Target:
    bucket: str
    region: str
    url: str  # e.g. http://minio.minio.svc:9000
    credentials_secret: str  # an existing Secret in namespace velero, key `cloud` (AWS credentials file)


@dataclass(frozen=True)
class BackupSettings:
    enabled: bool = False
    schedule: str = "0 3 * * *"
    ttl: str = "720h"  # how long Velero keeps each backup (30 days)
    bucket_retention_days: int = 90  # lifecycle: noncurrent object versions expire after this many days
    s3: S3Target | None = None

    @property
    def ttl_hours(self) -> int:
        match = re.match(r"^([0-9]+)h", self.ttl)
        return int(match.group(1)) if match else 0


def parse_backup(root: ConfigReader, *, platform: str, protect: bool) -> BackupSettings:
    section = root.section("backup")
    on_cloud = platform in CLOUDS
    enabled = section.boolean("enabled", protect and on_cloud)
    schedule = section.string("schedule", "0 3 * * *", pattern=_CRON, hint="a cron expression, e.g. '0 3 * * *'")
    ttl = section.string("ttl", "720h", pattern=_DURATION, hint="a duration in hours, e.g. '720h' (30 days)")
    if not ttl:
        section.problems.add(section.key("ttl"), "must not be empty; e.g. '720h' (30 days)")
    retention = section.integer("bucketRetentionDays", 90, minimum=1, maximum=3650)
    s3: S3Target | None = None
    if section.has("s3"):
        s3_section = section.section("s3")
        s3 = S3Target(
            bucket=s3_section.string("bucket", ""),
            region=s3_section.string("region", "us-east-1"),
            url=s3_section.string("url", "", pattern=re.compile(r"^https?://"), hint="e.g. http://minio.minio.svc:9000"),
            credentials_secret=s3_section.string("credentialsSecret", ""),
        )
        for key, value in (("bucket", s3.bucket), ("url", s3.url), ("credentialsSecret", s3.credentials_secret)):
            if not value:
                s3_section.problems.add(s3_section.key(key), "is required for an S3-compatible backup target")
        s3_section.reject_unknown()
        if on_cloud:
            s3_section.problems.add(s3_section.key("bucket"),
                                    f"is for local stacks; on {platform} the stack creates its own bucket: remove backup.s3")
    section.reject_unknown()
    settings = BackupSettings(enabled=enabled, schedule=schedule, ttl=ttl, bucket_retention_days=retention, s3=s3)
    if enabled and not on_cloud and s3 is None:
        section.problems.add(section.key("enabled"),
                             "a local stack needs a target: set backup.s3.bucket, backup.s3.url and "
                             "backup.s3.credentialsSecret (an S3-compatible store such as MinIO)")
    if enabled and settings.ttl_hours // 24 >= retention:
        section.problems.add(section.key("bucketRetentionDays"),
                             f"{retention} days would expire objects of backups Velero still keeps (ttl {ttl}); "
                             f"raise it above {settings.ttl_hours // 24}")
    return settings
