# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A doctor check's result: one row of ``netapp-eic doctor``."""

import dataclasses
import enum


class Result(str, enum.Enum):
    OK = 'ok'
    WARN = 'warn'
    FAIL = 'fail'
    SKIP = 'skip'

    def __str__(self) -> str:
        return str(self.value)


@dataclasses.dataclass(frozen=True)
class Check:
    """``name``: what was checked; ``detail``: what was found; ``action``:
    what to do about it (empty when nothing)."""

    name: str
    result: Result
    detail: str
    action: str = ''

    def row(self) -> tuple[str, str, str, str]:
        return (self.name, str(self.result), self.detail, self.action)


def ok(name: str, detail: str) -> Check:
    return Check(name, Result.OK, detail)


def warn(name: str, detail: str, action: str) -> Check:
    return Check(name, Result.WARN, detail, action)


def fail(name: str, detail: str, action: str) -> Check:
    return Check(name, Result.FAIL, detail, action)


def skip(name: str, detail: str) -> Check:
    return Check(name, Result.SKIP, detail)
