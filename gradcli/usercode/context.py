"""What every check of one file shares (no numpy import: Value classes do not need it)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gradcli.i18n import Msg
from gradcli.usercode.trace import located


@dataclass
class Context:
    path: str  # the file's real path (to find the user's frames)
    shown: str  # the path as the user gave it
    rtol: float = 1e-5
    atol: float = 1e-8
    seed: int = 0

    def rng(self, salt: str) -> Any:
        """A numpy Generator for one purpose: the same draws for the same seed and salt."""
        import numpy as np

        return np.random.default_rng([self.seed, sum(map(ord, salt))])

    def precision(self) -> Any:
        from gradcli.usercode.arrays import Precision

        return Precision(rtol=self.rtol, atol=self.atol)

    def error(self, exc: BaseException) -> Msg:
        return located(exc, self.path, self.shown)
