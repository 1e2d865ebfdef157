"""The Korean catalog and the machinery around it (gradcli.i18n, tools/i18n.py).

The catalog tests read the source the way `tools/i18n.py` does, so a message
added anywhere without a Korean translation fails here, listing it.
"""
from __future__ import annotations

import gettext
import io
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from korean import ROOT, catalog_tool

from gradcli import i18n
from gradcli.i18n import M, _, text

PO = catalog_tool.po_path("ko")
MO = catalog_tool.mo_path("ko")


@pytest.fixture(autouse=True)
def english_after():
    yield
    i18n.set_language("en")


@pytest.fixture(scope="module")
def po():
    return catalog_tool.read_po(PO)


# ------------------------------------------------------------ the catalog ---
def test_every_message_has_a_korean_translation(po):
    entries, _flagged = catalog_tool.extract()
    assert len(entries) > 600
    have = {catalog_tool.key(e): e.msgstr for e in po[1] if not e.obsolete}
    missing = [e.msgid for e in entries if not have.get(catalog_tool.key(e))]
    assert not missing, "untranslated (run tools/i18n.py, then translate in the .po):\n" \
        + "\n".join(missing)


def test_every_translation_keeps_exactly_the_placeholders(po):
    assert catalog_tool.placeholder_problems(po[1]) == []
    checked = [e for e in po[1] if e.msgstr and catalog_tool.placeholders(e.msgid)]
    assert len(checked) > 300  # the check above ran over real templates


def test_placeholder_comparison_sees_conversions_specs_and_repeats():
    ph = catalog_tool.placeholders
    assert ph("{a} and {b:,}") == ["a", "b:,"]
    assert ph("{count} of {count}") == ["count", "count"]
    assert ph("{name!r}") == ["name!r"]
    assert ph("{{literal}} {x}") == ["x"]
    bad = catalog_tool.Entry("{a} {b:.2f}", "{a} {b}")
    dropped = catalog_tool.Entry("{count} of {count}", "{count}개")
    assert len(catalog_tool.placeholder_problems([bad, dropped])) == 2


def test_the_mo_is_compiled_from_the_po(po):
    assert MO.read_bytes() == catalog_tool.compile_mo(*po), \
        "gradcli.mo is stale: run python tools/i18n.py compile"


def test_the_mo_reads_back_with_gettext(po):
    """gradcli's own .mo writer against the standard library's reader."""
    catalog = gettext.GNUTranslations(io.BytesIO(catalog_tool.compile_mo(*po)))
    translated = [e for e in po[1] if e.msgstr and not e.obsolete]
    for e in translated:
        got = catalog.pgettext(e.context, e.msgid) if e.context else catalog.gettext(e.msgid)
        assert got == e.msgstr
    assert catalog.pgettext("rule", "step") == "계단 함수"
    assert catalog.gettext("step") == "스텝"
    assert catalog.info()["content-type"] == "text/plain; charset=UTF-8"


def test_po_round_trip(tmp_path, po):
    copy = tmp_path / "copy.po"
    catalog_tool.write_po(copy, *po)
    assert copy.read_text(encoding="utf-8") == PO.read_text(encoding="utf-8")


def test_glossary_terms_are_used(po):
    assert catalog_tool.glossary_problems(po[1]) == []


def test_glossary_holds_the_study_notes_words():
    rows = {en: ko for en, ko, _note in catalog_tool.read_glossary()}
    assert rows["gradient"] == "기울기"
    assert rows["forward pass"] == "순전파" and rows["backpropagation"] == "역전파"
    assert rows["learning rate"] == "학습률" and rows["loss"] == "손실"
    assert rows["error signal"] == "오차 신호" and rows["chain rule"] == "연쇄 법칙"
    assert rows["sum rule"] == "합의 법칙" and rows["constant multiple"] == "상수배 법칙"
    assert rows["power rule"] == "거듭제곱 법칙" and rows["product rule"] == "곱의 법칙"
    assert rows["quotient rule"] == "몫의 법칙" and rows["computation graph"] == "계산 그래프"


