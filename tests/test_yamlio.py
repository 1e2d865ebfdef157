"""Tests for gradcli.yamlio: safe YAML loading with positions, refusals as GradcliError."""
from __future__ import annotations

import math
import os
import time

import pytest
import yaml

from gradcli import yamlio
from gradcli.errors import GradcliError, LimitError
from gradcli.yamlio import Loaded, load_file, load_text

DOC = """\
inputs:
  x: 1.5
params:
  W1:
    - [1, 2, 3]
    - [4, 5, 6]
nodes:
  a_h1: "W1 @ x"
"""


@pytest.fixture(params=["libyaml", "pure-python"], autouse=True)
def composer(request, monkeypatch):
    """Every test runs with libyaml's composer (when PyYAML has it) and without."""
    if request.param == "pure-python":
        monkeypatch.setattr(yamlio, "_CLoader", None)
    elif yamlio._CLoader is None:
        pytest.skip("PyYAML without libyaml")
    return request.param


def write(tmp_path, text, name="net.yaml"):
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return str(p)


def refuse(tmp_path, text, cls=GradcliError, name="net.yaml"):
    p = write(tmp_path, text, name)
    with pytest.raises(cls) as info:
        load_file(p)
    return info.value, p


# ---------------------------------------------------------------- positions


def test_data_is_plain_python(tmp_path):
    loaded = load_file(write(tmp_path, DOC))
    assert isinstance(loaded, Loaded)
    assert loaded.data == {"inputs": {"x": 1.5},
                           "params": {"W1": [[1, 2, 3], [4, 5, 6]]},
                           "nodes": {"a_h1": "W1 @ x"}}


def test_positions_of_keys_and_values(tmp_path):
    pos = load_file(write(tmp_path, DOC)).positions
    assert pos[("inputs", "<key>")] == (1, 1)
    assert pos[("inputs",)] == (2, 3)          # the nested mapping starts at its first key
    assert pos[("inputs", "x", "<key>")] == (2, 3)
    assert pos[("inputs", "x")] == (2, 6)
    assert pos[("params", "<key>")] == (3, 1)
    assert pos[("params", "W1", "<key>")] == (4, 3)
    assert pos[("params", "W1")] == (5, 5)     # the block list starts at its first '-'
    assert pos[("params", "W1", 0)] == (5, 7)
    assert pos[("params", "W1", 0, 2)] == (5, 14)
    assert pos[("params", "W1", 1, 0)] == (6, 8)
    assert pos[("nodes", "a_h1", "<key>")] == (8, 3)
    assert pos[("nodes", "a_h1")] == (8, 9)


def test_every_value_and_key_has_a_position(tmp_path):
    loaded = load_file(write(tmp_path, DOC))

    def walk(value, path):
        assert path in loaded.positions
        if isinstance(value, dict):
            for k, v in value.items():
                assert path + (k, "<key>") in loaded.positions
                walk(v, path + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, path + (i,))

    walk(loaded.data, ())


def test_where_format(tmp_path):
    p = write(tmp_path, DOC)
    loaded = load_file(p)
    assert loaded.path == p
    assert loaded.where("params", "W1", 0, 2) == f"{p}:5:14"
    assert loaded.where("nodes", "a_h1") == f"{p}:8:9"
    assert loaded.where("nodes", "a_h1", "<key>") == f"{p}:8:3"
    # deepest known prefix
    assert loaded.where("params", "W1", 0, 7) == f"{p}:5:7"
    assert loaded.where("nodes", "missing", "deeper") == f"{p}:8:3"  # the `nodes` value
    assert loaded.where("nodes", "missing") == loaded.where("nodes")
    # nothing known: the file name
    assert loaded.where("nope") == p
    assert loaded.where() == p
    assert loaded.where(["unhashable"]) == p


def test_where_with_load_text_name():
    loaded = load_text("a:\n  b: 7\n", "net.yaml")
    assert loaded.where("a", "b") == "net.yaml:2:6"
    assert loaded.where("a", "b", "<key>") == "net.yaml:2:3"
    assert load_text("a: 1\n").where("a") == "<string>:1:4"


