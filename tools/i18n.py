#!/usr/bin/env python3
"""Message catalogs of gradcli: extract, merge, compile, check, audit.

    python tools/i18n.py            extract + merge + compile (the usual step)
    python tools/i18n.py extract    gradcli/**/*.py -> gradcli/i18n/locale/gradcli.pot
    python tools/i18n.py merge      .pot -> ko/LC_MESSAGES/gradcli.po (keeps translations)
    python tools/i18n.py compile    .po -> .mo (pure Python, GNU mo format)
    python tools/i18n.py check      exit 1 when a message is untranslated, drops a
                                    placeholder, or the .mo is older than the .po
    python tools/i18n.py todo       the untranslated messages, one per line
    python tools/i18n.py audit [PATH...]
                                    string literals that look like English prose but
                                    go through no M()/_()/N_() (a review aid)

What is extracted (by walking the source with `ast`, never importing it):
the literal first argument of every call to `M`, `_`, `N_` (also spelled
`i18n.M`, ...); the `help=` literal of every `typer.Option`/`typer.Argument`
and `typer.Typer`; the docstring of every function decorated with
`@app.command`/`@app.callback` (cleaned as Click shows it).  A call whose first
argument is not a literal is reported ("flagged"): it cannot be translated.

Everything here is the standard library: no Babel and no `msgfmt` are needed
(Babel's `pybabel compile` or GNU `msgfmt` produce an equivalent .mo).
"""
from __future__ import annotations

import ast
import inspect
import re
import string
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gradcli"
LOCALE = PACKAGE / "i18n" / "locale"
POT = LOCALE / "gradcli.pot"
GLOSSARY = PACKAGE / "i18n" / "glossary.tsv"
LANGS = ("ko",)
MARKERS = {"M", "_", "N_"}
CONTEXT_MARKERS = {"NP_", "pgettext"}  # (context, template)
HELP_CALLS = {"Option", "Argument", "Typer"}


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "gradcli.po"


def mo_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "gradcli.mo"


@dataclass
class Entry:
    msgid: str
    msgstr: str = ""
    context: str | None = None  # msgctxt: one English word with two meanings
    refs: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # translator comments (#)
    obsolete: bool = False


