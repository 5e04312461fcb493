"""Puts the feed processor's folder on sys.path, as its image's /var/task is, for tests of its modules."""

import sys
from pathlib import Path

FEED_PROCESSOR_DIR = Path(__file__).resolve().parents[1] / "functions" / "feed_processor"


def importable() -> None:
    if str(FEED_PROCESSOR_DIR) not in sys.path:
        sys.path.insert(0, str(FEED_PROCESSOR_DIR))
