"""In-memory stand-ins for the feed processor's bucket and stock writer (feed_processing/storage.py,
stock.py); the real ones are exercised against the emulator in tests/integration and tests/e2e."""

from botocore.exceptions import ClientError

THROTTLED = ClientError(
    {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems"
)


class MemoryFeed:
    def __init__(self, content: bytes):
        self.size, self.in_memory, self._content = len(content), True, content

    def chunks(self):
        yield self._content


class MemoryBucket:
    def __init__(self, files: dict[str, bytes]):
        self.files, self.reports = files, {}

    def open(self, source):
        return MemoryFeed(self.files[source.key])

    def write_report(self, source, report):
        self.reports[source.key] = report
        return f"reports/{source.name}.json"


class Stock:
    """Records every write; ``failing`` names keys whose own write raises, ``group_fails`` makes
    every transaction of several files raise (as throttling would); ``ledger`` holds the (key, chunk
    index) pairs an earlier delivery applied, which are skipped as the ledger's condition does."""

    def __init__(self, failing=(), group_fails=None, ledger=()):
        self.failing, self.group_fails, self.groups, self.alone = set(failing), group_fails, [], []
        self.ledger = set(ledger)

    def _newly_applied(self, source, chunk) -> bool:
        return (source.key, chunk.index) not in self.ledger

    def apply_together(self, entries):
        if self.group_fails and len(entries) > 1:
            raise self.group_fails
        self.groups.append([source.key for source, _ in entries])
        return [self._newly_applied(source, chunk) for source, chunk in entries]

    def apply(self, source, chunk):
        if source.key in self.failing:
            raise THROTTLED
        self.alone.append(source.key)
        return self._newly_applied(source, chunk)
