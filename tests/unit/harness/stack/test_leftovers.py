"""Nothing names a stack that is gone: its outputs file goes with it (issue 28, item 3)."""

from __future__ import annotations

import json

from harness.emulator.run.process import KEEP_STATE_ENV
from harness.paths import Paths
from harness.stack.lifecycle import remove_leftovers, remove_outputs_of


def write_outputs(paths: Paths, endpoint_url: str) -> None:
    paths.outputs.write_text(json.dumps({"endpointUrl": endpoint_url, "outputs": {}}))


def test_down_removes_the_outputs_file_even_when_the_emulator_state_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv(KEEP_STATE_ENV, "1")
    paths = Paths(tmp_path, state_dir=tmp_path / "state")
    write_outputs(paths, "http://127.0.0.1:4566")
    (paths.state / "ministack-state").mkdir()
    remove_leftovers(paths)
    assert not paths.outputs.exists()
    assert (paths.state / "ministack-state").is_dir()  # kept, as asked, to inspect


def test_a_stopping_stack_removes_the_outputs_file_only_when_it_names_that_stack(tmp_path):
    paths = Paths(tmp_path, state_dir=tmp_path / "state")
    write_outputs(paths, "http://127.0.0.1:4566")
    remove_outputs_of(paths, "http://127.0.0.1:5000")  # another stack wrote it since
    assert paths.outputs.exists()
    remove_outputs_of(paths, "http://127.0.0.1:4566")
    assert not paths.outputs.exists()
    remove_outputs_of(paths, "http://127.0.0.1:4566")  # none: nothing to do
