"""A stale session file never makes the harness signal a process it did not start."""

import subprocess
import sys

from harness import processes


def test_stop_leaves_alone_a_process_that_reused_the_pid(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        # What a session file of an earlier run would hold: this pid, but another process's start.
        stale = processes.ManagedProcess("emulator", other.pid, str(tmp_path / "log"), started="1")
        assert not stale.running()
        processes.stop(stale, timeout_s=1)
        assert other.poll() is None, "an unrelated process was signalled"
        ours = processes.ManagedProcess("emulator", other.pid, "", started=processes.start_time(other.pid))
        assert ours.running()
        processes.stop(ours, timeout_s=5)
        assert other.wait(5) is not None
    finally:
        other.kill()
