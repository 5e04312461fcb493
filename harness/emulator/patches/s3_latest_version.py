"""A versioned write's cost independent of the key's history (patch ``s3_latest_version``).

Upstream (``services/s3.py``) clears ``is_latest`` on every version of the key on each
write and delete marker, so a put to a key with 10,000 versions walks 10,000 entries. Every path that
changes a key's history keeps one rule: only the newest entry, the last of the list, can be the latest
(a write or marker is appended latest after the flag is cleared; ``_version_entry_from_record`` and
``_preserve_null_version`` add entries not latest; a deleted version or a restart hands the flag to the
new last entry; dropping the null version of a suspended bucket leaves entries that were not). So
clearing the last entry is clearing them all. Same ListObjectVersions answers as upstream
(tests/integration/test_cpu_patches.py); could be proposed to MiniStack as is.
"""

from __future__ import annotations


def install() -> None:
    from ministack.services import s3

    s3._record_object_version = _record_object_version
    s3._record_delete_marker = _record_delete_marker


def _displace_latest(versions: list) -> None:
    """Clear the latest flag before anything is added (``_preserve_null_version`` appends the null version
    not latest), while the latest, if any, is still the last entry."""
    if versions:
        versions[-1]["is_latest"] = False


def _record_object_version(bucket_name: str, key: str, prior_obj: dict | None, obj: dict, data) -> str | None:
    """Upstream's ``_record_object_version``: the version bookkeeping of a write landing at ``key``."""
    from ministack.services import s3

    versioning = s3._bucket_versioning.get(bucket_name)
    if versioning != "Enabled":
        s3._object_annotations.pop((bucket_name, key, None), None)
    if versioning not in ("Enabled", "Suspended"):
        return None
    s3._persist_displaced_version(bucket_name, key, prior_obj, versioning)
    versions = s3._object_versions.setdefault((bucket_name, key), [])
    _displace_latest(versions)
    if versioning == "Enabled":
        s3._preserve_null_version(bucket_name, key, versions, prior_obj)
        version_id = s3.new_uuid()
        obj["version_id"] = version_id
    else:
        version_id = "null"
        versions[:] = [v for v in versions if v["version_id"] != "null"]
    entry = s3._version_entry_from_record(obj, version_id, data)
    entry["is_latest"] = True
    versions.append(entry)
    return version_id if versioning == "Enabled" else None


def _record_delete_marker(bucket_name: str, key: str, prior_obj: dict | None) -> str:
    """Upstream's ``_record_delete_marker``: append a delete marker, return its version id."""
    from ministack.services import s3

    enabled = s3._bucket_versioning.get(bucket_name) == "Enabled"
    s3._persist_displaced_version(bucket_name, key, prior_obj, "Enabled" if enabled else "Suspended")
    versions = s3._object_versions.setdefault((bucket_name, key), [])
    _displace_latest(versions)
    if enabled:
        s3._preserve_null_version(bucket_name, key, versions, prior_obj)
        marker_id = s3.new_uuid()
    else:
        marker_id = "null"
        versions[:] = [v for v in versions if v["version_id"] != "null"]
    marker = {
        "version_id": marker_id,
        "last_modified": s3.now_iso(),
        "etag": "",
        "size": 0,
        "is_latest": True,
        "is_delete_marker": True,
    }
    versions.append(marker)
    s3._persist_delete_marker(bucket_name, key, marker)
    return marker_id