def test_positions_after_bom_and_crlf(tmp_path):
    p = write(tmp_path, "\ufeffa: 1\r\nb:\r\n  c: x\r\n".encode("utf-8"))
    loaded = load_file(p)
    assert loaded.data == {"a": 1, "b": {"c": "x"}}
    assert loaded.positions[("a", "<key>")] == (1, 1)
    assert loaded.positions[("b", "c")] == (3, 6)


def test_error_line_format(tmp_path):
    err, p = refuse(tmp_path, "a: 1\nb: 2\na: 3\n")
    assert err.where == f"{p}:3:1"
    assert err.line().startswith(f"error: {p}:3:1: duplicate key")
    assert err.exit_code == 2


# ---------------------------------------------------------------- tags


def test_python_object_apply_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    err, p = refuse(tmp_path, f'a: !!python/object/apply:os.system ["touch {marker}"]\n')
    assert "!!python/object/apply:os.system" in err.what
    assert err.where == f"{p}:1:4"
    assert not marker.exists()


@pytest.mark.parametrize("text, tag, where", [
    ("!!python/name:os.system\n", "!!python/name:os.system", "1:1"),
    ("a:\n  b: !!python/object:collections.OrderedDict {}\n",
     "!!python/object:collections.OrderedDict", "2:6"),
    ("a: !!python/object/new:os.system [echo]\n", "!!python/object/new:os.system", "1:4"),
    ("? !!python/tuple [1, 2]\n: x\n", "!!python/tuple", "1:3"),
    ("a: !!binary aGk=\n", "!!binary", "1:4"),
    ("a: !!timestamp 2020-01-01\n", "!!timestamp", "1:4"),
    ("a: !!set {x, y}\n", "!!set", "1:4"),
    ("a: !!omap [x: 1]\n", "!!omap", "1:4"),
    ("a: !local x\n", "!local", "1:4"),
    ("a: !!map x\n", "!!map", "1:4"),
    ("a: !!str [x]\n", "!!str", "1:4"),
])
def test_other_tags_refused(tmp_path, text, tag, where):
    err, p = refuse(tmp_path, text)
    assert tag in err.what and "not allowed" in err.what
    assert err.where == f"{p}:{where}"


def test_standard_tags_allowed():
    data = load_text("a: !!str 12\nb: !!int '7'\nc: !!float 1\nd: !!bool yes\n"
                     "e: !!null ''\nf: !!seq [1]\ng: !!map {h: 1}\n").data
    assert data == {"a": "12", "b": 7, "c": 1.0, "d": True, "e": None, "f": [1], "g": {"h": 1}}
    assert isinstance(data["c"], float)


@pytest.mark.parametrize("text", ["a: !!int abc\n", "a: !!float x\n", "a: !!bool maybe\n"])
def test_bad_explicit_scalar_refused(text):
    with pytest.raises(GradcliError) as info:
        load_text(text, "n.yaml")
    assert info.value.what.startswith("invalid !!")
    assert info.value.where == "n.yaml:1:4"


# ---------------------------------------------------------------- aliases and limits


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs_refused_quickly(tmp_path):
    start = time.monotonic()
    err, p = refuse(tmp_path, BILLION_LAUGHS)
    assert time.monotonic() - start < 1.0
    assert "YAML aliases are not supported" in err.what
    assert err.where == f"{p}:2:8"


@pytest.mark.parametrize("text, where", [("a: &x 1\nb: *x\n", "2:4"),
                                         ("a: *undefined\n", "1:4"),
                                         ("a: &k x\n*k : 1\n", "2:1")])
def test_any_alias_refused(text, where):
    with pytest.raises(GradcliError) as info:
        load_text(text, "n.yaml")
    assert "YAML aliases are not supported" in info.value.what
    assert info.value.where == f"n.yaml:{where}"


def test_anchor_without_alias_is_harmless():
    assert load_text("a: &x 1\n").data == {"a": 1}


@pytest.mark.parametrize("depth", [101, 100_000])
def test_depth_limit(tmp_path, depth):
    err, p = refuse(tmp_path, "a: " + "[" * depth + "]" * depth + "\n", LimitError)
    assert "nested too deeply" in err.what
    assert err.where.startswith(f"{p}:1:")


