"""Grading a class: `gradcli check FILE...` with --jobs, --unordered, --summary,
--summary-only, --summary-csv and the JSON line of an unusable file; workers
that die; check-code's summary; the progress bar; Ctrl-C and a closed pipe."""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradcli.batch import outcome as outcomes, pool, progress, runner, tasks
from gradcli.batch.summary import Summary
from gradcli.cli import app

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
EXAMPLES = ROOT / "examples"

#: one right answer (z = 5), two wrong (grad.x is 4, grad.y is 2)
WRONG = ("params:\n  x: 2\n  y: 3\nnodes:\n  z: x*y - x\nloss: z\n"
         "expect:\n  z: 4\n  grad:\n    x: -2\n    y: 3\n")
#: the contract's example of an unusable file: a misspelt name
UNUSABLE = "inputs:\n  x: 1\nparams:\n  w: 2\nnodes:\n  yhat: w*x\nloss: (yhta - 1)**2\n"
#: tensors: softmax regression with its hand answers
TENSOR = (SPECS / "tensor_softmax.yaml").read_text()


def cli(*args):
    return CliRunner().invoke(app, [*map(str, args)])


def class_folder(tmp_path: Path) -> list[Path]:
    """Six submissions: right, wrong answers, unusable, tensors, right, wrong."""
    texts = [(SPECS / "sigmoid_121.yaml").read_text(), WRONG, UNUSABLE, TENSOR,
             (SPECS / "sigmoid_121.yaml").read_text().replace("x: 2", "x: 2.5"), WRONG]
    paths = []
    for i, text in enumerate(texts):
        path = tmp_path / f"s{i + 1}.yaml"
        path.write_text(text)
        paths.append(path)
    return paths


