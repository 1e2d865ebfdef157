"""The HTML page shell every gradcli report shares: one self-contained file
(inline CSS, inline SVG, MathML; no script, no font or image fetched), with
a font stack that has Hangul glyphs (NanumGothic, Noto Sans CJK) for Korean
reports."""
from __future__ import annotations

from gradcli.render.markup import escape

FONTS = ('system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "NanumGothic", '
         '"Nanum Gothic", "Noto Sans CJK KR", "Malgun Gothic", sans-serif')
MONO = ('"DejaVu Sans Mono", "NanumGothicCoding", Menlo, Consolas, "Noto Sans Mono CJK KR", '
        'monospace')

CSS = """
:root{color-scheme:light}
body{font-family:%(fonts)s;margin:0;color:#0f172a;background:#f8fafc;line-height:1.45}
main{max-width:96rem;margin:0 auto;padding:1.2rem 1.5rem 3rem}
h1{font-size:1.35rem;margin:.4rem 0 1rem}
h2{font-size:1.15rem;margin:0 0 .6rem;word-break:break-all}
h3{font-size:1rem;margin:1.2rem 0 .4rem;color:#1e293b}
section.report{background:#fff;border:1px solid #cbd5e1;border-radius:8px;
  padding:1rem 1.2rem;margin:0 0 1.5rem;border-top:5px solid #16a34a}
section.report.failed{border-top-color:#dc2626}
section.report.unusable{border-top-color:#94a3b8}
code,.code{font-family:%(mono)s;font-size:.92em}
.scroll{overflow-x:auto;max-width:100%%}
table{border-collapse:collapse;font-size:.92rem;margin:.2rem 0 .4rem}
caption{text-align:left;font-weight:600;padding:.2rem 0 .3rem;color:#1e293b}
th,td{padding:.22rem .6rem;border-bottom:1px solid #e2e8f0;vertical-align:middle}
th{background:#f1f5f9;text-align:right;font-weight:600}
th.l,td.l{text-align:left}
td.r{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.note{font-weight:400}
tr.note td{border-bottom:1px solid #e2e8f0;font-size:.88rem;padding-left:1.6rem;
  background:#fffbeb;color:#78350f}
tr.note.error td{background:#fef2f2;color:#991b1b}
.ok{color:#15803d;font-weight:600}
.warn{color:#a16207;font-weight:600}
.error{color:#b91c1c;font-weight:700}
p{margin:.3rem 0}
p.warn,p.error{font-weight:400}
p.warn::before{content:"⚠ ";}
p.strong{font-weight:600}
.indent{margin-left:1.5rem}
.equations{margin:.3rem 0 .6rem}
.eq{margin:.2rem 0 .2rem 1rem;overflow-x:auto;overflow-y:hidden}
.eq.cont{margin-left:3rem}
.caption{margin:.6rem 0 .1rem .5rem;color:#334155;font-size:.92rem}
.group+.group{margin-top:.5rem}
math{font-size:1.08em;font-family:"Latin Modern Math","STIX Two Math","Cambria Math",
  "DejaVu Math TeX Gyre",math}
ul.notes{margin:.2rem 0 .6rem;padding-left:1.4rem;font-size:.92rem}
ol.steps{list-style:none;padding-left:.5rem;margin:.2rem 0 .6rem}
ol.steps li{margin:.18rem 0}
.rule{display:inline-block;min-width:5.5rem;font-weight:600;color:#1d4ed8}
.by{color:#475569;font-size:.92rem;margin-left:.6rem}
.layer{margin:.4rem 0 .8rem}
.layer h4{margin:.2rem 0;font-size:.95rem}
figure{margin:.8rem 0 0}
figure svg{background:#fff}
figcaption{font-weight:600;margin:.2rem 0 .4rem}
.verdict{font-size:1.05rem;margin-top:1rem}
.derivative{font-size:1.05rem;margin:1.2rem 0 .3rem;padding-top:.4rem;
  border-top:1px solid #e2e8f0}
""" % {"fonts": FONTS, "mono": MONO}


def page(title: str, body: str, extra_css: str = "", heading: bool = True) -> str:
    """A complete HTML document around `body` (already escaped markup); `heading`:
    the title as the page's <h1> too (a page of one report has its own)."""
    from gradcli.i18n import language

    return ("<!DOCTYPE html>\n"
            f'<html lang="{language()}"><head><meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="generator" content="gradcli">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}{extra_css}</style>\n</head>\n"
            f"<body>\n<main>\n{f'<h1>{escape(title)}</h1>' if heading else ''}\n{body}\n"
            "</main>\n</body></html>\n")
