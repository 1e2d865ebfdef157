"""pytest plugin (entry point `pytest11`): `--gradcli-specs GLOB` turns YAML specs into tests.

Each file matching GLOB (relative to the rootdir; `**` allowed; the option may
be repeated) becomes one test item running `gradcli check` on it; a failure
shows the gradcli report, and a spec that cannot be used fails with its error
line.  Loading the plugin imports only pytest and the standard library: the
check (numpy, SymPy) is imported when an item runs.
"""
from __future__ import annotations

from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradcli")
    from gradcli.i18n import _

    group.addoption("--gradcli-specs", action="append", default=[], metavar="GLOB",
                    help=_("Check YAML specs matching GLOB (relative to the rootdir, ** "
                           "allowed) with gradcli, one test per file."))


class SpecFailed(Exception):
    """A spec whose gradient check or expect answers failed, or that cannot be used."""


class SpecFile(pytest.File):
    def collect(self):
        yield SpecItem.from_parent(self, name="gradcli check")


class SpecItem(pytest.Item):
    def runtest(self) -> None:
        from gradcli.api import check_file

        result = check_file(str(self.path))
        if not result.ok:
            raise SpecFailed(str(result))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, SpecFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, "gradcli check {}".format(self.path.name)


class NoMatch(pytest.Item):
    """A GLOB that matches no file is a failure, not a silently empty run."""

    def __init__(self, *, pattern: str, **kwargs):
        super().__init__(**kwargs)
        self.pattern = pattern

    def runtest(self) -> None:
        from gradcli.i18n import _

        raise SpecFailed(_("--gradcli-specs {pattern!r} matches no file under {root}",
                           pattern=self.pattern, root=self.config.rootpath))

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value)

    def reportinfo(self):
        return self.config.rootpath, None, "gradcli specs {}".format(self.pattern)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list) -> None:
    patterns = config.getoption("gradcli_specs") or []
    root = Path(config.rootpath)
    for pattern in patterns:
        paths = sorted(p for p in root.glob(pattern) if p.is_file())
        if not paths:
            items.append(NoMatch.from_parent(session, name="gradcli-specs[{}]".format(pattern),
                                             pattern=pattern))
        for path in paths:
            spec = SpecFile.from_parent(session, path=path)
            items.extend(spec.collect())
