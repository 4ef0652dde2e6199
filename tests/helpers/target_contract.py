"""What every target must do, checked the same way against each real one."""

from __future__ import annotations

from repro.targets.base import Target, run_shell


def check_contract(target: Target) -> None:
    result = target.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.returncode, result.text.strip(), result.error_text) == (3, "out", "err")
    # A missing command is 127 everywhere, never an exception.
    assert target.run(["definitely-not-a-command-xyz"]).returncode == 127
    # Arguments arrive verbatim: no word splitting, no expansion on the way.
    assert run_shell(target, 'printf "%s|" "$@"', "a b", "$HOME", "'q'").text == "a b|$HOME|'q'|"
    assert target.run(["cat"], stdin=b"piped\x00bytes").stdout == b"piped\x00bytes"
    description = target.describe()
    assert set(description) == {"kind", "identity", "user"}
    assert description["kind"] == target.kind and description["identity"]
    assert description["user"]
