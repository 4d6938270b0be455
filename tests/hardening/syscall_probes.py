"""Harmless probes of dangerous syscalls: arguments chosen so that, *unfiltered* and as root, each call
fails with an errno other than EPERM (EFAULT, EINVAL, EBADF, ESRCH, ENOENT...) or does nothing to
the host. A probe returning EPERM under a filter, and something else without it, shows that the
filter (not a capability check) refused the call."""

from __future__ import annotations

import ctypes
import errno
from dataclasses import dataclass

import pyseccomp

from .childproc import sys_call

ENOENT_PATH = ctypes.create_string_buffer(b"/nonexistent-psb-dir/node")
EMPTY = ctypes.create_string_buffer(b"")
LONG_NAME = ctypes.create_string_buffer(b"x" * 200)
CLONE_NEWUSER = 0x10000000
CLONE_NEWNS = 0x00020000
CLONE_FS = 0x00000200
TIOCSTI = 0x5412
TIOCLINUX = 0x541C
TCGETS = 0x5401
S_IFBLK, S_IFCHR, S_IFIFO = 0o060000, 0o020000, 0o010000
AF_INET, AF_PACKET, AF_VSOCK, AF_ALG = 2, 17, 40, 38
SOCK_DGRAM = 2


@dataclass(frozen=True)
class Probe:
    name: str  # what the test reports
    syscall: str
    args: tuple[int, ...]
    docker_denies: bool  # Docker's default profile (without CAP_SYS_ADMIN etc.) refuses it

    def run(self) -> int:
        return sys_call(pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, self.syscall), *self.args)


def _p(buf: ctypes.Array[ctypes.c_char]) -> int:
    return ctypes.addressof(buf)


DANGEROUS: tuple[Probe, ...] = (
    Probe("mount", "mount", (0, 0, 0, 0, 0), True),
    Probe("umount2", "umount2", (0, 0), True),
    Probe("unshare(CLONE_NEWUSER)", "unshare", (CLONE_NEWUSER | 0x1,), True),
    Probe("setns", "setns", (-1, 0), True),
    Probe("clone(CLONE_NEWNS)", "clone", (CLONE_NEWNS | CLONE_FS, 0, 0, 0, 0), True),
    Probe("keyctl", "keyctl", (9999, 0, 0, 0, 0), True),
    Probe("add_key", "add_key", (0, 0, 0, 0, 0), True),
    Probe("request_key", "request_key", (0, 0, 0, 0), True),
    Probe("bpf", "bpf", (9999, 0, 0), True),
    Probe("perf_event_open", "perf_event_open", (0, 0, -1, -1, 0), True),
    Probe("userfaultfd", "userfaultfd", (0xFFFF,), True),
    Probe("open_by_handle_at", "open_by_handle_at", (-1, 0, 0), True),
    Probe("kexec_load", "kexec_load", (0, 0, 0, 0xFFFF0000), True),
    Probe("kexec_file_load", "kexec_file_load", (-1, -1, 0, 0, 0xFFFF), True),
    Probe("init_module", "init_module", (0, 0, 0), True),
    Probe("finit_module", "finit_module", (-1, 0, 0), True),
    Probe("delete_module", "delete_module", (0, 0), True),
    Probe("reboot", "reboot", (0, 0, 0, 0), True),
    Probe("swapon", "swapon", (0, 0), True),
    Probe("swapoff", "swapoff", (0,), True),
    Probe("pivot_root", "pivot_root", (0, 0), True),
    Probe("acct", "acct", (_p(EMPTY),), True),
    Probe("quotactl", "quotactl", (0, 0, 0, 0), True),
    Probe("settimeofday", "settimeofday", (0, 0), True),
    Probe("clock_settime", "clock_settime", (9999, 0), True),
    Probe("syslog", "syslog", (9999, 0, 0), True),
    Probe("vhangup", "vhangup", (), True),
    Probe("lookup_dcookie", "lookup_dcookie", (0, 0, 0), True),
    Probe("sethostname", "sethostname", (_p(LONG_NAME), 1000), True),
    Probe("fsopen", "fsopen", (0, 0), True),
    Probe("open_tree", "open_tree", (-1, 0, 0), True),
    Probe("socket(AF_VSOCK)", "socket", (AF_VSOCK, SOCK_DGRAM, 0), True),
    Probe("personality(ADDR_NO_RANDOMIZE)", "personality", (0x0040000,), True),
    # Allowed by Docker's default profile, refused by strict:
    Probe("ptrace", "ptrace", (2, 999999999, 0, 0), False),
    Probe("process_vm_readv", "process_vm_readv", (999999999, 0, 0, 0, 0, 0), False),
    Probe("io_uring_setup", "io_uring_setup", (0, 0), False),
    Probe("name_to_handle_at", "name_to_handle_at", (-1, 0, 0, 0, 0), False),
    Probe("adjtimex", "adjtimex", (0,), False),
    Probe("chroot", "chroot", (0,), False),  # Docker allows it with CAP_SYS_CHROOT (a default cap)
    Probe("mknod(S_IFBLK)", "mknod", (_p(ENOENT_PATH), S_IFBLK | 0o600, 0x801), False),
    Probe("mknod(S_IFCHR)", "mknod", (_p(ENOENT_PATH), S_IFCHR | 0o600, 0x103), False),
    Probe("ioctl(TIOCSTI)", "ioctl", (-1, TIOCSTI, 0), False),
    Probe("ioctl(TIOCSTI | 1<<32)", "ioctl", (-1, TIOCSTI | (1 << 32), 0), False),
    Probe("ioctl(TIOCLINUX)", "ioctl", (-1, TIOCLINUX, 0), False),
    Probe("socket(AF_PACKET)", "socket", (AF_PACKET, SOCK_DGRAM, 0), False),
    Probe("socket(AF_ALG)", "socket", (AF_ALG, 5, 0), False),
)

# Ordinary calls every profile must allow (result: not EPERM).
ORDINARY: tuple[Probe, ...] = (
    Probe("getpid", "getpid", (), False),
    Probe("ioctl(TCGETS)", "ioctl", (-1, TCGETS, 0), False),
    Probe("mknod(S_IFIFO)", "mknod", (_p(ENOENT_PATH), S_IFIFO | 0o600, 0), False),
    Probe("personality(query)", "personality", (0xFFFFFFFF,), False),
    Probe("socket(AF_INET)", "socket", (AF_INET, SOCK_DGRAM, 0), False),
    Probe("unshare(CLONE_FS)", "unshare", (CLONE_FS,), True),  # Docker: unshare needs CAP_SYS_ADMIN
)

EPERM = -errno.EPERM
