"""One trainer per run folder: an exclusive lock on ``run_dir/.lock``.

Two processes training into one folder would interleave their rows in ``history.csv`` and
overwrite each other's checkpoints. Whoever trains holds ``fcntl.flock`` on ``run_dir/.lock``,
whose text names the holder (pid, host, start time) for the message of whoever is refused. The
kernel drops a flock when its process dies, SIGKILL included, so a lock file left by a dead
process blocks nothing: the next holder simply takes it and rewrites the text. A flock belongs
to one open file, so a second lock in the same process is refused as well.

The file is unlinked on release. An acquirer that locked a file unlinked meanwhile (it opened
the path just before the holder released) finds that the path no longer names its file and
tries again, so two holders can never lock two different files.

This module does not import TensorFlow: it is cheap to take a lock before anything is built.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from gan_repro.errors import GanReproError

LOCK_NAME = ".lock"


class RunFolderLockedError(GanReproError, RuntimeError):
    """Another trainer (another process, or another trainer in this one) holds the folder."""


def _holder_text() -> str:
    return json.dumps(
        {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": " ".join(sys.argv)[:300],
        }
    )


def read_holder(path: str | Path) -> dict:
    """What a lock file says about its holder (``{}`` if it is missing or half written)."""
    try:
        holder = json.loads(Path(path).read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


class RunLock:
    """The exclusive lock of one run folder; a context manager (``with RunLock(run_dir):``).

    :meth:`acquire` makes the folder if needed and refuses at once with
    :class:`RunFolderLockedError`, naming the holder, when another lock holds it. Release is
    idempotent; a folder the lock made and left empty is removed again.
    """

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self._fd: int | None = None
        self._made_dir = False

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RunLock:
        if self.held:
            return self
        self._made_dir = not self.run_dir.exists()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                self._refuse()
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder unlinked this file as we locked it: take the new one
        os.ftruncate(fd, 0)
        os.pwrite(fd, _holder_text().encode(), 0)
        self._fd = fd
        return self

    def _refuse(self):
        holder = read_holder(self.path)
        pid, host = holder.get("pid", "?"), holder.get("host", "?")
        since = holder.get("since", "?")
        mine = pid == os.getpid() and host == socket.gethostname()
        who = "another trainer in this process" if mine else f"process {pid} on host {host}"
        raise RunFolderLockedError(
            f"{self.run_dir} is being trained by {who} (pid {pid}, host {host}, since {since}; "
            f"command: {holder.get('command', '?')}): two trainers in one run folder would mix "
            f"their histories and checkpoints. Wait for it to finish, stop it (kill {pid} on "
            f"{host}; a stopped run resumes from its last checkpoint), or train into another "
            "folder (out=...)"
        )

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # while still held: see the module docstring
        finally:
            os.close(self._fd)  # closing drops the flock
            self._fd = None
        if self._made_dir:
            try:
                self.run_dir.rmdir()  # only if nothing else was written
            except OSError:
                pass
            self._made_dir = False

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self):
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)
