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

"""The cloud's processes: started in a session of their own, stopped by id.

Each service runs as the leader of a new session (so of its own process
group), with its stdout and stderr appended to ``logs/SERVICE.log`` and
two variables in its environment: ``NOVA_IMGMETA_CLOUD`` (the state
directory) and ``NOVA_IMGMETA_CLOUD_SERVICE`` (its name). Its pid file
holds the pid and the process' start time, so that a pid reused by
another program is never signalled. ``stop`` signals the group, then the
processes that still carry the markers (daemons that left the group, such
as RabbitMQ's helpers) -- those the cloud started, and no other.
"""

import os
import signal
import subprocess
import time

__all__ = ['MARKER', 'SERVICE_MARKER', 'start', 'alive', 'stop', 'marked',
           'rss_kib']

MARKER = 'NOVA_IMGMETA_CLOUD'
SERVICE_MARKER = 'NOVA_IMGMETA_CLOUD_SERVICE'


def _start_time(pid):
    """The start time of ``pid`` (clock ticks since boot), or None."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            stat = handle.read()
    except (IOError, OSError):
        return None
    # the command name, in parentheses, may hold spaces
    fields = stat.rsplit(')', 1)[1].split()
    if fields[0] == 'Z':
        return None
    return fields[19]


def start(layout, service, cmd, env=None, cwd=None):
    """Start ``cmd`` as ``service``; returns its pid."""
    os.makedirs(os.path.dirname(layout.log(service)), exist_ok=True)
    os.makedirs(os.path.dirname(layout.pidfile(service)), exist_ok=True)
    full_env = dict(env or os.environ)
    full_env[MARKER] = layout.state
    full_env[SERVICE_MARKER] = service
    with open(layout.log(service), 'ab') as log:
        log.write(('--- %s: %s\n' % (time.strftime('%Y-%m-%d %H:%M:%S'),
                                     ' '.join(cmd))).encode())
        log.flush()
        process = subprocess.Popen(
            cmd, env=full_env, cwd=cwd or layout.state,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True)
    with open(layout.pidfile(service), 'w') as handle:
        handle.write('%d %s\n' % (process.pid, _start_time(process.pid)))
    # forget the child: it must outlive this command (the kernel reparents
    # it); Popen's destructor would otherwise warn that it still runs
    process.returncode = 0
    return process.pid


def alive(layout, service):
    """The pid of ``service`` if it runs, else None."""
    try:
        with open(layout.pidfile(service)) as handle:
            pid, started = handle.read().split()
        pid = int(pid)
    except (IOError, OSError, ValueError):
        return None
    if _start_time(pid) != started:
        return None
    return pid


def _groups(layout, service=None):
    """Process group ids of the services that run (of one service)."""
    names = [service] if service else [
        name[:-len('.pid')] for name in _listdir(os.path.dirname(
            layout.pidfile('x'))) if name.endswith('.pid')]
    return set(pid for pid in (alive(layout, name) for name in names)
               if pid)


def _listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []


def _pgrp(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return int(handle.read().rsplit(')', 1)[1].split()[2])
    except (IOError, OSError, ValueError, IndexError):
        return None


def marked(layout, service=None):
    """Pids of the live processes started for this state directory (and
    this service): those carrying the markers in their environment, and
    those in the process group of a service (a process that retitles
    itself, as neutron-server does, can overwrite its environment's
    first page).
    """
    want = ('%s=%s' % (MARKER, layout.state)).encode()
    want_service = ('%s=%s' % (SERVICE_MARKER, service)).encode() \
        if service else None
    groups = _groups(layout, service)
    found = []
    for name in _listdir('/proc'):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        pid = int(name)
        try:
            with open('/proc/%s/environ' % name, 'rb') as handle:
                variables = handle.read().split(b'\0')
        except (IOError, OSError):
            continue
        mine = want in variables and (want_service is None or
                                      want_service in variables)
        if (mine or _pgrp(pid) in groups) and \
                _start_time(pid) is not None:
            found.append(pid)
    return sorted(found)


def _signal_all(pids, signum):
    for pid in pids:
        try:
            os.kill(pid, signum)
        except OSError:
            pass


def stop(layout, service, timeout=20.0):
    """Stop ``service``: SIGTERM to its group and marked processes, SIGKILL
    after ``timeout`` seconds. Returns True when something was running.
    """
    pid = alive(layout, service)
    was_running = pid is not None
    if pid is not None:
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass
    others = marked(layout, service)
    was_running = was_running or bool(others)
    _signal_all(others, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if alive(layout, service) is None and not marked(layout, service):
            break
        time.sleep(0.2)
    else:
        if alive(layout, service) is not None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        _signal_all(marked(layout, service), signal.SIGKILL)
        time.sleep(0.5)
    try:
        os.unlink(layout.pidfile(service))
    except OSError:
        pass
    return was_running


def rss_kib(pids):
    """Memory of ``pids``, KiB: their proportional set size (PSS: pages
    shared between processes, such as forked workers', count once in
    all), or the resident size where the kernel has no smaps_rollup.
    """
    total = 0
    for pid in pids:
        for path, field in (('/proc/%d/smaps_rollup' % pid, 'Pss:'),
                            ('/proc/%d/status' % pid, 'VmRSS:')):
            try:
                with open(path) as handle:
                    for line in handle:
                        if line.startswith(field):
                            total += int(line.split()[1])
                            break
                break
            except (IOError, OSError):
                continue
    return total


def run(cmd, env=None, check=True, input_text=None, timeout=600):
    """Run a short command; returns (code, output)."""
    process = subprocess.run(
        cmd, env=env, input=input_text.encode() if input_text else None,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    output = process.stdout.decode('utf-8', 'replace')
    if check and process.returncode:
        raise RuntimeError('%s failed (exit %d):\n%s' % (
            ' '.join(cmd[:3]), process.returncode, output[-3000:]))
    return process.returncode, output
