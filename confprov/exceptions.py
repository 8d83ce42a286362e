"""One tree of errors, so the CLI can map each kind to its exit code in one place.

Exit codes (the contract every command keeps):
0 success, 1 some sites failed or are not ready, 2 bad input or usage, 3 internal error.
"""

from __future__ import annotations

from dataclasses import dataclass


class ConfprovError(Exception):
    """Root of every error confprov raises on purpose."""

    exit_code = 3


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located precisely enough to fix it."""

    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}"


class InputError(ConfprovError):
    """Bad input from the operator: a registry, a config, a flag. Exit code 2."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(file="", line=None, field=None, message=problems)]
        self.problems = problems
        super().__init__("\n".join(str(p).lstrip(": ") for p in problems))


class EnvironmentProblem(ConfprovError):
    """The machine lacks something (root, a program): says what and how to install it."""

    exit_code = 2


class NotReady(ConfprovError):
    """Some sites failed or are not ready. Exit code 1."""

    exit_code = 1
