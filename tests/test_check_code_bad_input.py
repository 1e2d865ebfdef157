"""check-code on files that cannot be used: exit 2, one `error:` line, no traceback, no hang."""
from __future__ import annotations

import json

import pytest

from codecli import EXAMPLES, code, code_json, write


def one_error(result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def test_missing_file(tmp_path):
    assert one_error(code(tmp_path / "nope.py")) == "error: {}: no such file".format(
        tmp_path / "nope.py")


def test_binary_file_is_not_python(tmp_path):
    path = tmp_path / "data.py"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    assert one_error(code(path)).endswith("not a Python file (not UTF-8 text)")


def test_yaml_spec_is_pointed_to_check():
    line = one_error(code(EXAMPLES.parent / "specs" / "sigmoid_121.yaml"))
    assert line.endswith("a YAML network definition, not Python: use gradcli check")


def test_syntax_error_has_file_line_and_column(tmp_path):
    path = write(tmp_path, "bad.py", "import math\n\ndef f(x:\n    return x\n")
    line = one_error(code(path))
    assert line.startswith("error: {}:3:".format(path))
    assert "SyntaxError" in line


def test_missing_import(tmp_path):
    path = write(tmp_path, "needs.py", "import math\nimport no_such_module_gradcli\n")
    assert one_error(code(path)) == ("error: {}:2: ModuleNotFoundError: No module named "
                                     "'no_such_module_gradcli'".format(path))


def test_exception_at_import_names_the_users_line(tmp_path):
    path = write(tmp_path, "boom.py", "x = 1\n\ndef f():\n    raise ValueError('bad size')\n\nf()\n")
    assert one_error(code(path)) == "error: {}:4: ValueError: bad size".format(path)


def test_nothing_checkable(tmp_path):
    path = write(tmp_path, "plain.py", "x = 1\ndef helper(a):\n    return a\n")
    line = one_error(code(path))
    assert line.startswith("error: {}: nothing checkable".format(path))


def test_endless_loop_at_import_hits_the_timeout(tmp_path):
    path = write(tmp_path, "loop.py", "while True:\n    pass\n")
    line = one_error(code(path, "--timeout", "1"))
    assert line == ("error: {}: ran past the time limit --timeout 1 s (an endless loop, or a "
                    "check too slow for the limit)".format(path))


def test_unbounded_allocation_hits_the_memory_budget(tmp_path):
    path = write(tmp_path, "hog.py", "chunks = []\nwhile True:\n"
                                     "    chunks.append(bytearray(50 * 2**20))\n")
    line = one_error(code(path, "--max-memory", "300M", "--timeout", "30"))
    assert line.startswith("error: {}:3: out of memory at import".format(path))
    assert "--max-memory 300M" in line


def test_sys_exit_at_import(tmp_path):
    path = write(tmp_path, "quits.py", "import sys\nsys.exit(3)\n")
    assert one_error(code(path)) == ("error: {}:2: the file calls sys.exit(3) at import; put "
                                     "that code under if __name__ == \"__main__\":".format(path))


def test_os_exit_at_import(tmp_path):
    path = write(tmp_path, "dies.py", "import os\nos._exit(4)\n")
    assert one_error(code(path)).endswith("the code ended the process (exit status 4) before "
                                          "it could be checked")


def test_main_block_does_not_run(tmp_path):
    path = write(tmp_path, "guarded.py", EXAMPLES.joinpath("value.py").read_text()
                 + "\nif __name__ == '__main__':\n    raise SystemExit('training')\n")
    assert code(path).exit_code == 0


def test_input_is_read_relative_to_a_temporary_directory(tmp_path):
    # the user's code runs in an empty temporary directory, not in the caller's
    path = write(tmp_path, "cwd.py", "import os\nassert os.listdir('.') == [], os.listdir('.')\n"
                 + EXAMPLES.joinpath("value.py").read_text())
    assert code(path).exit_code == 0


@pytest.mark.parametrize("args, message", [
    (["--make", "Linear(__import__('os'))"], "error: --make: only literal arguments"),
    (["--make", "Linear(3"], "error: --make: not a call"),
    (["--make", "os.system('ls')"], "error: --make: expected one call of a class name"),
    (["--input", "affine=4x3,three"], "error: --input: 'three' is not a shape"),
    (["--input", "4x3"], "error: --input: expected NAME=SHAPE"),
    (["--max-memory", "lots"], "error: --max-memory: expected a size such as 512M or 2G"),
    (["--timeout", "0"], "error: --timeout: must be a positive number"),
    (["--rtol", "-1"], "error: --rtol: must be a finite number >= 0"),
])
def test_bad_options(args, message):
    result = code(EXAMPLES / "value.py", *args, "--json")
    assert one_error(result).startswith(message)
    assert result.stdout == ""


def test_make_for_a_class_the_file_does_not_define():
    line = one_error(code(EXAMPLES / "layers.py", "--make", "Conv(3)"))
    assert line == "error: --make: layers.py defines no class Conv".replace(
        "layers.py", str(EXAMPLES / "layers.py"))


def test_construction_error_is_exit_2_with_the_users_line(tmp_path):
    path = write(tmp_path, "ctor.py", "import numpy as np\n\nclass Layer:\n"
                 "    def __init__(self, n):\n        if n < 0:\n"
                 "            raise ValueError('n must be >= 0')\n        self.W = np.ones((n, n))\n"
                 "    def forward(self, x):\n        return x @ self.W\n"
                 "    def backward(self, dout):\n        return dout @ self.W.T\n")
    status, lines, stderr = code_json(path, "--make", "Layer(-1)")
    assert status == 2
    assert stderr.strip() == "error: {}:6: ValueError: n must be >= 0".format(path)
    assert lines[0]["exit"] == 2 and lines[0]["ok"] is False
    assert lines[0]["target"] == "Layer(-1)"
    assert lines[0]["error"] == stderr.strip()


def test_several_files_worst_exit_and_a_json_line_for_the_unusable(tmp_path):
    missing = tmp_path / "s6.py"
    status, lines, stderr = code_json(EXAMPLES / "value.py", missing,
                                      EXAMPLES / "value_bug_tanh.py")
    assert status == 2
    assert [l["file"] for l in lines] == [str(EXAMPLES / "value.py"), str(missing),
                                          str(EXAMPLES / "value_bug_tanh.py")]
    assert lines[1] == {"file": str(missing), "ok": False, "exit": 2,
                        "error": "error: {}: no such file".format(missing)}
    assert [l["ok"] for l in lines] == [True, False, False]
    assert stderr.strip() == "error: {}: no such file".format(missing)


def test_failing_check_is_exit_1_over_passing_files():
    status, lines, _ = code_json(EXAMPLES / "value.py", EXAMPLES / "layers_bug_zero.py")
    assert status == 1


def test_json_lines_are_valid_json_even_for_tracebacks_in_checks(tmp_path):
    path = write(tmp_path, "raises.py", "import numpy as np\n\nclass Bad:\n"
                 "    def forward(self, x):\n        self.x = x\n        return 2 * x\n"
                 "    def backward(self, dout):\n        return dout[:, 99]\n")
    status, lines, stderr = code_json(path)
    assert status == 1 and stderr == ""
    (item,) = lines[0]["checks"]
    assert item["ok"] is False
    assert item["error"] == ("{}:8: IndexError: index 99 is out of bounds for axis 1 with "
                             "size 3".format(path))
    json.dumps(lines)


def test_only_naming_nothing_in_the_file():
    line = one_error(code(EXAMPLES / "layers.py", "--only", "Conv"))
    assert line == ("error: --only: {} has no component named Conv (found: CrossEntropyLoss, "
                    "Linear, NeuralNetwork, ReLU, Softmax)".format(EXAMPLES / "layers.py"))
