"""Privilege reduction of the workload, run in the workload process just before execve.

STUB owned by the hardening work (issue 3): today it only switches user and groups.
Interface used by the launcher:
  prepare(profile, opts) -> Prepared   in the launcher, before fork (may compile seccomp)
  apply(prepared)                      in the workload, after mounts/chdir/fd closing; seccomp last
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pysandbox.policies.model import Profile

# What this module enforces today; `run` tells the user plainly about the rest.
ENFORCED: frozenset[str] = frozenset({"user"})


@dataclass(frozen=True)
class Prepared:
    uid: int
    gid: int
    groups: tuple[int, ...]


def prepare(profile: Profile, uid: int, gid: int, groups: tuple[int, ...] = ()) -> Prepared:
    return Prepared(uid, gid, groups)


def apply(prepared: Prepared) -> None:
    os.setgroups(list(prepared.groups))
    os.setresgid(prepared.gid, prepared.gid, prepared.gid)
    os.setresuid(prepared.uid, prepared.uid, prepared.uid)
