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

"""Benchmark of ``nova-imgmeta audit`` and ``backfill --apply`` on a real
Glance (not a test; doc/source/benchmarks.rst, "Operator CLI").

For each size N a real Glance API server (tests/glance/glance_server.py,
the Glance tier's venv: Glance 33.0.0, gunicorn with one worker, SQLite)
is seeded with N images straight into its database: 30 % base images,
70 % snapshots, one snapshot in 20 (``--part audit``) or in
``--fix-every`` (``--part backfill``) without base_image_ref, their
servers (one in forty deleted) in the Nova stand-in of
tests/glance/fake_nova.py.

* **audit vs the floor**: the floor is the whole catalogue listed page by
  page (the two listings that hold every image on this Glance: every
  visibility, and the hidden images) with the same kind of keystoneauth
  session the command builds (``nova_imgmeta.cloud.auth.connect``), each
  page's JSON decoded, and nothing else. Floor and audit run in turns
  (interleaved, so that other load on the machine falls on both), each in
  a child process whose modules are imported before the clock starts; the
  whole process time is shown apart. The audit writes its default output
  (problems, trees, summary) to /dev/null, noting when its first line
  came. Memory: tracemalloc peak (in a run of its own: tracemalloc slows
  Python down) and peak RSS (VmHWM).
* **backfill --apply, before and now** (``--part backfill``): the same
  catalogue, the same snapshots to fix, with this tree's code and with the
  code of ``--baseline-ref`` (the tree before the parallel writes: one
  GET and one PATCH per change, one after the other), in turns; the
  base_image_ref values written are removed from the database between
  runs. ``--workers-sweep 1,2,4,16`` times other ``--workers`` counts (each
  round in another order). ``--rtt MS`` puts a proxy in front of Glance
  that delays every request by MS milliseconds: a Glance farther away
  than loopback (a load balancer, TLS, token validation, a database on
  another node, the operator's own network). ``--glance-db mariadb``
  runs Glance on a MariaDB of its own (tests/glance/glance_database.py:
  a private mariadbd, started here and stopped after, also on failure,
  Ctrl-C or SIGTERM) rather than SQLite, so that ``--glance-workers N``
  gunicorn workers can write in parallel, as in a real cloud.

Requests are counted inside each child (keystoneauth's Session.request).

    .venv-glance/bin/python benchmarks/bench_lineage_ops.py --part audit \
        [--sizes 1000,10000,100000] [--rounds 5] [--baseline-audit]
    .venv-glance/bin/python benchmarks/bench_lineage_ops.py --part backfill \
        [--backfill-size 10000 --fix-every 2] [--rtt 25] \
        [--glance-db mariadb --glance-workers 4] [--workers-sweep 1,2,4,16]
"""

from __future__ import print_function

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tests', 'glance'))
import glance_database  # noqa: E402  (tests/glance: the standard library)

#: the tree before issue 20's work (sequential writes, a GET per change)
BASELINE_REF = 'bdd461a'
#: Glance 33's listings that together hold every image (as the CLI lists
#: them on this Glance: API v2.7 and visibility=all)
FLOOR_SCOPES = ('visibility=all', 'visibility=all&os_hidden=true')


# -- children ------------------------------------------------------------

def peak_rss_kb():
    """This process's peak RSS in KiB: VmHWM, whose count starts at exec
    (getrusage's ru_maxrss would include the parent's size at fork).
    """
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except (IOError, OSError, ValueError):
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu():
    """This process's CPU seconds (user and system, its threads')."""
    times = os.times()
    return times[0] + times[1]


def process_cpu_seconds(pids):
    """CPU seconds (user and system) that ``pids`` have used so far."""
    ticks = float(os.sysconf('SC_CLK_TCK'))
    total = 0
    for pid in pids:
        try:
            with open('/proc/%d/stat' % pid) as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
        except (IOError, OSError):
            continue
        total += int(fields[11]) + int(fields[12])   # utime, stime
    return total / ticks


def child_pids(parent):
    """The pids whose parent is ``parent`` (gunicorn's workers)."""
    found = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
        except (IOError, OSError):
            continue
        if int(fields[1]) == parent:
            found.append(int(name))
    return found


def _count_requests():
    """Count keystoneauth's requests by method (in this process)."""
    from keystoneauth1 import session
    counts = {}
    real = session.Session.request

    def request(self, url, method, *args, **kwargs):
        counts[method] = counts.get(method, 0) + 1
        return real(self, url, method, *args, **kwargs)
    session.Session.request = request
    return counts


