"""The vLLM release an emulator plays: parsed once, compared part by part."""

from __future__ import annotations

import re
from dataclasses import dataclass

# `0.20`, `0.20.1`, `v0.20.1`, `0.20.1.post1`, `0.20.1+cu128`: the parts after the
# patch number do not change the wire. Pre-releases (`rc`, `dev`) are refused: an
# rc of 0.24.0 need not behave like 0.24.0.
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?(?:\.post\d+)?(?:\+[0-9A-Za-z.]+)?")


@dataclass(frozen=True, order=True)
class Release:
    """A vLLM release number such as ``0.20.1``.

    Every version-specific rule of the emulator asks ``since`` (the one place
    versions are compared), e.g. ``release.since(0, 20)`` for "0.20.0 or later".
    """

    parts: tuple[int, int, int]

    @classmethod
    def parse(cls, text: str) -> Release:
        """Read ``"0.20.1"`` (a missing patch number is 0).

        Raises:
            ValueError: For anything else than a final release number.
        """
        match = _VERSION.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            msg = f"vllm must be a vLLM release number such as '0.20.1', got {text!r}."
            raise ValueError(msg)
        major, minor, patch = match.groups()
        return cls((int(major), int(minor), int(patch or 0)))

    def since(self, major: int, minor: int, patch: int = 0) -> bool:
        """Return whether this release is ``major.minor.patch`` or later."""
        return self.parts >= (major, minor, patch)

    def __str__(self) -> str:
        """The release number, e.g. ``0.20.1``."""
        return ".".join(map(str, self.parts))