def lines_of(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


# ------------------------------------------------------------------ --jobs ---
def test_jobs_keep_the_order_and_the_very_same_output(tmp_path):
    paths = class_folder(tmp_path)
    serial = cli("check", *paths, "--json")
    parallel = cli("check", *paths, "--json", "--jobs", "2")
    assert serial.exit_code == parallel.exit_code == 2
    assert parallel.stdout == serial.stdout  # byte for byte, in the order given
    assert [r["file"] for r in lines_of(parallel.stdout)] == [str(p) for p in paths]
    assert [r["ok"] for r in lines_of(parallel.stdout)] == [True, False, False, True, False,
                                                            False]
    assert error_lines(parallel.stderr) == error_lines(serial.stderr)
    assert "Traceback" not in parallel.stderr


def test_unordered_prints_every_file_once(tmp_path):
    paths = class_folder(tmp_path)
    ordered = cli("check", *paths, "--json")
    streamed = cli("check", *paths, "--json", "--jobs", "3", "--unordered")
    assert streamed.exit_code == 2
    assert sorted(streamed.stdout.splitlines()) == sorted(ordered.stdout.splitlines())


def test_text_reports_under_jobs_come_in_order(tmp_path):
    paths = class_folder(tmp_path)
    result = cli("check", paths[0], paths[1], paths[3], "--jobs", "2")
    assert result.exit_code == 1
    at = [result.stdout.index(f"{p}  (graph form)") for p in (paths[0], paths[1], paths[3])]
    assert at == sorted(at)


@pytest.mark.parametrize("picks, code", [((0,), 0), ((0, 1), 1), ((1, 0), 1),
                                         ((0, 2), 2), ((2, 1, 0), 2), ((0, 3), 0), ((4, 0), 1)])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_exit_code_is_the_worst(tmp_path, picks, code, jobs):
    paths = class_folder(tmp_path)
    assert cli("check", *[paths[i] for i in picks], "--json", "--jobs", jobs).exit_code == code


@pytest.mark.parametrize("value, message", [
    ("0", "error: --jobs: must be at least 1, got 0"),
    ("-2", "error: --jobs: must be at least 1, got -2"),
    ("300", "error: --jobs: at most 256 worker processes, got 300"),
])
@pytest.mark.parametrize("command", ["check", "check-code"])
def test_bad_jobs_is_exit_2_before_any_file(tmp_path, value, message, command):
    paths = class_folder(tmp_path)
    result = cli(command, paths[0], "--json", "--jobs", value)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [message]


# ------------------------------------------------------ unusable: JSON line ---
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_unusable_file_gets_one_complete_json_line(tmp_path, jobs):
    paths = class_folder(tmp_path)
    result = cli("check", paths[0], paths[2], "--json", "--jobs", jobs)
    assert result.exit_code == 2
    [line] = error_lines(result.stderr)
    assert line == (f"error: {paths[2]}:7:8: the loss uses 'yhta', which is not defined; "
                    "did you mean 'yhat'?")
    first, second = lines_of(result.stdout)
    assert first["file"] == str(paths[0]) and first["ok"] is True
    assert second == {"file": str(paths[2]), "ok": False, "exit": 2, "error": line}


def test_a_missing_file_and_a_folder_are_reported_and_the_run_goes_on(tmp_path):
    paths = class_folder(tmp_path)
    result = cli("check", tmp_path / "absent.yaml", tmp_path, paths[0], "--json",
                 "--summary")
    assert result.exit_code == 2
    missing, folder, good, summary = lines_of(result.stdout)
    assert missing["error"] == f"error: {tmp_path / 'absent.yaml'}: no such file"
    assert folder["error"] == f"error: {tmp_path}: is a directory"
    assert good["ok"] is True
    assert summary["summary"]["unusable"] == 2 and summary["summary"]["ok"] == 1


# ---------------------------------------------------------------- summary ---
EXPECTED_ROWS = [
    {"file": "s1", "ok": True, "right": 8, "wrong": 0, "gradients_ok": True, "error": None,
     "exit": 0},
    {"file": "s2", "ok": False, "right": 1, "wrong": 2, "gradients_ok": True, "error": None,
     "exit": 1},
    {"file": "s3", "ok": False, "right": None, "wrong": None, "gradients_ok": None,
     "error": "error: {s3}:7:8: the loss uses 'yhta', which is not defined; did you mean "
              "'yhat'?", "exit": 2},
    {"file": "s4", "ok": True, "right": 4, "wrong": 0, "gradients_ok": True, "error": None,
     "exit": 0},
    {"file": "s5", "ok": False, "right": 1, "wrong": 7, "gradients_ok": True, "error": None,
     "exit": 1},
    {"file": "s6", "ok": False, "right": 1, "wrong": 2, "gradients_ok": True, "error": None,
     "exit": 1},
]


def expected_rows(paths: list[Path]) -> list[dict]:
    names = {f"s{i + 1}": str(p) for i, p in enumerate(paths)}
    rows = []
    for row in EXPECTED_ROWS:
        row = dict(row, file=names[row["file"]])
        if row["error"]:
            row["error"] = row["error"].format(**names)
        rows.append(row)
    return rows


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_summary_counts_answers_and_gradients(tmp_path, jobs):
    paths = class_folder(tmp_path)
    result = cli("check", *paths, "--json", "--summary", "--jobs", jobs)
    assert result.exit_code == 2
    lines = lines_of(result.stdout)
    assert len(lines) == 7 and "summary" not in lines[0]
    assert lines[-1] == {"summary": {"files": 6, "ok": 2, "failed": 3, "unusable": 1,
                                     "rows": expected_rows(paths)}}
    # the rows agree with the per-file lines they summarise
    for row, line in zip(lines[-1]["summary"]["rows"], lines[:-1]):
        if row["error"] is None:
            assert row["right"] == sum(e["ok"] for e in line["expect"])
            assert row["gradients_ok"] == all(p["ok"] for p in line["params"])


def test_summary_only_json_is_one_line(tmp_path):
    paths = class_folder(tmp_path)
    result = cli("check", *paths, "--json", "--summary-only")
    assert result.exit_code == 2
    [line] = lines_of(result.stdout)
    assert line["summary"]["rows"] == expected_rows(paths)
    # the unusable file's error still goes to stderr
    assert len(error_lines(result.stderr)) == 1


def test_summary_only_text_is_the_one_screen_view(tmp_path, monkeypatch):
    paths = class_folder(tmp_path)
    monkeypatch.chdir(tmp_path)  # short names: one table row per file
    result = cli("check", *[p.name for p in paths], "--summary-only")
    assert result.exit_code == 2
    out = result.stdout
    assert "Forward pass" not in out  # no per-file reports
    assert out.rstrip().endswith("6 files: 2 ok, 3 failed, 1 unusable")
    table = out.splitlines()
    for path, state in zip(paths, ["ok", "failed", "unusable", "ok", "failed", "failed"]):
        row = next(line for line in table if str(path.name) in line)
        assert state in row.split()


def test_summary_after_the_reports(tmp_path):
    paths = class_folder(tmp_path)
    result = cli("check", paths[0], paths[1], "--summary")
    assert result.exit_code == 1
    out = result.stdout
    assert out.index("Forward pass") < out.index("Summary")
    assert out.rstrip().endswith("2 files: 1 ok, 1 failed, 0 unusable")


def test_summary_as_markdown(tmp_path):
    paths = class_folder(tmp_path)
    result = cli("check", paths[0], paths[1], paths[2], "--summary-only", "--format",
                 "markdown")
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[0] == "| file | result | right | wrong | gradients | error |"
    assert lines[1] == "|---|---|---:|---:|---|---|"
    assert lines[2] == f"| {paths[0]} | ok | 8 | 0 | ok | - |"
    assert lines[3] == f"| {paths[1]} | failed | 1 | 2 | ok | - |"
    # the table says the file once: its error cell starts after `error: FILE:`
    assert lines[4] == (f"| {paths[2]} | unusable | - | - | - | 7:8: the loss uses 'yhta', "
                        "which is not defined; did you mean 'yhat'? |")
    assert lines[-1] == "3 files: 1 ok, 1 failed, 1 unusable"


def test_summary_csv_for_a_gradebook(tmp_path):
    paths = class_folder(tmp_path)
    out = tmp_path / "grades" / "week3.csv"
    out.parent.mkdir()
    result = cli("check", *paths, "--json", "--jobs", "2", "--summary-csv", out)
    assert result.exit_code == 2
    assert len(lines_of(result.stdout)) == 6  # the per-file lines, no summary line
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    expected = expected_rows(paths)
    assert [r["file"] for r in rows] == [e["file"] for e in expected]
    assert [r["ok"] for r in rows] == ["true", "false", "false", "true", "false", "false"]
    assert [r["right"] for r in rows] == ["8", "1", "", "4", "1", "1"]
    assert [r["wrong"] for r in rows] == ["0", "2", "", "0", "7", "2"]
    assert [r["exit"] for r in rows] == ["0", "1", "2", "0", "1", "1"]
    assert rows[2]["error"] == expected[2]["error"] and rows[2]["gradients_ok"] == ""
    assert sorted(os.listdir(out.parent)) == ["week3.csv"]  # no temporary file left


def test_summary_csv_to_a_missing_folder_fails_before_checking(tmp_path):
    paths = class_folder(tmp_path)
    out = tmp_path / "nowhere" / "grades.csv"
    result = cli("check", *paths, "--json", "--summary-csv", out)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {out}: cannot write the summary: no such folder {out.parent}"]


def test_csv_cells_never_become_formulas():
    summary = Summary("check", [outcomes.Row("=HYPERLINK(\"x\").yaml", 0, right=1, wrong=0,
                                             gradients_ok=True)])
    from gradcli.batch.summary import csv_text

    row = list(csv.reader(io.StringIO(csv_text(summary))))[1]
    assert row[0] == "'=HYPERLINK(\"x\").yaml"


# ---------------------------------------------------------- dying workers ---
needs_fork = pytest.mark.skipif(pool.start_method() != "fork",
                                reason="the test patches the worker function (fork only)")


def _dies_on(name: str, how):
    original = tasks.check_file

    def check_file(path, settings):
        if Path(path).name == name:
            how()
        return original(path, settings)

    return check_file


@needs_fork
@pytest.mark.parametrize("how, why", [
    (lambda: os.kill(os.getpid(), signal.SIGKILL), "killed by SIGKILL (out of memory?)"),
    (lambda: os._exit(3), "it exited with status 3"),
])
def test_a_dead_worker_loses_only_its_file(tmp_path, monkeypatch, how, why):
    paths = class_folder(tmp_path)
    monkeypatch.setattr(tasks, "check_file", _dies_on("s4.yaml", how))
    result = cli("check", *paths, "--json", "--jobs", "2", "--summary")
    assert result.exit_code == 2
    lines = lines_of(result.stdout)
    assert [line.get("file") for line in lines[:-1]] == [str(p) for p in paths]
    message = f"error: {paths[3]}: the worker process died while checking this file: {why}"
    assert lines[3] == {"file": str(paths[3]), "ok": False, "exit": 2, "error": message}
    assert message in error_lines(result.stderr)
    # every other file was checked as usual
    assert [line["ok"] for line in lines[:-1]] == [True, False, False, False, False, False]
    summary = lines[-1]["summary"]
    assert (summary["ok"], summary["failed"], summary["unusable"]) == (1, 3, 2)
    assert summary["rows"][3]["error"] == message


@needs_fork
def test_every_worker_dying_still_ends(tmp_path, monkeypatch):
    paths = class_folder(tmp_path)

    def always(path, settings):
        os._exit(9)

    monkeypatch.setattr(tasks, "check_file", always)
    result = cli("check", *paths, "--json", "--jobs", "2")
    assert result.exit_code == 2
    assert [line["exit"] for line in lines_of(result.stdout)] == [2] * 6


def test_out_of_memory_inside_a_check_is_that_files_error(tmp_path, monkeypatch):
    paths = class_folder(tmp_path)
    from gradcli import check

    real_run = check.run

    def run(spec, **kwargs):
        if spec.file == str(paths[1]):
            raise MemoryError()
        return real_run(spec, **kwargs)

    monkeypatch.setattr(check, "run", run)
    result = cli("check", paths[0], paths[1], paths[4], "--json")
    assert result.exit_code == 2
    lines = lines_of(result.stdout)
    assert lines[1] == {"file": str(paths[1]), "ok": False, "exit": 2,
                        "error": f"error: {paths[1]}: too large (out of memory)"}
    assert [line["ok"] for line in lines] == [True, False, False]


# ----------------------------------------------------- Ctrl-C, closed pipe ---
def test_ctrl_c_prints_what_was_done_and_exits_130(tmp_path, capsys):
    paths = class_folder(tmp_path)
    settings = tasks.CheckSettings(as_json=True, keep_report=False)

    def interrupted():
        yield 0, tasks.check_file(str(paths[0]), settings)
        yield 2, tasks.check_file(str(paths[2]), settings)  # out of order: still shown
        raise KeyboardInterrupt

    def emit(outcome):
        print(outcome.json_lines[0] if outcome.json_lines else outcomes.error_json(outcome))

    batch = runner.BatchSettings(as_json=True, summary=True)
    code = runner.drive(interrupted(), len(paths), emit, Summary("check"), batch)
    out, err = capsys.readouterr()
    assert code == 130
    lines = lines_of(out)
    assert [line.get("file") for line in lines[:2]] == [str(paths[0]), str(paths[2])]
    assert lines[2]["summary"]["files"] == 2
    assert err.splitlines()[-1] == "error: gradcli: interrupted"


def test_a_closed_pipe_ends_quietly(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text((SPECS / "sigmoid_121.yaml").read_text())
    proc = subprocess.Popen([sys.executable, "-m", "gradcli", "check", *[str(good)] * 8,
                             "--json", "--jobs", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=tmp_path)
    first = proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert json.loads(first)["ok"] is True
    assert proc.returncode == 0
    assert err == b""


# -------------------------------------------------------------- check-code ---
def test_check_code_summary_counts_components(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def f(x:\n    return x\n")
    files = [EXAMPLES / "value.py", broken, EXAMPLES / "value_bug_exp.py"]
    serial = cli("check-code", *files, "--json", "--summary")
    parallel = cli("check-code", *files, "--json", "--summary", "--jobs", "2")
    assert serial.exit_code == parallel.exit_code == 2
    assert parallel.stdout == serial.stdout
    lines = lines_of(parallel.stdout)
    assert [line["file"] for line in lines[:-1]] == [str(f) for f in files]
    [error] = error_lines(parallel.stderr)
    assert error.startswith(f"error: {broken}:1:") and "SyntaxError" in error
    summary = lines[-1]["summary"]
    assert (summary["files"], summary["ok"], summary["failed"], summary["unusable"]) == \
        (3, 1, 1, 1)
    assert summary["rows"] == [
        {"file": str(files[0]), "ok": True, "passed": 1, "failed": 0, "error": None,
         "exit": 0},
        {"file": str(broken), "ok": False, "passed": None, "failed": None, "error": error,
         "exit": 2},
        {"file": str(files[2]), "ok": False, "passed": 0, "failed": 1, "error": None,
         "exit": 1}]


def test_check_code_summary_only_text(tmp_path):
    result = cli("check-code", EXAMPLES / "value.py", EXAMPLES / "value_bug_exp.py",
                 "--summary-only", "--format", "markdown")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "| file | result | passed | failed | error |"
    assert lines[2] == f"| {EXAMPLES / 'value.py'} | ok | 1 | 0 | - |"
    assert lines[-1] == "2 files: 1 ok, 1 failed, 0 unusable"


# ------------------------------------------------------------ progress bar ---
class FakeTerminal(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_progress_appears_after_two_seconds_on_a_terminal():
    now = [0.0]
    stream = FakeTerminal(tty=True)
    bar = progress.ProgressBar(10, stream, clock=lambda: now[0])
    bar.update(3)
    now[0] = 1.9
    bar.update(4)
    assert stream.getvalue() == ""  # a short batch stays quiet
    now[0] = 2.1
    bar.update(5)
    assert stream.getvalue() == "\rchecking [############------------] 5/10 files\x1b[K"
    bar.clear()
    assert stream.getvalue().endswith("\r\x1b[K") and not bar.shown
    now[0] = 2.15
    bar.update(10)  # the last update is always drawn
    assert stream.getvalue().endswith("10/10 files\x1b[K")


@pytest.mark.parametrize("tty, total", [(False, 10), (True, 1)])
def test_no_progress_off_a_terminal_or_for_one_file(tty, total):
    now = [100.0]
    stream = FakeTerminal(tty=tty)
    bar = progress.ProgressBar(total, stream, clock=lambda: now[0])
    now[0] = 200.0
    bar.update(total)
    bar.clear()
    assert stream.getvalue() == ""
