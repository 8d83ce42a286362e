"""The one Jinja2 set-up of the HTML pages confprov writes and serves (the verify report, the
operator sheets, the watch board): every value HTML-escaped unless marked safe, an undefined
name an error rather than an empty string, block tags leaving no blank lines."""

from __future__ import annotations

import jinja2


def environment(package: str) -> jinja2.Environment:
    """The templates in ``package``'s ``templates`` folder."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
