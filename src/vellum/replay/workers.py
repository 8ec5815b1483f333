"""Serve from several processes: fork after binding, so all of them accept on one socket.

Python runs one thread of bytecode at a time, so one process uses one core however
many requests it holds. `vellum serve --workers N` binds its sockets (SO_REUSEPORT),
then forks N-1 children before anything else is opened (the catalog's SQLite
connections must not be shared across a fork); each child binds sockets of its own to
the same ports and builds its own app, and the kernel hands each new connection to one
of the processes.

The parent stops its children (by their process ids) when it stops; a child whose
parent dies is sent SIGTERM by the kernel (`PR_SET_PDEATHSIG`), so none is left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
import sys

__all__ = ["fork_workers", "stop_workers"]

_PR_SET_PDEATHSIG = 1


def fork_workers(count: int, socks: list[socket.socket]) -> tuple[list[int], list[socket.socket]]:
    """Fork `count - 1` children; returns (child ids, sockets to serve on).

    The parent keeps `socks` and gets its children's ids. A child gets no ids and
    sockets of its own, bound with SO_REUSEPORT to the same addresses (`socks` must have
    been bound with it too): the kernel then spreads connections evenly over the
    processes, where one shared socket lets one busy process take most of them.
    """
    children: list[int] = []
    parent = os.getpid()
    for _ in range(max(count, 1) - 1):
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _die_with(parent)
            own = [_rebind(s) for s in socks]
            for s in socks:
                s.close()
            return [], own
        children.append(pid)
    return children, socks


def _rebind(sock: socket.socket) -> socket.socket:
    """A new listening socket on `sock`'s address, sharing the port by SO_REUSEPORT."""
    fresh = socket.socket(sock.family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    fresh.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    fresh.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    fresh.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    fresh.bind(sock.getsockname())
    fresh.listen(128)
    return fresh


def stop_workers(children: list[int]) -> None:
    """Ask each child to stop (SIGTERM), then wait for all of them."""
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _die_with(parent: int) -> None:
    """Have the kernel send this process SIGTERM when its parent exits (Linux)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)
