"""Where the feed processor writes (feed_processing/storage.py): no two files' outputs share a key."""

from feed_processing.events import ObjectVersion
from feed_processing.storage import quarantine_keys, report_key
from hypothesis import assume, given
from hypothesis import strategies as st


def keys_of(name: str) -> list[str]:
    source = ObjectVersion("bucket", f"incoming/{name}", "v1")
    return [report_key(source), *quarantine_keys(source)]


def test_a_file_named_like_another_files_quarantine_report_takes_none_of_its_keys():
    keys = keys_of("x.csv") + keys_of("x.csv.report.json") + keys_of("x.csv.json")
    assert len(set(keys)) == len(keys), keys


names = st.text(st.sampled_from("ab./-_json"), min_size=1, max_size=24)


@given(first=names, second=names)
def test_outputs_of_different_files_never_collide(first, second):
    assume(first != second)
    keys = keys_of(first) + keys_of(second)
    assert len(set(keys)) == len(keys), keys