def test_depth_just_under_limit():
    depth = yamlio.MAX_DEPTH - 2  # the root mapping and the `a:` list count too
    data = load_text("a: " + "[" * depth + "]" * depth + "\n").data
    for _ in range(depth):
        data = data["a"] if isinstance(data, dict) else data[0] if data else data
    assert data == []


def test_node_count_limit(monkeypatch):
    monkeypatch.setattr(yamlio, "MAX_NODES", 10)
    assert load_text("a: [1, 2, 3, 4, 5, 6, 7]\n").data == {"a": [1, 2, 3, 4, 5, 6, 7]}
    with pytest.raises(LimitError) as info:
        load_text("a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n", "n.yaml")
    assert "too many YAML values" in info.value.what
    assert info.value.where == "n.yaml:1:26"  # the 11th node: the `8`


# ---------------------------------------------------------------- files


def test_large_file_refused_without_reading(tmp_path, monkeypatch):
    p = tmp_path / "big.yaml"
    with open(p, "wb") as f:
        f.truncate(52_428_800)  # sparse: takes no disk space

    def no_open(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(yamlio, "open", no_open, raising=False)
    with pytest.raises(LimitError) as info:
        load_file(str(p))
    assert info.value.what == f"file too large: 52,428,800 bytes (the limit is {yamlio.MAX_BYTES:,})"
    assert info.value.where == str(p)


def test_max_bytes_parameter(tmp_path):
    p = write(tmp_path, "a: 1\n")
    assert load_file(p, max_bytes=5).data == {"a": 1}
    with pytest.raises(LimitError, match=r"file too large: 5 bytes \(the limit is 4\)"):
        load_file(p, max_bytes=4)


def test_missing_file(tmp_path):
    p = str(tmp_path / "nope.yaml")
    with pytest.raises(GradcliError) as info:
        load_file(p)
    assert info.value.what == "no such file" and info.value.where == p
    with pytest.raises(GradcliError, match="no such file"):
        load_file(write(tmp_path, "a: 1\n") + "/x.yaml")  # a file used as a directory


def test_directory(tmp_path):
    with pytest.raises(GradcliError) as info:
        load_file(str(tmp_path))
    assert info.value.what == "is a directory" and info.value.where == str(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_fifo_refused_without_hanging(tmp_path):
    p = tmp_path / "pipe.yaml"
    os.mkfifo(p)
    with pytest.raises(GradcliError, match="not a regular file"):
        load_file(str(p))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path):
    p = write(tmp_path, "a: 1\n")
    os.chmod(p, 0)
    try:
        with pytest.raises(GradcliError, match="permission denied"):
            load_file(p)
    finally:
        os.chmod(p, 0o644)


def test_unreadable_file_simulated(tmp_path, monkeypatch):
    p = write(tmp_path, "a: 1\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(yamlio, "open", denied, raising=False)
    with pytest.raises(GradcliError) as info:
        load_file(p)
    assert "permission denied" in info.value.what and info.value.where == p


@pytest.mark.parametrize("data", [b"a: 1\n\x00\x01\x02", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"])
def test_nul_bytes_refused(tmp_path, data):
    err, p = refuse(tmp_path, data)
    assert "not a text file" in err.what and err.where == p


def test_invalid_utf8_refused(tmp_path):
    err, p = refuse(tmp_path, b"a: 1\nb: caf\xe9\n")  # latin-1
    assert err.what == "not a text file (not UTF-8)"
    assert err.where == f"{p}:2:7"


def test_control_character_refused(tmp_path):
    err, p = refuse(tmp_path, "a: 1\nb: x\x07y\n")
    assert "not a text file" in err.what and err.where == f"{p}:2:5"


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n"])
def test_empty_file(tmp_path, text):
    err, p = refuse(tmp_path, text)
    assert "empty file" in err.what and err.where == p


def test_utf8_text_is_fine(tmp_path):
    loaded = load_file(write(tmp_path, "name: \"σ(x) — ü\"\nb: 1\n"))
    assert loaded.data["name"] == "σ(x) — ü"
    assert loaded.positions[("b",)] == (2, 4)


# ---------------------------------------------------------------- structure


@pytest.mark.parametrize("text, where", [("- a\n- b\n", "1:1"), ("42\n", "1:1"),
                                         ("just text\n", "1:1"), ("\n\n  [1, 2]\n", "3:3"),
                                         ("~\n", "1:1")])
def test_top_level_must_be_a_mapping(tmp_path, text, where):
    err, p = refuse(tmp_path, text)
    assert err.what == "the top level must be a mapping of sections (inputs, params, ...)"
    assert err.where == f"{p}:{where}"


def test_multiple_documents(tmp_path):
    err, p = refuse(tmp_path, "a: 1\n---\nb: 2\n")
    assert "more than one YAML document" in err.what and err.where == f"{p}:2:1"
    assert load_text("---\na: 1\n...\n").data == {"a": 1}


def test_duplicate_keys(tmp_path):
    err, p = refuse(tmp_path, "params:\n  W1: 1\n  b: 2\n  W1: 3\n")
    assert err.what == "duplicate key 'W1' (lines 2 and 4)"
    assert err.where == f"{p}:4:3"


def test_same_key_in_different_mappings_is_fine():
    assert load_text("a: {x: 1}\nb: {x: 2}\n").data == {"a": {"x": 1}, "b": {"x": 2}}


def test_non_string_keys_allowed():
    loaded = load_text("1: x\nnull: y\nfalse: z\n2.5: w\n")
    assert loaded.data == {1: "x", None: "y", False: "z", 2.5: "w"}
    assert loaded.positions[(2.5, "<key>")] == (4, 1)
    assert loaded.positions[(None,)] == (2, 7)


def test_keys_equal_in_python_are_duplicates():
    with pytest.raises(GradcliError) as info:  # 1 == True: one would overwrite the other
        load_text("1: x\ntrue: z\n", "n.yaml")
    assert info.value.what == "duplicate key True (lines 1 and 2)"
    assert info.value.where == "n.yaml:2:1"


@pytest.mark.parametrize("text, kind", [("? [a]\n: 1\n", "a list"),
                                        ("? {a: 1}\n: 1\n", "a mapping"),
                                        ("{[a, b]: 1}\n", "a list")])
def test_collection_keys_refused(text, kind):
    with pytest.raises(GradcliError) as info:
        load_text(text, "n.yaml")
    assert info.value.what == f"a mapping key must be a plain value, not {kind}"
    assert info.value.where.startswith("n.yaml:1:")


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize("text, value", [("1e-3", 0.001), ("2E5", 200000.0), ("-1.5e+2", -150.0),
                                         ("1.5e3", 1500.0), ("+3e2", 300.0), (".5e1", 5.0),
                                         ("1_000e-3", 1.0), ("1.0e+3", 1000.0), ("0.25", 0.25)])
def test_exponent_floats(text, value):
    got = load_text(f"v: {text}\n").data["v"]
    assert isinstance(got, float) and got == value


@pytest.mark.parametrize("text, value", [("'1e-3'", "1e-3"), ('"2E5"', "2E5"), ("1e", "1e"),
                                         ("e5", "e5"), ("1e-3x", "1e-3x"), ("12", 12),
                                         ("0x1F", 31), ("1_000", 1000), ("yes", True), ("~", None),
                                         ("2020-01-01", "2020-01-01"), ("=", "="), ("<<", "<<")])
def test_other_scalars(text, value):
    got = load_text(f"v: {text}\n").data["v"]
    assert got == value and type(got) is type(value)


def test_global_safe_loader_untouched():
    import datetime
    import yaml
    load_text("v: 1e-3\n")
    assert yaml.safe_load("v: 1e-3\nd: 2020-01-01\n") == {"v": "1e-3", "d": datetime.date(2020, 1, 1)}


@pytest.mark.parametrize("text, written", [("a: .nan\n", ".nan"), ("a: -.inf\n", "-.inf"),
                                           ("a: .Inf\n", ".Inf"), ("a: 1e999\n", "1e999"),
                                           ("a: -2e400\n", "-2e400"), ("a: 1.5e301\n", "1.5e301")])
def test_non_finite_numbers_refused_saying_what_was_written(text, written):
    with pytest.raises(GradcliError) as info:
        load_text(text, "n.yaml")
    assert info.value.what == (f"'{written}' is not a finite number within ±1e300 "
                               f"(NaN and infinity cannot be used)")
    assert info.value.where == "n.yaml:1:4"


@pytest.mark.parametrize("text", ["a: " + "9" * 5000 + "\n", "a: !!int " + "9" * 5000 + "\n",
                                  "a: -" + "1" * 301 + "\n"])
def test_huge_integers_refused_with_their_size(text):
    with pytest.raises(GradcliError) as info:
        load_text(text, "n.yaml")
    digits = text.count("9") or text.count("1")
    assert info.value.what == (f"integer too large: {digits:,} digits (numbers must be "
                               f"finite float64 values, at most 1e300 in magnitude)")
    assert info.value.where == "n.yaml:1:4"


def test_largest_integer_allowed():
    assert load_text("a: " + "9" * 300 + "\n").data["a"] == int("9" * 300)


@pytest.mark.parametrize("text, written", [("a: 1:30\n", "1:30"), ("a: -1:30:00\n", "-1:30:00"),
                                           ("a: 190:20:30.15\n", "190:20:30.15")])
def test_sexagesimal_numbers_refused(text, written):
    with pytest.raises(GradcliError) as info:
        load_text(text, "n.yaml")
    assert info.value.what == (f"'{written}' is read by YAML 1.1 as a base-60 number; quote "
                               f"it if it is text, or write the number itself")


@pytest.mark.parametrize("key, meaning", [("on", "true"), ("Off", "false"), ("yes", "true"),
                                          ("NO", "false")])
def test_yaml11_boolean_keys_refused_with_advice(key, meaning):
    with pytest.raises(GradcliError) as info:
        load_text(f"params:\n  {key}: 1\n", "n.yaml")
    assert info.value.what == (f"YAML 1.1 reads the key '{key}' as {meaning}; quote it "
                               f"(\"{key}\") to use it as a name")
    assert info.value.where == "n.yaml:2:3"
    assert load_text(f"params:\n  '{key}': 1\n").data == {"params": {key: 1}}


def test_sources_keep_how_scalars_were_written():
    loaded = load_text("a: yes\nb: 0x1F\nc: ~\nd: text\n")
    assert loaded.source("a") == "yes" and loaded.source("b") == "0x1F"
    assert loaded.source("c") == "~" and loaded.source("d") is None


# ---------------------------------------------------------------- syntax errors


@pytest.mark.parametrize("text, where, words", [
    ("a: [1, 2\nb: 3\n", "2:2", "expected ',' or ']'"),
    ("a: 'abc\n", "2:1", "end of stream"),
    ("a: 1\n  b: 2\n", "2:4", "mapping values are not allowed"),
    ("a:\n\tb: 1\n", "2:1", "'\\t'"),
    ("a: 1\nb: {c: 1\n", "3:1", "expected ',' or '}'"),
])
def test_syntax_error_position(tmp_path, text, where, words):
    err, p = refuse(tmp_path, text)
    assert type(err) is GradcliError
    assert err.what.startswith("YAML syntax error: ") and words in err.what
    assert err.where == f"{p}:{where}"


# ---------------------------------------------------------------- big number lists


def _numbers(n, seed=0):
    import random
    rng = random.Random(seed)
    forms = ["{:.6g}", "{:.3e}", "{:d}", "{:+.2f}", ".{:d}"]
    out = []
    for i in range(n):
        f = forms[i % len(forms)]
        v = rng.uniform(-1000, 1000)
        out.append(f.format(int(abs(v)) if "d" in f else v))
    return out


@pytest.mark.parametrize("shape", ["flat", "matrix", "ragged-commas", "multiline"])
def test_blobs_read_like_yaml(shape, monkeypatch):
    nums = _numbers(1200)
    if shape == "flat":
        body = "[" + ", ".join(nums) + "]"
    elif shape == "matrix":
        body = "[" + ", ".join("[" + ", ".join(nums[i:i + 40]) + "]"
                               for i in range(0, 1200, 40)) + "]"
    elif shape == "ragged-commas":
        body = "[ " + " ,".join(nums) + " , ]"
    else:
        body = "[\n" + ",\n".join("    " + ", ".join(nums[i:i + 10])
                                   for i in range(0, 1200, 10)) + "\n  ]"
    text = f"params:\n  w: {body}\n  b: 2\nnodes:\n  z: w\n"
    loaded = load_text(text, "n.yaml")
    assert loaded.prescan.blobs, "the list was not read directly"
    assert len(loaded.data["params"]["w"]) in (1200, 30)
    # the same values and positions as YAML itself gives
    monkeypatch.setattr(yamlio, "MIN_BLOB_CHARS", 10**9)
    slow = load_text(text, "n.yaml")
    assert _as_floats(slow.data) == _as_floats(loaded.data)
    for path in [("params", "b"), ("nodes", "z"), ("params", "w"), ("nodes", "z", "<key>")]:
        assert loaded.positions[path] == slow.positions[path]


def _as_floats(value):
    if isinstance(value, dict):
        return {k: _as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_floats(v) for v in value]
    return float(value) if isinstance(value, (int, float)) else value


@pytest.mark.parametrize("body", [
    "[" + ", ".join(["1"] * 700) + ", abc]",            # a string inside
    "[" + ", ".join(["1"] * 700) + "]  # note",         # (a comment after is fine: still a blob)
    "[" + ", ".join(["1_000"] * 700) + "]",             # YAML 1.1 underscores
    "[" + " ".join(["1"] * 1000) + "]",                 # no commas: one string in YAML
    "[" + ", ".join(["012"] * 700) + "]",               # leading zeros: octal in YAML 1.1
    "[" + ", ".join(["[1, 2]"] * 300) + ", [3 4]]",      # nested, one item without a comma
    "'[" + ", ".join(["1"] * 700) + "]'",               # quoted
])
def test_only_plain_number_lists_are_blobs(body):
    text = f"a: {body}\n"
    loaded = load_text(text)
    assert loaded.data == yaml.safe_load(text)


def test_blob_count_limit_refused_before_reading(monkeypatch):
    monkeypatch.setattr(yamlio, "MAX_NODES", 1000)
    calls = []
    real = yamlio.yamlscan._read
    monkeypatch.setattr(yamlio.yamlscan, "_read", lambda *a: calls.append(1) or real(*a))
    with pytest.raises(LimitError) as info:
        load_text("x: 1\nw: [" + ", ".join(["0.5"] * 1500) + "]\n", "n.yaml")
    assert info.value.what == "too many YAML values: more than 1,000 (the limit)"
    assert info.value.where == "n.yaml:2:4"
    assert calls == []


@pytest.mark.parametrize("bad, written", [("1e999", "1e999"), ("-1e400", "-1e400"),
                                          ("1" * 400, "1" * 400)])
def test_blob_numbers_must_be_finite(bad, written):
    nums = ["0.25"] * 800
    nums[500] = bad
    text = "w: [" + ", ".join(nums) + "]\n"
    with pytest.raises(GradcliError) as info:
        load_text(text, "n.yaml")
    col = len("w: [") + sum(len(n) + 2 for n in nums[:500]) + 1
    assert info.value.where == f"n.yaml:1:{col}"
    assert written[:40] in info.value.what or "400 digits" in info.value.what


def test_prescan_sections_and_callback():
    text = "inputs:\n  x: 1\n\nnodes:\n  # c\n  a: x\n  b: a\n  c: b\nloss: c\n"
    seen = []
    loaded = load_text(text, check_prescan=seen.append)
    assert seen[0].sections == {"inputs": (1, 1), "nodes": (4, 3), "loss": (9, 0)}
    assert loaded.prescan is seen[0]

    def refuse_nodes(scan):
        line, count = scan.sections["nodes"]
        if count > 2:
            raise LimitError(f"{count} nodes", f"n.yaml:{line}:1")

    with pytest.raises(LimitError, match="3 nodes"):
        load_text(text, "n.yaml", check_prescan=refuse_nodes)
