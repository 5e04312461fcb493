"""The CLI starts at once: harness/cli.py imports only what parsing needs and each command's module
when that command runs (issue 28: every command paid 1-2.6 s of imports before it started, cfn-lint's
1.2 s among them; bench/cli_bench.py measures the start itself). What a command asks is parsed with
its own arguments, and a mistyped command is answered with the one meant."""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import subprocess
import sys

import pytest

from harness import cli
from harness.commands import COMMANDS, Registry
from harness.commands import lifecycle as lifecycle_commands

# Each of these takes a tenth of a second or more to import; none is needed to parse or to read the
# state files.
HEAVY = ("boto3", "botocore", "cfnlint", "samtranslator", "docker", "graphviz", "ministack", "networkx")
# `harness deploy`, stopped while it imports what the deploy needs (the stack's lifecycle, which the
# CLI imported at its top before issue 28): the import waits on stdin, which never comes, so the test's
# Ctrl-C lands in it.
_INTERRUPTED_WHILE_IMPORTING = """
import importlib.abc, sys

class WaitInImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "harness.stack.lifecycle":
            print("importing", flush=True)
            sys.stdin.readline()
        return None

sys.meta_path.insert(0, WaitInImport())
from harness.cli import main
sys.exit(main(["deploy"]))
"""
# Runs ``main(argv)`` and writes the modules it imported to the file named last, however it ended.
_MAIN_THEN_MODULES = """
import json, sys
from harness.cli import main
try:
    main(sys.argv[1:-1])
finally:
    open(sys.argv[-1], "w").write(json.dumps(sorted(sys.modules)))
"""


def heavy_modules(names: list[str]) -> list[str]:
    return sorted(name for name in names if name.split(".")[0] in HEAVY)


def test_importing_the_cli_imports_no_heavy_module():
    imported = subprocess.run(
        [sys.executable, "-c", "import json, sys, harness.cli; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert heavy_modules(json.loads(imported)) == []


@pytest.mark.parametrize("argv", [["--help"], ["status"], ["token"], ["logs", "HealthFunction"]])
def test_a_command_starts_without_heavy_modules(tmp_path, argv):
    modules_file = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", _MAIN_THEN_MODULES, *argv, str(modules_file)],
        env={"PATH": "/usr/bin:/bin", "HARNESS_STATE_DIR": str(tmp_path / "state")},  # nothing running
        capture_output=True,
        check=False,
    )
    assert heavy_modules(json.loads(modules_file.read_text())) == []


@pytest.mark.parametrize("group", sorted({command.group for command in COMMANDS.values()}))
def test_every_group_registers_a_handler_for_each_of_its_commands(group):
    names = [name for name, command in COMMANDS.items() if command.group == group]
    parsers = {name: argparse.ArgumentParser() for name in names}
    importlib.import_module(f"harness.commands.{group}").register(Registry(parsers))
    assert {
        name: callable(parser.get_default("handler")) for name, parser in parsers.items()
    } == dict.fromkeys(names, True)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_commands_help_is_printed(name, capsys):
    with pytest.raises(SystemExit) as exit_status:
        cli.main([name, "--help"])
    assert exit_status.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: harness {name} ")


def test_a_command_is_parsed_with_its_own_arguments(capsys):
    with pytest.raises(SystemExit) as exit_status:
        cli.main(["logs", "HealthFunction", "--since", "soon"])
    assert exit_status.value.code == 2
    assert "--since" in capsys.readouterr().err


def test_a_mistyped_command_is_answered_with_the_one_meant(capsys):
    with pytest.raises(SystemExit) as exit_status:
        cli.main(["stauts"])
    assert exit_status.value.code == 2
    error = capsys.readouterr().err
    assert "unknown command 'stauts'; did you mean 'status'?" in error
    assert "deploy" not in error  # not every command listed again


def test_a_word_like_no_command_is_only_said_unknown(capsys):
    with pytest.raises(SystemExit):
        cli.main(["xyzzy"])
    error = capsys.readouterr().err
    assert "unknown command 'xyzzy'" in error and "did you mean" not in error


def test_ctrl_c_while_a_command_imports_ends_without_a_traceback(tmp_path):
    importing = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED_WHILE_IMPORTING],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HARNESS_STATE_DIR": str(tmp_path)},
        # SIGINT's default action, as in a terminal, whatever this run inherited (testkit/cli.py).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert importing.stdout is not None and importing.stdout.readline() == "importing\n"
    importing.send_signal(signal.SIGINT)
    _, err = importing.communicate(timeout=60)
    assert importing.returncode == 130 and err == "harness: interrupted\n", err


def failed_deploy(paths, args) -> int:
    from harness.stack.deploy import DeployError

    raise DeployError(
        "stack order-platform is UPDATE_ROLLBACK_COMPLETE:\n  Api (AWS::ApiGateway::RestApi): 'id'"
    )


def test_a_failed_deploy_is_reported_in_its_own_words_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setattr(lifecycle_commands, "deploy", failed_deploy)
    assert cli.main(["deploy"]) == 1
    assert capsys.readouterr().err == (
        "harness: stack order-platform is UPDATE_ROLLBACK_COMPLETE:\n  Api (AWS::ApiGateway::RestApi): 'id'\n"
    )
