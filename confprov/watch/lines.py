"""Shared lines: the sites of one district (two-tier: one ``group``) behind one line.

When the line goes, every site on it goes silent within a probe or two of the others. Paging
each of them would bury the one fact that matters (call the ISP about the line), so the engine
shows them ``upstream`` with the line as the reason and opens ONE incident for the line
(``uplink:SLUG`` in the event log). This module holds the rule and each line's memory; the
engine (confprov/watch/engine.py) feeds it the sites' silences and applies what it decides.

The rule, for the sites a line may speak for (its ``candidates``: measurable, not in
maintenance, not already down on their own):

- **out** when every site on it is silent and at least two candidates went silent together: the
  longest past the gap, every one past half of it, their silences begun within half a gap of
  each other (sites lost a while apart are paged one by one, as they should be; a site already
  down keeps its own incident). A line none of whose sites was ever heard is not judged (agents
  not deployed is not an outage of the line);
- it **comes back** site by site: a silent site stays covered by the line until one gap after
  the first came back; one still silent then is ``down`` on its own (its own page);
- it is **over** after ``clean_s`` with no candidate silent, the hysteresis a site has: a line
  that flaps is one incident, not one per flap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from confprov.watch import states
from confprov.watch.states import Rules

UPLINK_PREFIX = "uplink:"  # + a district's or group's slug: the site of a line's events


@dataclass
class Line:
    slug: str
    name: str
    members: list[str]  # its measurable sites
    why: str = ""  # while out: the reason every covered site shows; "" while fine
    started: float = 0.0  # the last reply before it went (the incident's start)
    back_at: float | None = None  # the first site heard again while out
    clean_since: float | None = None  # no candidate silent since

    @property
    def key(self) -> str:
        return UPLINK_PREFIX + self.slug


@dataclass
class Lines:
    rules: Rules
    lines: dict[str, Line] = field(default_factory=dict)

    @classmethod
    def of(cls, rules: Rules, members: dict[str, list[str]], names: dict[str, str]) -> Lines:
        """Lines of two sites or more (a line of one is that site's own business)."""
        return cls(
            rules,
            {
                slug: Line(slug, names.get(slug, slug), sites)
                for slug, sites in members.items()
                if len(sites) >= 2
            },
        )

    def covers(self, uplink: str, silence: float, now: float) -> str:
        """The reason a site on ``uplink`` silent for ``silence`` shows, "" when the line is
        not out or no longer speaks for it (then the site is judged on its own)."""
        line = self.lines.get(uplink)
        if line is None or not line.why or silence <= self.rules.gap_s / 2:
            return ""
        if line.back_at is not None and now - line.back_at > self.rules.gap_s:
            return ""
        return line.why

    def judge(
        self,
        now: float,
        silence: Callable[[str], float],
        heard: Callable[[str], bool],
        candidate: Callable[[str], bool],
    ) -> tuple[list[Line], list[Line]]:
        """Apply one fresh reading; return the lines that went out and those that are over."""
        gap = self.rules.gap_s
        opened: list[Line] = []
        closed: list[Line] = []
        for line in self.lines.values():
            sites = [m for m in line.members if candidate(m)]
            quiet = [silence(m) for m in sites if silence(m) > gap / 2]
            if not line.why:
                if (
                    len(sites) >= 2
                    and len(quiet) == len(sites)
                    and all(silence(m) > gap / 2 for m in line.members)
                    and any(heard(m) for m in sites)
                    and max(quiet) > gap
                    and max(quiet) - min(quiet) <= gap / 2
                ):
                    line.why = states.text(
                        "uplink", self.rules.lang, name=line.name, count=len(sites)
                    )
                    line.started = now - min(quiet)
                    line.back_at = line.clean_since = None
                    opened.append(line)
                continue
            if quiet and len(quiet) == len(sites):
                line.back_at = line.clean_since = None  # still out, every site silent
            elif quiet:
                line.clean_since = None  # coming back, site by site
                if line.back_at is None:
                    line.back_at = now
            else:
                if line.back_at is None:
                    line.back_at = now
                if line.clean_since is None:
                    line.clean_since = now
                if now - line.clean_since >= self.rules.clean_s:
                    line.why = ""
                    line.back_at = line.clean_since = None
                    closed.append(line)
        return opened, closed

    def out(self) -> dict[str, str]:
        """Every line and why it is out ("" while fine)."""
        return {slug: line.why for slug, line in self.lines.items()}