# ------------------------------------------------------------------ extract ---
def _callee(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_command(decorator: ast.expr) -> bool:
    call = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(call, ast.Attribute) and call.attr in ("command", "callback")


Found = tuple  # (context or None, msgid, reference)


def extract_file(path: Path, rel: str) -> tuple[list[Found], list[str]]:
    """(context, msgid, reference) of every message in one file, and the flagged
    calls (a template that is not a literal)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Found] = []
    flagged: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _callee(node)
            ref = f"{rel}:{node.lineno}"
            with_context = name in CONTEXT_MARKERS and len(node.args) >= 2
            if (name in MARKERS and node.args) or with_context:
                template = node.args[1] if with_context else node.args[0]
                context = _literal(node.args[0]) if with_context else None
                msgid = _literal(template)
                if msgid is None or (with_context and context is None):
                    flagged.append(f"{ref}: {name}({ast.unparse(template)[:60]}, ...)")
                elif msgid:
                    found.append((context, msgid, ref))
            if name in HELP_CALLS:
                for kw in node.keywords:
                    if kw.arg == "help" and _literal(kw.value):
                        found.append((None, _literal(kw.value), ref))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if any(_is_command(d) for d in node.decorator_list):
                doc = ast.get_docstring(node, clean=True)
                if doc:
                    found.append((None, doc.partition("\f")[0], f"{rel}:{node.lineno}"))
    return found, flagged


def key(entry: Entry) -> tuple[str, str]:
    return (entry.context or "", entry.msgid)


def extract(package: Path = PACKAGE) -> tuple[list[Entry], list[str]]:
    """Every message of the package, in file order, and the flagged calls."""
    entries: dict[tuple[str, str], Entry] = {}
    flagged: list[str] = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).as_posix()
        found, bad = extract_file(path, rel)
        flagged.extend(bad)
        for context, msgid, ref in sorted(found, key=lambda f: int(f[2].rsplit(":", 1)[1])):
            entry = entries.setdefault((context or "", msgid), Entry(msgid, context=context))
            entry.refs.append(ref)
    for entry in entries.values():
        if placeholders(entry.msgid):
            entry.flags.append("python-brace-format")
    return list(entries.values()), flagged


# ------------------------------------------------------------- placeholders ---
def placeholders(template: str) -> list[str]:
    """The `{name!conv:spec}` fields of a str.format template, sorted (with repeats)."""
    fields = []
    try:
        for _lit, name, spec, conv in string.Formatter().parse(template):
            if name is not None:
                fields.append(name + ("!" + conv if conv else "") + (":" + spec if spec else ""))
    except ValueError:
        return ["<malformed>"]
    return sorted(fields)


def placeholder_problems(entries: list[Entry]) -> list[str]:
    """Translations whose placeholders differ from their template's."""
    out = []
    for e in entries:
        if e.msgstr and not e.obsolete and placeholders(e.msgid) != placeholders(e.msgstr):
            out.append(f"{e.msgid!r}: {placeholders(e.msgid)} != {placeholders(e.msgstr)}")
    return out


# ----------------------------------------------------------------- glossary ---
def read_glossary(path: Path = GLOSSARY) -> list[tuple[str, str, str]]:
    """(English, Korean, note) rows, longest English term first.  Korean "-" marks
    English kept as written (YAML keys, words the user types)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            english, korean, *note = line.split("\t")
            rows.append((english.strip(), korean.strip(), note[0].strip() if note else ""))
    return sorted(rows, key=lambda r: -len(r[0]))


#: What glossary matching ignores in a template: placeholders, quoted text, code
#: in backticks, option names (--lr), and words joined to code (f_grad, x.grad, dL/dW).
_NOT_PROSE = re.compile(r"\{[^{}]*\}|'[^']*'|\"[^\"]*\"|`[^`]*`|(?<![\w-])--?[A-Za-z][\w-]*"
                        r"|\b\w+[_./(]\S*")


def glossary_problems(entries: list[Entry], rows=None) -> list[str]:
    """Translations that do not use the glossary's Korean term for an English term
    of their template (rule names, in the context "rule", as "<name> rule")."""
    rows = read_glossary() if rows is None else rows
    out = []
    for e in entries:
        if not e.msgstr or e.obsolete:
            continue
        prose = _NOT_PROSE.sub(" ", e.msgid)
        if e.context == "rule":
            prose = e.msgid + " rule"
        for english, korean, _note in rows:
            pattern = re.compile(rf"(?<![\w-]){re.escape(english)}(?![\w-])", re.IGNORECASE)
            if pattern.search(prose):
                prose = pattern.sub(" ", prose)
                if korean != "-" and korean not in e.msgstr:
                    out.append(f"{e.msgid!r}: '{english}' is '{korean}', not in {e.msgstr!r}")
    return out


# ---------------------------------------------------------------- po files ---
def _quote(s: str) -> str:
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r")
    return '"' + s.replace("\n", "\\n") + '"'


def _po_string(keyword: str, s: str, prefix: str = "") -> list[str]:
    if "\n" not in s[:-1]:
        return [f"{prefix}{keyword} {_quote(s)}"]
    lines = [f'{prefix}{keyword} ""']
    parts = s.split("\n")
    for i, part in enumerate(parts):
        chunk = part + ("\n" if i < len(parts) - 1 else "")
        if chunk:
            lines.append(prefix + _quote(chunk))
    return lines


_UNESCAPE = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(s: str) -> str:
    s = s.strip()
    if not (s.startswith('"') and s.endswith('"')):
        raise ValueError(f"not a PO string: {s!r}")
    return re.sub(r'\\(.)', lambda m: _UNESCAPE.get(m.group(1), m.group(1)), s[1:-1])


HEADER = ("Project-Id-Version: gradcli\n"
          "MIME-Version: 1.0\n"
          "Content-Type: text/plain; charset=UTF-8\n"
          "Content-Transfer-Encoding: 8bit\n")


def read_po(path: Path) -> tuple[str, list[Entry]]:
    """The header msgstr and the entries (obsolete `#~` ones included) of a .po file."""
    header = HEADER
    entries: list[Entry] = []
    cur = Entry("")
    key = None
    started = False

    def finish() -> None:
        nonlocal cur, key, header, started
        if started:
            if cur.msgid == "" and not cur.obsolete:
                header = cur.msgstr
            else:
                entries.append(cur)
        cur, key, started = Entry(""), None, False

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if started and key is not None:
                finish()
            if line.startswith("#:"):
                cur.refs.extend(line[2:].split())
            elif line.startswith("#,"):
                cur.flags.extend(f.strip() for f in line[2:].split(",") if f.strip())
            elif line.startswith("# ") or line == "#":
                cur.comments.append(line[2:])
            continue
        cur.obsolete = cur.obsolete or obsolete
        if line.startswith("msgid "):
            if started and key == "msgstr":
                finish()
                cur.obsolete = obsolete
            key, started = "msgid", True
            cur.msgid = _unquote(line[6:])
        elif line.startswith("msgctxt "):
            if started and key == "msgstr":
                finish()
                cur.obsolete = obsolete
            key, started = "msgctxt", True
            cur.context = _unquote(line[8:])
        elif line.startswith("msgstr "):
            key = "msgstr"
            cur.msgstr = _unquote(line[7:])
        elif line.startswith('"'):
            if key == "msgctxt":
                cur.context += _unquote(line)
            elif key == "msgid":
                cur.msgid += _unquote(line)
            elif key == "msgstr":
                cur.msgstr += _unquote(line)
        else:
            raise ValueError(f"{path}: cannot read line {raw!r}")
    finish()
    return header, entries


def write_po(path: Path, header: str, entries: list[Entry], *, pot: bool = False) -> None:
    out = ["# gradcli messages." if pot else "# gradcli: Korean messages (한국어).",
           "# Generated by tools/i18n.py from the source; translations are kept on merge.",
           "# Terms: gradcli/i18n/glossary.tsv.",
           'msgid ""', *_po_string("msgstr", header), ""]
    for e in entries:
        prefix = "#~ " if e.obsolete else ""
        out.extend(f"# {c}".rstrip() for c in e.comments)
        if e.refs and not e.obsolete:
            out.append("#: " + " ".join(e.refs))
        if e.flags:
            out.append("#, " + ", ".join(dict.fromkeys(e.flags)))
        if e.context is not None:
            out.extend(_po_string("msgctxt", e.context, prefix))
        out.extend(_po_string("msgid", e.msgid, prefix))
        out.extend(_po_string("msgstr", "" if pot else e.msgstr, prefix))
        out.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")


def merge(pot_entries: list[Entry], po_entries: list[Entry]) -> list[Entry]:
    """The template's entries with the existing translations; dropped ones kept as `#~`."""
    old = {key(e): e for e in po_entries}
    merged = []
    for t in pot_entries:
        prev = old.pop(key(t), None)
        merged.append(Entry(t.msgid, prev.msgstr if prev else "", t.context, list(t.refs),
                            list(t.flags), list(prev.comments) if prev else []))
    for e in old.values():
        if e.msgstr:
            merged.append(Entry(e.msgid, e.msgstr, e.context, [], [], e.comments,
                                obsolete=True))
    return merged


# ------------------------------------------------------------------ mo files ---
def compile_mo(header: str, entries: list[Entry]) -> bytes:
    """GNU .mo bytes: the header and every translated, non-fuzzy, live entry.

    Layout (GNU gettext manual, "The Format of GNU MO Files"): magic, revision
    0, count, offsets of the two (length, offset) tables, no hash table, then
    the msgids and the msgstrs, NUL-terminated, sorted by msgid.
    """
    pairs = {"": header}
    for e in entries:
        if e.msgstr and not e.obsolete and "fuzzy" not in e.flags:
            # a message with a context is stored as "context\x04msgid" (as msgfmt does)
            pairs[e.msgid if e.context is None else f"{e.context}\x04{e.msgid}"] = e.msgstr
    items = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in pairs.items())
    n = len(items)
    ids_table, strs_table = 28, 28 + 8 * n
    data_start = 28 + 16 * n
    ids = b""
    strs = b""
    id_offsets, str_offsets = [], []
    for k, _v in items:
        id_offsets.append((len(k), data_start + len(ids)))
        ids += k + b"\0"
    strs_start = data_start + len(ids)
    for _k, v in items:
        str_offsets.append((len(v), strs_start + len(strs)))
        strs += v + b"\0"
    out = struct.pack("<7I", 0x950412DE, 0, n, ids_table, strs_table, 0, data_start)
    out += b"".join(struct.pack("<2I", *o) for o in id_offsets)
    out += b"".join(struct.pack("<2I", *o) for o in str_offsets)
    return out + ids + strs


