"""Same-skeleton YAML files composed once (gradcli.yamltemplate): a file filled
into an earlier file's values loads exactly as composing it would, and every
skeleton the filling cannot be sure of is composed each time."""
from __future__ import annotations

import random

import pytest

from gradcli import spec as specs
from gradcli import structure_cache, yamlio
from gradcli.errors import GradcliError
from gradcli.yamltemplate import Templates

NET = ("# 학생 제출물\ninputs:\n  x: {x}\n  y: {y}\nparams:\n  가중치: {w}\n  b: {b}\n"
       "  W:\n    - [0.5, -1]\n    - - {m0}\n      - {m1}\nnodes:\n  z: 가중치*x + b + sum(W)\n"
       "loss: 0.5*(z - y)**2\nlr: {lr}\nexpect:\n  grad:\n    b: {g}\n"
       "tolerance:\n  rtol: {rtol}   \n")


def fields(loaded: yamlio.Loaded) -> tuple:
    """Everything a Loaded holds, with the type of every value (1 and 1.0 differ)."""
    return (_typed(loaded.data), loaded.positions, loaded.text_offsets, loaded.sources,
            loaded.path)


def _typed(value):
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return type(value).__name__, value


def numbers(rng: random.Random) -> dict:
    def num(kind):
        if kind == "int":
            return str(rng.randint(-10 ** 6, 10 ** 6))
        return f"{rng.uniform(-1e4, 1e4):.{rng.randint(1, 12)}f}"
    return {k: num("int" if k in ("y", "m1") else "float")
            for k in ("x", "y", "w", "b", "m0", "m1", "lr", "g", "rtol")}


def load_both(texts: list[str]) -> tuple[list, list, Templates]:
    templates = Templates()
    fresh = [yamlio.load_text(t, f"f{i}.yaml") for i, t in enumerate(texts)]
    filled = [yamlio.load_text(t, f"f{i}.yaml", templates=templates)
              for i, t in enumerate(texts)]
    return fresh, filled, templates


def test_filled_files_load_exactly_as_composed_ones():
    rng = random.Random(5)
    texts = [NET.format(**numbers(rng)) for _ in range(40)]
    texts.append(NET.format(**dict(numbers(rng), x="0.0", y="-0", w="-0.0", m1="0")))
    fresh, filled, templates = load_both(texts)
    for a, b in zip(fresh, filled):
        assert fields(a) == fields(b)
    assert templates.stats.composed == 1 and templates.stats.reused == len(texts) - 1
    # really each file's own numbers (not the first file's)
    assert filled[7].data["params"]["W"][1][0] == float(texts[7].split("- - ")[1].split()[0])
    assert filled[7].sources[("lr",)] != filled[8].sources[("lr",)]


def test_a_filled_file_is_a_copy():
    text = NET.format(**numbers(random.Random(1)))
    templates = Templates()
    first = yamlio.load_text(text, "a.yaml", templates=templates)
    second = yamlio.load_text(text, "b.yaml", templates=templates)
    first.data["params"]["W"][0][0] = 99.0
    second.data["inputs"]["x"] = 98.0
    third = yamlio.load_text(text, "c.yaml", templates=templates)
    assert third.data["params"]["W"][0][0] == 0.5
    assert third.data["inputs"]["x"] == yamlio.load_text(text).data["inputs"]["x"]
    assert third.path == "c.yaml" and templates.stats.reused == 2


@pytest.mark.parametrize("form", [
    "description: |\n  a literal block 5\n",  # a number inside text
    "description: >\n  folded 5\n",
    "description: the value\n  5\n",  # a plain scalar over two lines
    "description: \"quoted over\n  two lines 5\"\n",
    "description: !!str 5\n",  # tagged: a string
    "description: !!float 5\n",  # tagged: a float written without a point
    "? 5\n: a number as a key\n",
])
def test_skeletons_the_filling_cannot_be_sure_of_are_composed_every_time(form):
    texts = [NET.format(**numbers(random.Random(s))) + form.replace("5", str(n))
             for s, n in ((1, 5), (2, 17), (3, 4.25))]
    fresh, filled, templates = load_both(texts)
    for a, b in zip(fresh, filled):
        assert fields(a) == fields(b)
    assert templates.stats.reused == 0 and templates.stats.composed == 3