def _preimport():
    """Import what the command imports, before the clock starts."""
    import keystoneauth1.adapter  # noqa: F401
    import keystoneauth1.loading  # noqa: F401
    import keystoneauth1.session  # noqa: F401
    for name in ('glanceclient', 'glanceclient.v2.client',
                 'novaclient.client', 'nova_imgmeta.cloud.http',
                 'nova_imgmeta.cloud.glance', 'nova_imgmeta.cloud.compute',
                 'nova_imgmeta.cli.audit', 'nova_imgmeta.cli.backfill'):
        try:
            __import__(name)
        except ImportError:
            pass


class _FirstWrite(object):
    """A /dev/null stream that notes when it was first written to, and
    keeps its last few KiB (shown when the command fails).
    """

    KEEP = 4096

    def __init__(self, start):
        self.start = start
        self.first = None
        self.tail = ''
        self.handle = open(os.devnull, 'w')

    def write(self, text):
        if self.first is None and text.strip():
            self.first = time.time() - self.start
        self.tail = (self.tail + text)[-self.KEEP:]
        self.handle.write(text)

    def flush(self):
        pass


def child_floor(argv):
    from nova_imgmeta.cli import main as cli_main
    from nova_imgmeta.cloud import auth
    _preimport()
    counts = _count_requests()
    args = cli_main.build_parser().parse_args(['audit'] + argv)
    start = time.time()
    connection = auth.connect(auth.settings_from_args(args))
    images = 0
    for scope in FLOOR_SCOPES:
        url = '%s/v2/images?limit=1000&%s' % (connection.image_endpoint,
                                              scope)
        while url:
            body = connection.session.get(url).json()
            images += len(body['images'])
            url = body.get('next') and connection.image_endpoint + \
                body['next']
    wall = time.time() - start
    return {'wall': wall, 'requests': counts, 'images': images,
            'maxrss_kb': peak_rss_kb()}


def child_patch_floor(argv):
    """The writes' floor: one PATCH per image of the JSON list in ``--ids
    FILE``, from ``--threads`` threads sharing one session, with nothing
    else: no listing, no reading again, no journal.
    """
    from nova_imgmeta.cli import main as cli_main
    from nova_imgmeta.cloud import auth
    import threading
    _preimport()
    threads = int(argv[argv.index('--threads') + 1])
    with open(argv[argv.index('--ids') + 1]) as handle:
        ids = json.load(handle)
    rest = [a for i, a in enumerate(argv)
            if a not in ('--threads', '--ids') and
            argv[i - 1] not in ('--threads', '--ids')]
    counts = _count_requests()
    args = cli_main.build_parser().parse_args(['audit'] + rest)
    start, cpu = time.time(), _cpu()
    connection = auth.connect(auth.settings_from_args(args))
    connection.size_pools(threads)
    todo = iter(ids)
    lock = threading.Lock()
    headers = {'Content-Type': 'application/openstack-images-v2.1-json-patch'}

    def work():
        while True:
            with lock:
                image_id = next(todo, None)
            if image_id is None:
                return
            data = json.dumps([{'op': 'add', 'path': '/base_image_ref',
                                'value': 'floor'}])
            connection.session.patch(
                '%s/v2/images/%s' % (connection.image_endpoint, image_id),
                headers=headers, data=data).json()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.time() - start
    return {'wall': wall, 'write': wall, 'requests': counts,
            'cpu': _cpu() - cpu, 'maxrss_kb': peak_rss_kb()}


def child_cli(argv, trace=False):
    from nova_imgmeta.cli import main as cli_main
    import tracemalloc
    _preimport()
    counts = _count_requests()
    phases = {}
    try:
        from nova_imgmeta.catalogue import writer
        real_apply = writer.apply_changes

        def apply_changes(*args, **kwargs):
            began = time.time()
            try:
                return real_apply(*args, **kwargs)
            finally:
                phases['write'] = time.time() - began
        writer.apply_changes = apply_changes
    except ImportError:
        pass
    if trace:
        tracemalloc.start()
    start, cpu = time.time(), _cpu()
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = out = _FirstWrite(start)
    sys.stderr = err = _FirstWrite(start)
    try:
        code = cli_main.main(argv)
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    wall = time.time() - start
    result = {'code': code, 'wall': wall, 'requests': counts,
              'cpu': _cpu() - cpu,
              'first_stdout': out.first, 'first_stderr': err.first,
              'maxrss_kb': peak_rss_kb()}
    if code not in (0, 1):   # 1: audit found problems
        result['stderr_tail'] = err.tail
    result.update(phases)
    if trace:
        result['peak_bytes'] = tracemalloc.get_traced_memory()[1]
    return result