# ------------------------------------------------------------------ audit ---
_PROSE = re.compile(r"[A-Za-z]{2,}[ ,.:;!?'-]+[A-Za-z]{2,}")


def audit_file(path: Path) -> list[str]:
    """String literals with two or more English words outside M()/_()/N_() and docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and _literal(body[0].value) is not None:
                inside.add(id(body[0].value))
        if isinstance(node, ast.Call) and _callee(node) in MARKERS | {"escape"}:
            for sub in ast.walk(node):
                inside.add(id(sub))
        if isinstance(node, ast.Call) and _callee(node) in HELP_CALLS:
            for kw in node.keywords:
                if kw.arg == "help":
                    inside.add(id(kw.value))
    out = []
    for node in ast.walk(tree):
        value = _literal(node)
        if value and id(node) not in inside and _PROSE.search(value):
            out.append(f"{path}:{node.lineno}: {value[:70]!r}")
    return out


# ------------------------------------------------------------------- main ---
def run_extract() -> list[Entry]:
    entries, flagged = extract()
    for f in flagged:
        print(f"not a literal (its values must be marked with N_ or NP_ where defined): {f}",
              file=sys.stderr)
    write_po(POT, HEADER, entries, pot=True)
    print(f"{POT.relative_to(ROOT)}: {len(entries)} messages")
    return entries


def run_merge(entries: list[Entry]) -> None:
    for lang in LANGS:
        path = po_path(lang)
        header, old = read_po(path) if path.exists() else (HEADER, [])
        merged = merge(entries, old)
        write_po(path, header, merged)
        todo = sum(1 for e in merged if not e.msgstr and not e.obsolete)
        print(f"{path.relative_to(ROOT)}: {len(merged)} entries, {todo} untranslated")


def run_compile() -> None:
    for lang in LANGS:
        header, entries = read_po(po_path(lang))
        mo_path(lang).write_bytes(compile_mo(header, entries))
        print(f"{mo_path(lang).relative_to(ROOT)} written")


def problems(lang: str = "ko") -> list[str]:
    """What `check` fails on: untranslated, placeholders changed, a stale .mo.  (Calls
    with a non-literal template are printed by `extract`: their values must be
    marked with N_ where they are defined.)"""
    entries, _flagged = extract()
    header, po = read_po(po_path(lang))
    have = {key(e): e.msgstr for e in po if not e.obsolete}
    out = [f"untranslated: {e.msgid!r}" + (f" (context {e.context!r})" if e.context else "")
           for e in entries if not have.get(key(e))]
    out += [f"placeholders: {p}" for p in placeholder_problems(po)]
    out += [f"glossary: {p}" for p in glossary_problems(po)]
    if not mo_path(lang).exists() or mo_path(lang).read_bytes() != compile_mo(header, po):
        out.append(f"stale: {mo_path(lang).relative_to(ROOT)} (run tools/i18n.py compile)")
    return out


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "all"
    if cmd in ("all", "extract", "merge"):
        entries = run_extract()
        if cmd != "extract":
            run_merge(entries)
        if cmd == "all":
            run_compile()
        return 0
    if cmd == "compile":
        run_compile()
        return 0
    if cmd == "check":
        found = problems()
        print("\n".join(found) or "catalog complete")
        return 1 if found else 0
    if cmd == "todo":
        header, po = read_po(po_path("ko"))
        for e in po:
            if not e.msgstr and not e.obsolete:
                print(e.msgid.replace("\n", "\\n"))
        return 0
    if cmd == "audit":
        paths = [Path(p) for p in argv[1:]] or [PACKAGE]
        files = [f for p in paths for f in (sorted(p.rglob("*.py")) if p.is_dir() else [p])]
        for f in files:
            for line in audit_file(f):
                print(line)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
