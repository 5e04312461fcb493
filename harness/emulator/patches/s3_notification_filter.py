"""S3 event notifications decided before any work is spent on them (patch ``s3_notification_filter``).

Upstream starts a thread for every write to a bucket with a notification configuration, and only there
parses the configuration's XML and checks the event's name and the key's prefix and suffix against it;
a bucket whose notifications want one kind of key (a feed's ``incoming/`` prefix) pays that on every
report, every marker, every write. Here the parsed configuration is kept per XML text, and an event that
no configuration wants (and no EventBridge delivery) is dropped before a thread is started. The event
sequence still advances, so every delivered event carries the sequencer it has upstream.
Same deliveries as upstream (tests/integration/test_cpu_patches.py); could be proposed to MiniStack as is.
"""

from __future__ import annotations

import functools

# Distinct notification configurations kept (one per bucket that has one).
PARSED_CONFIGURATIONS = 1024


def install() -> None:
    from ministack.services import s3

    parse = functools.lru_cache(maxsize=PARSED_CONFIGURATIONS)(s3._parse_notification_config_raw)
    fire_async = s3._fire_s3_event_async

    def _parse_notification_config_raw(raw):
        # Shallow copies: the callers read the configurations and never change them.
        return [dict(config) for config in parse(raw)]

    def _fire_s3_event_async(bucket_name, key, event_name, *args, **kwargs):
        raw = s3._bucket_notifications.get(bucket_name)
        if raw and "EventBridgeConfiguration" not in raw and not _wanted(s3, parse(raw), key, event_name):
            s3._next_event_sequencer(event_name)
            return
        fire_async(bucket_name, key, event_name, *args, **kwargs)

    s3._parse_notification_config_raw = _parse_notification_config_raw
    s3._fire_s3_event_async = _fire_s3_event_async


def _wanted(s3, configs, key: str, event_name: str) -> bool:
    """Whether a configuration delivers ``event_name`` for ``key`` (the filter upstream's thread applies)."""
    return any(
        s3._event_matches(event_name, config["events"])
        and s3._key_matches_filter(key, config["filter_prefix"], config["filter_suffix"])
        for config in configs
    )