def test_what_is_not_a_plain_decimal_stays_in_the_skeleton():
    # exponents, leading zeros (YAML 1.1 octal), `.5`, underscores, hex, comments
    forms = [("1e-3", "2e-3"), ("010", "020"), (".5", ".25"), ("1_000", "2_000"),
             ("0x1F", "0x2F"), ("1.5  # a comment", "2.5  # a comment")]
    for form, other in forms:
        texts = [f"inputs:\n  x: {form}\nparams:\n  w: {w}\n" for w in ("0.5", "1.5")]
        fresh, filled, templates = load_both(texts)
        assert [fields(a) for a in fresh] == [fields(b) for b in filled]
        assert templates.stats.reused == 1, form  # w is filled in; the form is kept
        two = [f"inputs:\n  x: 1.0\nparams:\n  w: {form}\n",
               f"inputs:\n  x: 2.0\nparams:\n  w: {other}\n"]
        fresh, filled, templates = load_both(two)
        assert [fields(a) for a in fresh] == [fields(b) for b in filled]
        assert templates.stats.reused == 0, form
    crlf = ["inputs:\r\n  x: 1.5\r\nparams:\r\n  w: 2.5\r\n",
            "inputs:\r\n  x: 3.5\r\nparams:\r\n  w: 4.5\r\n"]
    fresh, filled, templates = load_both(crlf)
    assert [fields(a) for a in fresh] == [fields(b) for b in filled]
    assert templates.stats.reused == 0


def test_integers_and_floats_are_different_skeletons():
    texts = ["params:\n  w: 1\n", "params:\n  w: 1.0\n", "params:\n  w: 2\n"]
    fresh, filled, templates = load_both(texts)
    assert [fields(a) for a in fresh] == [fields(b) for b in filled]
    assert type(filled[1].data["params"]["w"]) is float
    assert type(filled[2].data["params"]["w"]) is int
    assert templates.stats.reused == 1


def test_errors_are_never_remembered_and_are_located_in_each_file(tmp_path):
    good = NET.replace("가중치", "w").format(**dict(numbers(random.Random(2)), lr="0.5",
                                                  rtol="0.01"))
    bad = good.replace("rtol: ", "rtol: -")  # the same skeleton: refused by the spec
    (tmp_path / "good.yaml").write_text(good)
    (tmp_path / "bad.yaml").write_text(bad)
    with pytest.raises(GradcliError) as fresh:
        specs.load(str(tmp_path / "bad.yaml"))
    with structure_cache.scope() as cache:
        specs.load(str(tmp_path / "good.yaml"))
        with pytest.raises(GradcliError) as filled:
            specs.load(str(tmp_path / "bad.yaml"))
    assert cache.yaml.stats.reused == 1
    assert filled.value.line() == fresh.value.line()
    assert "bad.yaml:20:9:" in fresh.value.line()
    # a YAML error in a file of another skeleton is the composer's, as always
    (tmp_path / "broken.yaml").write_text(good.replace("  y:", "y:"))
    with structure_cache.scope(), pytest.raises(GradcliError) as broken:
        specs.load(str(tmp_path / "broken.yaml"))
    assert "broken.yaml:" in broken.value.line()


def test_large_texts_are_always_composed():
    from gradcli import yamltemplate

    big = "params:\n  w: 1.5\n" + "# padding\n" * (yamltemplate.MAX_TEXT // 10)
    fresh, filled, templates = load_both([big, big.replace("1.5", "2.5")])
    assert [fields(a) for a in fresh] == [fields(b) for b in filled]
    assert templates.stats.reused == 0 and templates.stats.composed == 0


def test_the_skeletons_remembered_are_bounded_in_characters(monkeypatch):
    from gradcli import yamltemplate

    monkeypatch.setattr(yamltemplate, "MAX_CHARS", 200)
    texts = [f"params:\n  w{k}: 1.5\n  pad: '{'x' * 60}'\n" for k in range(6)]
    templates = Templates()
    for text in texts:
        yamlio.load_text(text, templates=templates)
    assert 0 < templates._chars <= 200 and len(templates._table) == 2
    assert templates._chars == sum(len(key[0]) for key in templates._table)
    yamlio.load_text(texts[-1].replace("1.5", "2.5"), templates=templates)  # still known
    yamlio.load_text(texts[0].replace("1.5", "2.5"), templates=templates)  # forgotten
    assert templates.stats.reused == 1 and templates.stats.composed == 7
