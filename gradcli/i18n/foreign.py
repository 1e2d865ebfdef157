"""Messages that libraries write in English (Click, Typer, PyYAML), as messages.

Click (as vendored by Typer) and PyYAML build their messages with f-strings
or `%`, not gettext, so the only way to show them in Korean is to recognise
the finished English text: each template below (marked with `N_`, so the
catalog translates it) becomes a regular expression, and a text that matches
one becomes `M(template, **parts)`, translated when shown and English in
JSON.  A part that is itself a known message (Click's "Invalid value for
'--rtol': 'abc' is not a valid float.") is recognised in turn.  A text that
matches nothing is kept as it is, in English.
"""
from __future__ import annotations

import re
import string
from functools import lru_cache

from gradcli.i18n import M, Msg, N_

#: Click's and Typer's usage errors (first line of `format_message()`), most
#: specific first.  Typer's own `_()` words are in `TYPER_WORDS`.
CLICK = (
    N_("{message}. Did you mean {suggestions}?"),
    N_("{message} (Possible options: {options})"),
    N_("Missing argument {name}."),
    N_("Missing option {name}."),
    N_("Missing parameter {name}."),
    N_("Missing parameter: {name}"),
    N_("Invalid value for {name}: {message}"),
    N_("Invalid value: {message}"),
    N_("{value} is not a valid {kind}."),
    N_("{value} is not one of {choices}."),
    N_("{value} is not in the range {range}."),
    N_("{value} is not a valid boolean. Recognized values: {states}"),
    N_("{value} does not match the formats {formats}."),
    N_("No such option: {name}"),
    N_("Option {name} does not take a value."),
    N_("Option {name} requires an argument."),
    N_("Option {name} requires {count} arguments."),
    N_("Got unexpected extra argument ({args})"),
    N_("Got unexpected extra arguments ({args})"),
    N_("Got unexpected extra argument(s) ({args})"),
    N_("Argument {name} takes {count} values."),
    N_("{count} values are required, but {given} given."),
    N_("Takes {count} values but {given} given."),
    N_("Value must be an iterable."),
    N_("Could not open file {name}: {message}"),
    N_("Show this message and exit."),
)

#: Words Typer passes to `gettext` (typer/core.py): translated at the source
#: once `clickhelp.install()` puts gradcli's translation there.
TYPER_WORDS = (
    N_("Arguments"), N_("Options"), N_("Commands"), N_("default: {default}"),
    N_("required"), N_("env var: {var}"), N_("(dynamic)"), N_("Aborted!"),
    N_("Missing command."), N_("No such command {name!r}."),
    N_("Usage: "), N_("Usage:"), N_("Error"), N_("Try {command!r} for help."),
    N_("Did you mean {possibility}?"),
)

#: PyYAML's problems and contexts (yaml/scanner.py, parser.py, composer.py).
YAML = (
    N_("mapping values are not allowed here"),
    N_("could not find expected ':'"),
    N_("while scanning a simple key"),
    N_("while scanning a quoted scalar"),
    N_("while scanning a plain scalar"),
    N_("while scanning a block scalar"),
    N_("while scanning an anchor"),
    N_("while scanning an alias"),
    N_("while scanning a tag"),
    N_("while scanning a directive"),
    N_("while scanning for the next token"),
    N_("while parsing a block mapping"),
    N_("while parsing a block collection"),
    N_("while parsing a flow mapping"),
    N_("while parsing a flow sequence"),
    N_("while parsing a flow node"),
    N_("while parsing a block node"),
    N_("while parsing a node"),
    N_("found unexpected end of stream"),
    N_("found unexpected ':'"),
    N_("found unknown escape character {char}"),
    N_("found character {char} that cannot start any token"),
    N_("found undefined alias {name}"),
    N_("found duplicate anchor {name}; first occurrence"),
    N_("second occurrence"),
    N_("expected <block end>, but found {token}"),
    N_("expected ',' or ']', but got {token}"),
    N_("expected ',' or '}}', but got {token}"),
    N_("did not find expected node content"),
    N_("did not find expected key"),
    N_("did not find expected '-' indicator"),
    N_("found a tab character that violates indentation"),
    N_("found a tab character where an indentation space is expected"),
    N_("found unexpected document separator"),
    N_("expected a single document in the stream"),
    N_("but found another document"),
    N_("block sequence entries are not allowed here"),
    N_("unexpected end of stream"),
    N_("expected the node content, but found {token}"),
    N_("expected alphabetic or numeric character, but found {char}"),
    N_("expected ' ', but found {char}"),
    # token names PyYAML puts in its messages, quoted
    N_("'<stream end>'"), N_("'<stream start>'"), N_("'<document start>'"),
    N_("'<document end>'"), N_("'<block end>'"), N_("'<block mapping start>'"),
    N_("'<block sequence start>'"), N_("'<block entry>'"), N_("'<scalar>'"),
    N_("'<anchor>'"), N_("'<alias>'"), N_("'<tag>'"),
)


@lru_cache(maxsize=None)
def _pattern(template: str) -> re.Pattern:
    parts = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(f"(?P<{name}>.+?)")
    return re.compile("".join(parts), re.DOTALL)


def as_message(text: str, templates: tuple[str, ...], depth: int = 2) -> Msg | str:
    """`text` as `M(template, ...)` for the first template it matches; else `text`."""
    for template in templates:
        if "!" in template:  # `{name!r}`: matched at the source, never here
            continue
        found = _pattern(template).fullmatch(text)
        if found:
            parts = {k: as_message(v, templates, depth - 1) if depth > 0 else v
                     for k, v in found.groupdict().items()}
            return M(template, **parts)
    return text