def test_glossary_check_catches_a_wrong_term():
    rows = [("gradient descent", "경사 하강법", ""), ("gradient", "기울기", "")]
    wrong = catalog_tool.Entry("the gradient is zero", "그래디언트가 0입니다")
    right = catalog_tool.Entry("gradient descent", "경사 하강법")
    quoted = catalog_tool.Entry("'gradient' key", "'gradient' 키")
    assert len(catalog_tool.glossary_problems([wrong, right, quoted], rows)) == 1


def test_no_typer_word_is_left_untranslated(po):
    """Every literal Typer passes to gettext (typer/core.py) is in the catalog, so a
    newer Typer with new words fails here, naming them."""
    import typer.core

    have = {e.msgid for e in po[1] if e.msgstr and not e.obsolete and e.context is None}
    found, _flagged = catalog_tool.extract_file(Path(typer.core.__file__), "typer/core.py")
    words = {msgid for _ctx, msgid, _ref in found}
    assert words and not words - have, sorted(words - have)


# ------------------------------------------------------------- extraction ---
def test_extraction_reads_every_marker_and_flags_non_literals(tmp_path):
    src = tmp_path / "pkg" / "mod.py"
    src.parent.mkdir()
    src.write_text(textwrap.dedent('''
        import typer
        from gradcli.i18n import M, N_, NP_, _, pgettext
        app = typer.Typer(help="App help.")
        WORDS = (N_("one"), NP_("rule", "step"))

        @app.command()
        def cmd(x: int = typer.Option(1, "--x", help="Option help.")) -> None:
            """Command help,
            on two lines."""
            print(_("shown {n}", n=x), M("kept {v}", v=x), pgettext("rule", "sum"))
            print(_(WORDS[0]))
        '''))
    entries, flagged = catalog_tool.extract(tmp_path / "pkg")
    got = {(e.context, e.msgid) for e in entries}
    assert got == {(None, "App help."), (None, "one"), ("rule", "step"), (None, "Option help."),
                   (None, "Command help,\non two lines."), (None, "shown {n}"),
                   (None, "kept {v}"), ("rule", "sum")}
    assert len(flagged) == 1 and "mod.py:12" in flagged[0]
    assert all("python-brace-format" in e.flags for e in entries if "{" in e.msgid)


def test_merge_keeps_translations_and_sets_aside_dropped_ones():
    E = catalog_tool.Entry
    old = [E("kept", "유지"), E("gone", "사라짐"), E("step", "스텝")]
    new = [E("kept"), E("new"), E("step", context="rule")]
    merged = catalog_tool.merge(new, old)
    live = {(e.context, e.msgid): e.msgstr for e in merged if not e.obsolete}
    assert live == {(None, "kept"): "유지", (None, "new"): "", ("rule", "step"): ""}
    assert {e.msgid for e in merged if e.obsolete} == {"gone", "step"}


# -------------------------------------------------------------- the API ---
def test_korean_messages_are_translated_and_json_stays_english():
    msg = M("off by a factor of {factor}", factor="2")
    i18n.set_language("ko")
    assert _("sign flipped") == "부호가 반대입니다"
    assert text(msg) == "2배만큼 어긋납니다"
    assert str(msg) == "off by a factor of 2" and i18n.english(msg) == "off by a factor of 2"
    nested = M("skipped: {reason}", reason=M("SymPy took longer than the time budget"))
    assert text(nested) == "건너뜀: SymPy가 시간 예산을 넘겼습니다"
    assert str(nested) == "skipped: SymPy took longer than the time budget"
    assert i18n.pgettext("rule", "step") == "계단 함수" and _("step") == "스텝"


def test_a_template_missing_from_the_catalog_stays_english():
    i18n.set_language("ko")
    assert _("no such message {x}", x=1) == "no such message 1"


