"""Every human-readable string goes through here (gettext-style, class-based).

Two ways to write a message, both with an English template and named
placeholders (`str.format` syntax):

- `_("Gradients of {loss}", loss=name)` translates now, into the current
  language: for printers, help texts and anything shown once.
- `M("sign flipped")` / `M("off by a factor of {factor}", factor="2")` is a
  lazy `Msg`: results keep it, `--json` writes its English `str()`, and the
  printers show `text(msg)` in the current language.  JSON is therefore the
  same in every language.

`N_("...")` only marks a template for extraction (a table of words
translated later with `_(word)`).  Where one English word means two things
(the rule "step" of Heaviside's derivative, a training "step"), the word is
given a context: `NP_("rule", "step")` marks it and `pgettext("rule", word)`
translates it (gettext's `msgctxt`).

English loads no catalog.  Korean reads the compiled catalog shipped in
`gradcli/i18n/locale/ko/LC_MESSAGES/gradcli.mo` through `gettext.translation`
(no global `textdomain`).  The template itself is the message id.
"""
from __future__ import annotations

import os
from typing import Any

LANGUAGES = ("en", "ko")
DOMAIN = "gradcli"
LOCALE_DIR = os.path.join(os.path.dirname(__file__), "locale")

_language = "en"
_catalog: Any = None  # gettext.NullTranslations / GNUTranslations for the language


def set_language(lang: str) -> None:
    """Switch every later message to `lang` ("en" or "ko")."""
    global _language, _catalog
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    _language = lang
    if lang == "en":
        _catalog = None
        return
    import gettext

    _catalog = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def language() -> str:
    return _language


def language_from_environment(environ: dict[str, str] | None = None) -> str:
    """GRADCLI_LANG, then LC_ALL, LC_MESSAGES, LANG: a value starting with `ko` is Korean."""
    env = os.environ if environ is None else environ
    for var in ("GRADCLI_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def translate(template: str, context: str | None = None) -> str:
    """The template in the current language (the template itself in English)."""
    if _catalog is None or not template:
        return template
    if context is not None:
        by_context = getattr(_catalog, "pgettext", None)
        if by_context is not None:
            return by_context(context, template)
    return _catalog.gettext(template)


def _fill(template: str, args: dict[str, Any], english: bool) -> str:
    if not args:
        return template
    shown = {k: (v.english() if english else v.tr()) if isinstance(v, Msg) else v
             for k, v in args.items()}
    return template.format(**shown)


def _translated(template: str, args: dict[str, Any], context: str | None = None) -> str:
    """The translation filled in; a translation whose placeholders do not fit (a
    catalog bug the tests catch) falls back to the English template, never a crash."""
    shown = translate(template, context)
    if shown == template:
        return _fill(template, args, english=False)
    try:
        return _fill(shown, args, english=False)
    except (KeyError, IndexError, ValueError, AttributeError):
        return _fill(template, args, english=False)


def _(template: str, /, **args: Any) -> str:
    """Translate now and fill the placeholders."""
    return _translated(template, args)


def N_(template: str) -> str:
    """Mark a template for extraction; translate it later with `_()`."""
    return template


def NP_(context: str, template: str) -> str:
    """Mark a template with a context; translate it later with `pgettext(context, ...)`."""
    return template


def pgettext(context: str, template: str, /, **args: Any) -> str:
    """Translate now within `context` (gettext's msgctxt) and fill the placeholders."""
    return _translated(template, args, context)


class Msg:
    """A message kept for later: English `str()`, translated `tr()`."""

    __slots__ = ("template", "args")

    def __init__(self, template: str, /, **args: Any):
        self.template = template
        self.args = args

    def english(self) -> str:
        return _fill(self.template, self.args, english=True)

    def tr(self) -> str:
        return _translated(self.template, self.args)

    __str__ = english

    def __repr__(self) -> str:
        return f"Msg({self.english()!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Msg):
            return self.english() == other.english()
        if isinstance(other, str):
            return self.english() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.english())

    def __contains__(self, part: str) -> bool:  # `"sign" in diagnosis`
        return part in self.english()

    def startswith(self, prefix: str) -> bool:
        return self.english().startswith(prefix)


def M(template: str, /, **args: Any) -> Msg:
    """A lazy message (see the module docstring)."""
    return Msg(template, **args)


def text(value: Any) -> str:
    """What to show a person: a Msg translated, anything else as `str()`."""
    if isinstance(value, Msg):
        return value.tr()
    return "" if value is None else str(value)


def english(value: Any) -> Any:
    """What JSON gets: a Msg as its English text; other values unchanged."""
    return value.english() if isinstance(value, Msg) else value
