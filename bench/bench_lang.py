#!/usr/bin/env python
"""What Korean costs (a report, not a test: always exits 0).

1. In-process, in fresh interpreters: the time from "gradcli.cli imported" to
   "command tree ready to parse" with `--lang ko` (gettext imported, the .mo
   read, Click's and Typer's words routed, help texts translated) minus the
   same with `--lang en`.  Target: at most 20 ms.  Also checked: English
   opens no catalog and never imports the Korean help machinery.
2. Whole process: `gradcli derive "(x**2+1)**3" --at x=2 --lang ko` against
   the same with `--lang en`, interleaved round-robin after warm-ups, median.
   Target: ratio at most 1.1.

Usage:  python bench/bench_lang.py [--runs N] [--warmup N]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchlib import clean_env, run_report

REPO = Path(__file__).resolve().parent.parent
DERIVE = ["derive", "(x**2+1)**3", "--at", "x=2"]
IN_PROCESS_TARGET_MS = 20.0
WHOLE_TARGET = 1.1

#: Run in a fresh interpreter: the cost of getting the CLI ready in one language.
PROBE = r"""
import json, sys, time
import typer
import gradcli.cli as cli
t0 = time.perf_counter()
cli._take_language(["derive", "x", "--lang", sys.argv[1]])
command = typer.main.get_command(cli.app)
cli._prepare(command)
from gradcli.i18n import _
_("sign flipped"); _("Options")
t1 = time.perf_counter()
import gettext
from gradcli import i18n
print(json.dumps({"ms": (t1 - t0) * 1000,
                  "catalog": i18n._catalog is not None,
                  "opened": [str(k) for k in getattr(gettext, "_translations", {})],
                  "clickhelp": "gradcli.i18n.clickhelp" in sys.modules}))
"""


def probe(lang: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, lang], capture_output=True, text=True,
                         env=clean_env(), cwd=REPO, check=True)
    return json.loads(out.stdout)


def in_process(runs: int) -> None:
    en, ko = [], []
    for _ in range(runs):
        en.append(probe("en"))
        ko.append(probe("ko"))
    en_ms = statistics.median(r["ms"] for r in en)
    ko_ms = statistics.median(r["ms"] for r in ko)
    english_clean = not any(r["catalog"] or r["opened"] or r["clickhelp"] for r in en)
    korean_loaded = all(r["catalog"] and r["clickhelp"] for r in ko)
    added = ko_ms - en_ms
    print(f"in-process, {runs} fresh interpreters each (median):")
    print(f"  English: {en_ms:7.2f} ms   catalog loaded: never; Korean help machinery "
          f"imported: {'never' if english_clean else 'YES (unexpected)'}")
    print(f"  Korean:  {ko_ms:7.2f} ms   catalog loaded: {'always' if korean_loaded else 'NO'}")
    verdict = "ok" if added <= IN_PROCESS_TARGET_MS else "OVER TARGET"
    print(f"  Korean adds {added:.2f} ms (target <= {IN_PROCESS_TARGET_MS:.0f} ms): {verdict}")


def whole_process(runs: int, warmup: int) -> None:
    script = shutil.which("gradcli", path=str(Path(sys.executable).parent))
    base = [script] if script else [sys.executable, "-m", "gradcli"]
    cmds = {lang: base + DERIVE + ["--lang", lang] for lang in ("en", "ko")}
    times: dict[str, list[float]] = {"en": [], "ko": []}
    for k in range(warmup + runs):
        for lang, argv in cmds.items():
            t0 = time.perf_counter()
            subprocess.run(argv, capture_output=True, env=clean_env(), cwd=REPO, check=True)
            if k >= warmup:
                times[lang].append(time.perf_counter() - t0)
    en, ko = statistics.median(times["en"]), statistics.median(times["ko"])
    ratio = ko / en
    print(f"whole process, `gradcli {' '.join(DERIVE)} --lang LANG`, "
          f"{runs} runs each after {warmup} warm-ups (median):")
    print(f"  --lang en: {en * 1000:7.1f} ms")
    print(f"  --lang ko: {ko * 1000:7.1f} ms")
    verdict = "ok" if ratio <= WHOLE_TARGET else "OVER TARGET"
    print(f"  ratio ko/en: {ratio:.3f} (target <= {WHOLE_TARGET}): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    # An installed package has its bytecode compiled (pip does it); a checkout run
    # with PYTHONDONTWRITEBYTECODE would time the compiler instead.
    import compileall

    compileall.compile_dir(str(REPO / "gradcli"), quiet=1)
    in_process(args.runs)
    whole_process(args.runs, args.warmup)


if __name__ == "__main__":
    run_report(main)
