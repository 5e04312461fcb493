from tests.feed_code import importable

importable()
