"""confprov: make hundreds of video-conference sites ready for one session."""

from __future__ import annotations

__version__ = "0.1.0"