def test_a_broken_translation_falls_back_to_english(monkeypatch):
    class Broken:
        def gettext(self, template):
            return "{wrong} 번역"

    monkeypatch.setattr(i18n, "_catalog", Broken())
    assert _("value {x}", x=3) == "value 3"


def test_unknown_language_is_refused():
    with pytest.raises(ValueError):
        i18n.set_language("fr")


@pytest.mark.parametrize("env, lang", [
    ({}, "en"),
    ({"LANG": "ko_KR.UTF-8"}, "ko"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "ko_KR.UTF-8"}, "ko"),
    ({"LC_ALL": "C", "LANG": "ko_KR.UTF-8"}, "en"),
    ({"GRADCLI_LANG": "en", "LC_ALL": "ko_KR.UTF-8"}, "en"),
    ({"GRADCLI_LANG": "ko", "LANG": "C"}, "ko"),
    ({"GRADCLI_LANG": "", "LANG": "ko"}, "ko"),
])
def test_language_from_the_environment(env, lang):
    assert i18n.language_from_environment(env) == lang


def test_english_loads_no_catalog():
    """English neither imports gettext nor opens a .mo; Korean opens the shipped one."""
    code = textwrap.dedent("""
        import sys
        from gradcli import i18n
        i18n.set_language(i18n.language_from_environment({}))
        print(i18n._("sign flipped"), i18n.M("x {a}", a=1).tr())
        assert "gettext" not in sys.modules, "gettext imported in English"
        assert i18n._catalog is None
        i18n.set_language("ko")
        assert "gettext" in sys.modules and i18n._catalog is not None
        print(i18n._("sign flipped"))
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["sign flipped x 1", "부호가 반대입니다"]


def test_the_cli_in_english_opens_no_catalog():
    """Typer imports the gettext module itself, so here the test is that no
    catalog was loaded: gettext's cache of opened .mo files stays empty."""
    code = textwrap.dedent("""
        import gettext, sys
        from gradcli.cli import main
        try:
            main(["derive", "x**2", "--at", "x=1", "--json"])
        except SystemExit as exc:
            assert exc.code == 0
        from gradcli import i18n
        assert i18n._catalog is None and i18n.language() == "en"
        assert not getattr(gettext, "_translations", {}), gettext._translations
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr


# ------------------------------------------------------------ library words ---
def test_click_messages_become_messages():
    from gradcli.i18n.foreign import CLICK, as_message

    msg = as_message("Invalid value for '--rtol': 'abc' is not a valid float.", CLICK)
    assert str(msg) == "Invalid value for '--rtol': 'abc' is not a valid float."
    i18n.set_language("ko")
    assert text(msg) == "'--rtol'의 값이 올바르지 않습니다: 'abc'은(는) 올바른 float 값이 아닙니다."
    assert as_message("something else entirely", CLICK) == "something else entirely"


def test_yaml_problems_become_messages():
    from gradcli.i18n.foreign import YAML, as_message

    msg = as_message("found character '\\t' that cannot start any token", YAML)
    i18n.set_language("ko")
    assert text(msg) == "토큰을 시작할 수 없는 문자 '\\t'이(가) 있습니다"
    assert str(msg) == "found character '\\t' that cannot start any token"


def test_yaml_syntax_errors_are_translated_and_json_english(tmp_path):
    from gradcli import yamlio
    from gradcli.errors import GradcliError

    with pytest.raises(GradcliError) as info:
        yamlio.load_text("a: 1\nb: [1, 2\n", "f.yaml")
    english = info.value.english_line()
    assert english.startswith("error: f.yaml:") and "YAML syntax error: " in english
    i18n.set_language("ko")
    line = info.value.line()
    assert line.startswith("error: f.yaml:") and "YAML 문법 오류: " in line
    assert re.search(r"[a-z]{3,} [a-z]{3,}", line.split(": ", 2)[2]) is None, line
