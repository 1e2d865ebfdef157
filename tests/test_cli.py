"""The command line itself: usage lines and unknown options (run in-process)."""
from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout

import pytest

from gradcli import cli


def gradcli(*args: str) -> tuple[int, str, str]:
    """The real entry point (gradcli.cli.main), in-process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), pytest.raises(SystemExit) as exit_:
        cli.main(list(args))
    return exit_.value.code, out.getvalue(), err.getvalue()


def test_check_usage_names_files_as_a_user_writes_them():
    code, out, err = gradcli("check", "--help")
    assert code == 0
    assert out.splitlines()[0] == "Usage: gradcli check [OPTIONS] FILE..."
    assert "{" not in out.splitlines()[0]
    code, out, err = gradcli("check")
    assert code == 2 and err == "error: usage: Missing argument 'FILE...'. (see gradcli --help)\n"


@pytest.mark.parametrize("args", [
    ("derive", "x**2", "--lr", "0.1"),
    ("derive", "--lr", "0.1", "x**2"),
    ("derive", "x**2", "--lr=0.1"),
    ("derive", "x**2", "--at", "x=1", "--lr", "0.1"),
])
def test_derive_names_an_unknown_option(args):
    code, out, err = gradcli(*args)
    assert code == 2 and out == ""
    assert err == "error: usage: No such option: --lr (see gradcli --help)\n"


def test_derive_refuses_a_second_expression():
    code, out, err = gradcli("derive", "x**2", "y")
    assert code == 2
    assert err == "error: usage: unexpected extra argument(s): y (see gradcli --help)\n"


@pytest.mark.parametrize("expression, value", [("-x**2", -2.0), ("-x", -1.0), ("-(-x)", 1.0),
                                               ("- -x", 1.0)])
def test_an_expression_starting_with_minus_is_still_an_expression(expression, value):
    import json

    code, out, err = gradcli("derive", expression, "--at", "x=1", "--json", "--no-steps")
    assert code == 0, err
    assert json.loads(out)["gradient"][0]["reverse"] == value