def run_child(mode, argv, tree=REPO, trace=False):
    """Run one measured child in ``tree``'s code; its result dict, with
    the process's whole wall time (interpreter start and imports).
    """
    env = dict((k, v) for k, v in os.environ.items()
               if not k.startswith('OS_'))
    env['PYTHONPATH'] = tree
    command = [sys.executable, os.path.abspath(__file__), '--child', mode]
    if trace:
        command.append('--trace')
    start = time.time()
    process = subprocess.run(command + ['--'] + argv, env=env, cwd=tree,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process_wall = time.time() - start
    if process.returncode != 0:
        raise RuntimeError('child %s failed: %s' % (
            mode, process.stderr.decode('utf-8', 'replace')[-2000:]))
    result = json.loads(process.stdout.decode('utf-8').splitlines()[-1])
    result['process_wall'] = process_wall
    return result


# -- the catalogue ---------------------------------------------------------

def seed(server, nova, n, owner='bench', every=20):
    """N images in one project, one snapshot in ``every`` without
    base_image_ref; returns (seconds, ids of those snapshots).
    """
    import glance_server as gs
    images, bases = [], []
    n_base = max(1, int(n * 0.3))
    for number in range(n_base):
        image_id = gs.new_id()
        bases.append(image_id)
        images.append({'id': image_id, 'name': 'base-%d' % number,
                       'owner': owner})
    missing = []
    for number in range(n - n_base):
        uuid = gs.new_id()
        image_id = gs.new_id()
        base = bases[number % n_base]
        props = {'image_type': 'snapshot', 'instance_uuid': uuid}
        if number % every == 0:
            missing.append(image_id)
        else:
            props['base_image_ref'] = base
        nova.state.add(uuid, base, project=owner, deleted=number % 40 == 0,
                       updated='2099-01-01T00:00:00Z')
        images.append({'id': image_id, 'name': 'snap-%d' % number,
                       'owner': owner, 'properties': props})
    start = time.time()
    gs.bulk_insert(server.database, images)
    return time.time() - start, missing


def unfix(database, ids):
    """Remove the base_image_ref values a backfill wrote (between runs)."""
    db = database.connect()
    try:
        cursor = db.cursor()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            cursor.execute('DELETE FROM image_properties WHERE name = '
                           "'base_image_ref' AND image_id IN (%s)"
                           % ','.join([database.placeholder] * len(chunk)),
                           chunk)
        db.commit()
    finally:
        db.close()


def baseline_tree(ref, workdir):
    """The nova_imgmeta package of ``ref``, extracted into workdir."""
    target = os.path.join(workdir, 'baseline-' + ref)
    if not os.path.isdir(target):
        os.makedirs(target)
        archive = subprocess.check_output(
            ['git', '-C', REPO, 'archive', ref, 'nova_imgmeta'])
        subprocess.run(['tar', '-x', '-C', target], input=archive,
                       check=True)
    return target


class Servers(object):
    """Glance (and a proxy in front when --rtt) and the Nova stand-in."""

    def __init__(self, workdir, rtt_ms=0.0, glance_workers=1,
                 glance_db='sqlite'):
        from fake_nova import start_fake_nova
        import glance_server as gs
        from loopback_http import start_proxy
        self.glance = self.nova = self.proxy = None
        try:
            self.glance = gs.GlanceServer(
                workdir, workers=glance_workers,
                database=glance_database.make(glance_db, workdir)).start()
            self.nova = start_fake_nova()
            self.url = self.glance.url
            if rtt_ms:
                delay = rtt_ms / 1000.0
                self.proxy = start_proxy(self.glance.url, {'delay': dict(
                    (m, delay) for m in ('GET', 'PATCH'))})
                self.url = self.proxy.url
        except BaseException:
            self.stop()
            raise
        self.auth = (['--os-auth-type', 'none',
                      '--os-image-endpoint-override', self.url,
                      '--os-compute-endpoint-override',
                      self.nova.compute_url] + gs.cli_headers())

    def glance_cpu(self):
        """CPU seconds Glance (gunicorn's master and workers) and its
        MariaDB have used so far.
        """
        pids = []
        if self.glance.process is not None:
            pids = [self.glance.process.pid] + child_pids(
                self.glance.process.pid)
        pids += self.glance.database.pids()
        return process_cpu_seconds(pids)

    def stop(self):
        try:
            if self.proxy is not None:
                self.proxy.shutdown()
            if self.nova is not None:
                self.nova.shutdown()
        finally:
            if self.glance is not None:
                self.glance.stop()   # and its database


# -- the measurements ------------------------------------------------------

def _median(values):
    return statistics.median(values) if values else None


def measure_audit(args, n, workdir):
    servers = Servers(os.path.join(workdir, 'glance-%d' % n),
                      glance_db=args.glance_db)
    try:
        seconds, missing = seed(servers.glance, servers.nova, n)
        audit_argv = ['audit'] + servers.auth
        row = {'n': n, 'seed_seconds': round(seconds, 2),
               'missing': len(missing), 'floor': [], 'audit': []}
        for number in range(args.rounds):
            order = ('floor', 'audit') if number % 2 == 0 else (
                'audit', 'floor')
            for which in order:
                if which == 'floor':
                    row['floor'].append(run_child('floor', servers.auth))
                else:
                    row['audit'].append(run_child('cli', audit_argv))
                print(json.dumps({'n': n, which: row[which][-1]}),
                      file=sys.stderr)
        row['audit_traced'] = run_child('cli', audit_argv, trace=True)
        if args.baseline_audit:
            tree = baseline_tree(args.baseline_ref, workdir)
            row['baseline_audit'] = run_child('cli', audit_argv, tree)
            row['baseline_audit_traced'] = run_child('cli', audit_argv,
                                                     tree, trace=True)
        return row
    finally:
        servers.stop()


def measure_backfill(args, workdir):
    n = args.backfill_size
    servers = Servers(os.path.join(workdir, 'glance-backfill-%d' % n),
                      args.rtt, args.glance_workers, args.glance_db)
    tree = baseline_tree(args.baseline_ref, workdir)
    try:
        seconds, missing = seed(servers.glance, servers.nova, n,
                                every=args.fix_every)
        ids_file = os.path.join(workdir, 'fix-ids.json')
        with open(ids_file, 'w') as handle:
            json.dump(missing, handle)
        row = {'n': n, 'fixes': len(missing), 'rtt_ms': args.rtt,
               'seed_seconds': round(seconds, 2),
               'glance_workers': args.glance_workers,
               'glance_db': args.glance_db,
               'today': [], 'now': [], 'sweep': {}, 'patch_floor': {}}

        def backfill(code_tree, extra=()):
            journal = os.path.join(workdir, 'journal-%f.jsonl' % time.time())
            cpu = servers.glance_cpu()
            result = run_child('cli', ['backfill', '--apply', '--quiet',
                                       '--journal', journal] +
                               list(extra) + servers.auth, code_tree)
            result['glance_cpu'] = servers.glance_cpu() - cpu
            assert result['code'] == 0, result
            unfix(servers.glance.database, missing)
            return result

        def patch_floor(threads):
            cpu = servers.glance_cpu()
            result = run_child('patch-floor', ['--threads', str(threads),
                                               '--ids', ids_file] +
                               servers.auth)
            result['glance_cpu'] = servers.glance_cpu() - cpu
            unfix(servers.glance.database, missing)
            return result

        # before, now and the PATCH floors in turns, each round in
        # another order: load that comes and goes falls on every one
        kinds = ['today', 'now'] + ['floor-%d' % t
                                    for t in args.patch_floors]
        for number in range(args.backfill_rounds):
            shift = number % len(kinds)
            for which in kinds[shift:] + kinds[:shift]:
                if which.startswith('floor-'):
                    threads = which.split('-')[1]
                    runs = row['patch_floor'].setdefault(threads, [])
                    runs.append(patch_floor(int(threads)))
                else:
                    runs = row[which]
                    runs.append(backfill(tree if which == 'today'
                                         else REPO))
                print(json.dumps({'backfill': which, 'result': runs[-1]}),
                      file=sys.stderr)
        sweep = list(args.workers_sweep)
        for number in range(args.backfill_rounds if sweep else 0):
            shift = number % len(sweep)
            for workers in sweep[shift:] + sweep[:shift]:
                row['sweep'].setdefault(str(workers), []).append(backfill(
                    REPO, ['--workers', str(workers)]))
                print(json.dumps({'workers': workers, 'result':
                                  row['sweep'][str(workers)][-1]}),
                      file=sys.stderr)
        return row
    finally:
        servers.stop()


# -- the report -------------------------------------------------------------

def _requests(counts):
    return ' + '.join('%d %s' % (v, k) for k, v in sorted(counts.items()))


def _mib(kb):
    return '%.0f MiB' % (kb / 1024.0)


def _rst(header, rows):
    """An RST simple table."""
    widths = [max(len(str(r[i])) for r in [header] + rows)
              for i in range(len(header))]
    rule = ' '.join('=' * w for w in widths)
    lines = [rule, ' '.join(str(h).ljust(w) for h, w in zip(header, widths)),
             rule]
    for row in rows:
        lines.append(' '.join(str(c).ljust(w) for c, w in zip(row, widths)))
    lines.append(rule)
    return '\n'.join(line.rstrip() for line in lines)


def report_audit(rows):
    """One line per size: audit, with the floor beside each figure."""
    header = ('N', 'requests (floor)', 'wall s (floor)', 'audit / floor',
              'range', 'command s (floor)', 'first line s',
              'tracemalloc peak', 'peak RSS (floor)', 'before: wall s, peak')
    table = []
    for row in rows:
        floor = _median([r['wall'] for r in row['floor']])
        audit = _median([r['wall'] for r in row['audit']])
        ratios = sorted(a['wall'] / f['wall']
                        for a, f in zip(row['audit'], row['floor']))
        before = '-'
        if 'baseline_audit' in row:
            before = '%.2f, %.1f MiB' % (
                row['baseline_audit']['wall'],
                row['baseline_audit_traced']['peak_bytes'] / 2.0 ** 20)
        table.append((
            '{:,}'.format(row['n']),
            '%s (%s)' % (_requests(row['audit'][0]['requests']),
                         _requests(row['floor'][0]['requests'])),
            '%.2f (%.2f)' % (audit, floor),
            '%.2f' % _median(ratios),
            '%.2f-%.2f' % (ratios[0], ratios[-1]),
            '%.2f (%.2f)' % (
                _median([r['process_wall'] for r in row['audit']]),
                _median([r['process_wall'] for r in row['floor']])),
            '%.2f' % _median([r['first_stdout'] for r in row['audit']]),
            '%.1f MiB' % (row['audit_traced']['peak_bytes'] / 2.0 ** 20),
            '%s (%s)' % (_mib(max(r['maxrss_kb'] for r in row['audit'])),
                         _mib(max(r['maxrss_kb'] for r in row['floor']))),
            before))
    return _rst(header, table)


def _cpu_cell(runs):
    """Median CPU seconds of Glance (with its database) and of the
    command, when the runs measured them.
    """
    if not all('glance_cpu' in r and 'cpu' in r for r in runs):
        return '-'
    return '%.0f, %.0f' % (_median([r['glance_cpu'] for r in runs]),
                           _median([r['cpu'] for r in runs]))


def report_backfill(row):
    """The code before and this tree's, the same catalogue, in turns,
    with the PATCH floors beside them.
    """
    header = ('code', 'workers', 'requests', 'wall s (runs)',
              'median s', 'write phase s', 'before / this', 'peak RSS',
              'CPU s: Glance, client')
    table = []
    today = _median([r['wall'] for r in row['today']])

    def line(which, workers, runs):
        runs = runs if isinstance(runs, list) else [runs]
        median = _median([r['wall'] for r in runs])
        table.append((which, workers, _requests(runs[0]['requests']),
                      ', '.join('%.1f' % r['wall'] for r in runs),
                      '%.1f' % median,
                      '%.1f' % _median([r['write'] for r in runs]),
                      '%.2f' % (today / median) if today else '',
                      _mib(max(r['maxrss_kb'] for r in runs)),
                      _cpu_cell(runs)))
    if row['today']:
        line('before', '1', row['today'])
    if row['now']:
        line('this', 'default', row['now'])
    for workers, runs in sorted(row['sweep'].items(),
                                key=lambda item: int(item[0])):
        line('this', str(workers), runs)
    for threads, runs in sorted(row.get('patch_floor', {}).items(),
                                key=lambda item: int(item[0])):
        line('PATCH floor', threads, runs)
    return ('backfill --apply: %d images, %d to fix, Glance with %d '
            'worker(s) on %s, %s ms added to each Glance request\n' % (
                row['n'], row['fixes'], row.get('glance_workers', 1),
                row.get('glance_db', 'sqlite'), row['rtt_ms']) +
            _rst(header, table))


def build_parser():
    parser = argparse.ArgumentParser()
    parser.add_argument('--sizes', default='1000,10000,100000')
    parser.add_argument('--rounds', type=int, default=3,
                        help='floor/audit pairs per size')
    parser.add_argument('--part', choices=('audit', 'backfill', 'all'),
                        default='all')
    parser.add_argument('--baseline-ref', default=BASELINE_REF)
    parser.add_argument('--baseline-audit', action='store_true',
                        help="also time the baseline's audit")
    parser.add_argument('--backfill-size', type=int, default=10000,
                        help='catalogue of the backfill runs')
    parser.add_argument('--fix-every', type=int, default=2,
                        help='one snapshot in so many to fix in the '
                             'backfill runs (2: 3,500 of the 7,000 '
                             'snapshots of 10,000 images; 20: 3,500 of '
                             '100,000)')
    parser.add_argument('--backfill-rounds', type=int, default=2)
    parser.add_argument('--workers-sweep', default='',
                        help='e.g. 1,2,4,8,16')
    parser.add_argument('--rtt', type=float, default=0.0,
                        help='ms added to every Glance request (backfill)')
    parser.add_argument('--glance-workers', type=int, default=1,
                        help="Glance's gunicorn workers (more than one "
                             "needs --glance-db mariadb)")
    parser.add_argument('--glance-db', choices=glance_database.KINDS,
                        default=glance_database.KINDS[0],
                        help="Glance's database: its SQLite file, or a "
                             "MariaDB of its own (started here, stopped "
                             "after)")
    parser.add_argument('--patch-floors', default='1,8',
                        help='threads of the PATCH floors (backfill; '
                             'empty: none)')
    parser.add_argument('--json', metavar='FILE',
                        help='write the measurements to FILE')
    parser.add_argument('--report', metavar='FILE',
                        help='only print the tables of a --json FILE')
    parser.add_argument('--child', choices=('floor', 'cli', 'patch-floor'))
    parser.add_argument('--trace', action='store_true')
    parser.add_argument('rest', nargs=argparse.REMAINDER)
    return parser


def _stop_on_sigterm(signum, frame):
    """SIGTERM ends the run as Ctrl-C does: the servers (Glance, its
    MariaDB) are stopped on the way out.
    """
    raise SystemExit(128 + signum)


def main():
    args = build_parser().parse_args()
    if args.child:
        rest = args.rest[1:] if args.rest[:1] == ['--'] else args.rest
        if args.child == 'floor':
            result = child_floor(rest)
        elif args.child == 'patch-floor':
            result = child_patch_floor(rest)
        else:
            result = child_cli(rest, args.trace)
        print(json.dumps(result))
        return
    if args.report:
        with open(args.report) as handle:
            results = json.load(handle)
        _print(results)
        return
    args.sizes = [int(s) for s in args.sizes.split(',') if s]
    args.workers_sweep = [int(s) for s in args.workers_sweep.split(',')
                          if s]
    args.patch_floors = [int(s) for s in args.patch_floors.split(',') if s]
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    workdir = tempfile.mkdtemp(prefix='bench-lineage-')
    results = {'audit': [], 'backfill': None,
               'started': time.strftime('%Y-%m-%d %H:%M:%S'),
               'load_before': os.getloadavg()}
    try:
        if args.part in ('audit', 'all'):
            for n in args.sizes:
                results['audit'].append(measure_audit(args, n, workdir))
        if args.part in ('backfill', 'all'):
            results['backfill'] = measure_backfill(args, workdir)
    finally:
        results['load_after'] = os.getloadavg()
        if args.json:
            with open(args.json, 'w') as handle:
                json.dump(results, handle, indent=1, sort_keys=True)
        shutil.rmtree(workdir, ignore_errors=True)
    _print(results)


def _print(results):
    print('load average before %s, after %s' % (
        ' '.join('%.1f' % x for x in results['load_before']),
        ' '.join('%.1f' % x for x in results['load_after'])))
    if results['audit']:
        print(report_audit(results['audit']))
    if results['backfill']:
        print(report_backfill(results['backfill']))


if __name__ == '__main__':
    main()
