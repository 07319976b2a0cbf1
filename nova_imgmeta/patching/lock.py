# Copyright nova-imgmeta contributors
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""One ``nova-imgmeta patch`` run at a time on a tree.

Two runs on one tree (a configuration-management run and a manual one, two
pipeline jobs sharing a workspace) must not interleave: each would compute
its change from a tree the other is rewriting. Every command holds
``.nova-imgmeta-patch.lock`` in the tree's root, locked with ``flock(2)``
(exclusive), from finding the series to its last write; the others wait
for it, up to a timeout.

The file exists only while a run holds or waits for it: the holder removes
it before letting go, a waiter that then gets the lock on the removed file
notices and opens the new one. A run killed while holding it leaves the
file, not the lock (the kernel drops that): the next run locks it and
removes it. So a tree is left exactly as the commands made it.

A user who may not write to the tree (``status`` by a monitoring account on
a root-owned site-packages) cannot create the file: a read-only command
then shares the lock of a file that exists, and otherwise reads unlocked
(``held.locked`` False); the caller checks that nothing changed meanwhile.
"""

import errno
import fcntl
import os
import socket
import threading
import time

from nova_imgmeta.patching.errors import LockTimeout
from nova_imgmeta.patching.errors import PatchError

__all__ = ['LOCK_NAME', 'DEFAULT_TIMEOUT', 'Held', 'hold']

LOCK_NAME = '.nova-imgmeta-patch.lock'
DEFAULT_TIMEOUT = 120.0
_POLL = 0.01                   # seconds between attempts, doubled to 0.1

_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)

# Roots this thread holds, so that a function holding the lock can call
# another that takes it (status() inside the CLI's transaction).
_local = threading.local()


class Held(object):
    """What ``hold`` got: ``locked`` False for an unlocked read."""

    def __init__(self, path, locked, note='', exclusive=False):
        self.path = path
        self.locked = locked
        self.note = note
        self.exclusive = exclusive


def _held_roots():
    if not hasattr(_local, 'roots'):
        _local.roots = {}
    return _local.roots


class hold(object):
    """Context manager: the lock of ``root`` for ``action``.

    write: the command changes the tree (it needs the exclusive lock, and
    write access). on_wait(holder): called once, when another run holds
    the lock, with what that run wrote into the file. Raises LockTimeout
    after ``timeout`` seconds, PatchError when the lock cannot be taken.
    """

    def __init__(self, root, action, write=True, timeout=DEFAULT_TIMEOUT,
                 on_wait=None):
        self.root = root
        self.path = os.path.join(root, LOCK_NAME)
        self.action = action
        self.write = write
        self.timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        self.on_wait = on_wait
        self._fd = None
        self._exclusive = False
        self._nested = False

    def __enter__(self):
        key = os.path.realpath(self.root)
        roots = _held_roots()
        if key in roots:
            self._nested = True
            if self.write and not roots[key].exclusive:
                raise PatchError('%s is held for reading only; nova-'
                                 'imgmeta patch %s cannot write under it'
                                 % (self.path, self.action))
            return roots[key]
        held = self._acquire()
        roots[key] = held
        return held

    def __exit__(self, *exc_info):
        if self._nested:
            return False
        _held_roots().pop(os.path.realpath(self.root), None)
        self._release()
        return False

    # ------------------------------------------------------------ acquire

    def _open(self):
        """An fd on the lock file and its flock mode; None: read unlocked."""
        flags = getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_CLOEXEC', 0)
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | flags,
                           0o600), fcntl.LOCK_EX
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise PatchError('%s is a symbolic link: remove it (nova-'
                                 'imgmeta patch creates that file itself)'
                                 % self.path)
            if exc.errno not in _NOT_WRITABLE:
                raise PatchError('cannot open the lock %s: %s'
                                 % (self.path, exc.strerror))
            if self.write:
                raise PatchError(
                    'cannot lock %s: %s; nova-imgmeta patch %s needs write '
                    'access to the tree (run it as the user that owns it)'
                    % (self.path, exc.strerror, self.action))
        try:   # a run of another user holds it: share it, read-only
            return os.open(self.path, os.O_RDONLY | flags), fcntl.LOCK_SH
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None, None
            raise PatchError('cannot open the lock %s: %s'
                             % (self.path, exc.strerror))

    def _acquire(self):
        deadline = time.time() + self.timeout
        delay = _POLL
        told = False
        while True:
            fd, mode = self._open()
            if fd is None:
                return Held(self.path, False, (
                    'read without the lock: this user cannot create %s; a '
                    'change made meanwhile by another user is detected, '
                    'not prevented' % self.path))
            while True:
                try:
                    fcntl.flock(fd, mode | fcntl.LOCK_NB)
                    break
                except (IOError, OSError) as exc:
                    if exc.errno not in _BUSY:
                        os.close(fd)
                        raise PatchError('cannot lock %s: %s'
                                         % (self.path, exc.strerror))
                if time.time() >= deadline:
                    holder = _read_holder(fd)
                    os.close(fd)
                    raise LockTimeout(
                        'another nova-imgmeta patch run holds the lock %s '
                        '(%s); gave up after %s s, nothing was done. Let it '
                        'finish and run this again, or wait longer with '
                        '--lock-timeout' % (self.path, holder or 'no details',
                                            _seconds(self.timeout)))
                if not told and self.on_wait is not None:
                    told = True
                    self.on_wait(_read_holder(fd) or 'no details')
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
            if _is_current(fd, self.path):
                break
            os.close(fd)            # the holder removed it meanwhile: retry
        self._fd = fd
        self._exclusive = mode == fcntl.LOCK_EX
        if self._exclusive:
            _write_holder(fd, self.action)
        return Held(self.path, True, exclusive=self._exclusive)

    def _release(self):
        if self._fd is None:
            return
        try:
            # Only the exclusive holder removes it: a sharer doing so would
            # let a writer lock a new file while other sharers still read.
            if self._exclusive and _is_current(self._fd, self.path):
                try:
                    os.unlink(self.path)
                except OSError:
                    pass        # the next run removes it
        finally:
            os.close(self._fd)  # drops the flock
            self._fd = None


def _is_current(fd, path):
    """The locked fd is the file now at path (not one removed meanwhile)."""
    try:
        mine = os.fstat(fd)
        there = os.lstat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)


def _write_holder(fd, action):
    text = 'pid %d on %s, nova-imgmeta patch %s, since %s\n' % (
        os.getpid(), socket.gethostname(), action,
        time.strftime('%Y-%m-%d %H:%M:%S %z'))
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, text.encode('utf-8'))
    except OSError:
        pass                    # the details are a courtesy


def _read_holder(fd):
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, 300)
    except OSError:
        return ''
    return data.decode('utf-8', 'replace').strip()


def _seconds(value):
    return ('%g' % value) if value != int(value) else '%d' % value
