"""`confprov routers`: parse, call, print."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this area's commands to the `confprov` parser (filled in by its issue)."""
