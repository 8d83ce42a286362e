"""The room joins the verdict: what the survey found against what the site's level needs.

Provisioning surveys each endpoint's room (``WS/survey/<host>.json``, confprov.provision.survey);
a site lacks a device when none of its endpoints has one (the survey summary's rule). Which
devices a level needs is ``equipment`` in confprov.yml (default: all of them at every level). A
missing device fails the site ("no microphone found"); a room never surveyed, or a survey that
could not be read, or one that did not read devices (``devices_surveyed: false``, Windows), is
a warning: unknown, not absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from confprov.provision.survey import NEEDS
from confprov.verify.evaluate import Verdict

# What a technician reads when the device is missing (the survey's own wording is per need).
MISSING = {
    "camera": "no camera found",
    "display": "no connected display found",
    "microphone": "no microphone found",
    "speaker": "no speaker (audio output) found",
}

# The survey section each need is read from (confprov.provision.survey.NEEDS tests these): a
# survey without the section did not look, so the device is unknown rather than missing.
SECTION = {"camera": "cameras", "display": "displays", "microphone": "audio", "speaker": "audio"}

# A survey saved with ``devices_surveyed: false`` (provision.yml's Windows play) did not look.
NOT_SURVEYED = "not surveyed (Windows: no stock module lists devices)"


def room_verdict(
    hosts: Sequence[str], surveys: dict[str, dict[str, Any]], required: Sequence[str]
) -> Verdict | None:
    """One ``room`` verdict for a site (on its first endpoint); None when nothing is required."""
    if not required or not hosts:
        return None
    host = hosts[0]
    need_text = ", ".join(required)
    found = [surveys[h] for h in hosts if surveys.get(h)]
    if not found:
        unreadable = [h for h in hosts if h in surveys]
        why = (
            f"survey of {', '.join(unreadable)} unreadable"
            if unreadable
            else "room not surveyed yet (confprov provision surveys it)"
        )
        return Verdict(
            host=host,
            check="room",
            severity="warn",
            threshold=need_text,
            reason=f"{why}: {need_text} unknown",
        )
    # A survey that did not read devices (Windows: stock facts only) says nothing about them.
    read = [s for s in found if s.get("devices_surveyed") is not False]
    if not read:
        return Verdict(
            host=host,
            check="room",
            severity="warn",
            threshold=need_text,
            reason=f"{NOT_SURVEYED}: {need_text} unknown",
        )
    unknown = [n for n in required if not any(SECTION[n] in s for s in read)]
    missing = [n for n in required if n not in unknown and not any(NEEDS[n][1](s) for s in read)]
    if missing:
        return Verdict(
            host=host,
            check="room",
            severity="fail",
            value=", ".join(missing),
            threshold=need_text,
            reason="; ".join(MISSING[n] for n in missing) + " in the room survey",
        )
    if unknown:
        return Verdict(
            host=host,
            check="room",
            severity="warn",
            threshold=need_text,
            reason=f"the survey did not look for: {', '.join(unknown)} (unknown)",
        )
    return Verdict(
        host=host,
        check="room",
        severity="pass",
        threshold=need_text,
        reason=f"room has {need_text}",
    )
