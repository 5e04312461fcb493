import pytest
from botocore.exceptions import ClientError
from feed_processing.events import ObjectVersion
from feed_processing.faults import Faults

FLAKY = ObjectVersion("b", "incoming/run42-flaky.csv", "v1")
OTHER = ObjectVersion("b", "incoming/other.csv", "v1")


@pytest.mark.parametrize("setting", ["", "  "])
def test_off_when_the_setting_is_empty(setting):
    faults = Faults.from_setting(setting)
    faults.before_object(FLAKY)
    faults.after_chunk(FLAKY, 0, applied=True)
    assert faults == Faults()


def test_transient_faults_hit_only_matching_keys():
    faults = Faults.from_setting('{"keys": "run42", "transient": true}')
    faults.before_object(OTHER)
    with pytest.raises(ClientError, match="SlowDown"):
        faults.before_object(FLAKY)


def test_a_crash_happens_only_where_this_delivery_applied_the_chunk(monkeypatch):
    exits = []
    monkeypatch.setattr("os._exit", exits.append)
    faults = Faults(keys="run42", crash_after_chunk=1)
    faults.after_chunk(FLAKY, 0, applied=True)
    faults.after_chunk(FLAKY, 1, applied=False)
    faults.after_chunk(OTHER, 1, applied=True)
    assert exits == []
    faults.after_chunk(FLAKY, 1, applied=True)
    assert exits == [86]
