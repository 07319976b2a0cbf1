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
the Glance tier's venv) is seeded with N images straight into its SQLite
database: 30 % base images, 70 % snapshots, 5 % of the snapshots without
base_image_ref, their servers (one in forty deleted) in the Nova stand-in
of tests/glance/fake_nova.py.

* **audit vs the floor**: the floor is the whole catalogue listed page by
  page (the two listings that hold every image on this Glance: every
  visibility, and the hidden images) with the same keystoneauth session
  the command builds, each page's JSON decoded, and nothing else. Floor
  and audit run in turns (interleaved, so that other load on the machine
  falls on both), each in a child process whose modules are imported
  before the clock starts; the command's whole process time is shown
  apart. Memory: tracemalloc peak (a run of its own, tracemalloc slows
  Python down) and peak RSS.
* **backfill --apply, today vs now** (``--part backfill``): the same
  catalogue, the same snapshots to fix, with this tree's code and with the
  code of ``--baseline-ref`` (the tree before the parallel writes),
  interleaved; the base_image_ref values written are removed from the
  database between runs. ``--workers-sweep`` times the write phase for
  several ``--workers``. ``--rtt MS`` puts a proxy in front of Glance that
  delays every request by MS milliseconds (Glance farther away than
  loopback).

Requests are counted inside each child (keystoneauth's Session.request).

    .venv-glance/bin/python benchmarks/bench_lineage_ops.py \\
        [--sizes 1000,10000,100000] [--rounds 3] [--part audit|backfill|all]
"""

from __future__ import print_function

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tests', 'glance'))

#: the tree before issue 20's work (sequential writes, a GET per change)
BASELINE_REF = 'bdd461a'
#: Glance 33's listings that together hold every image (as the CLI lists
#: them on this Glance: API v2.7 and visibility=all)
FLOOR_SCOPES = ('visibility=all', 'visibility=all&os_hidden=true')


# -- children ------------------------------------------------------------

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
    """A /dev/null stream that notes when it was first written to."""

    def __init__(self, start):
        self.start = start
        self.first = None
        self.handle = open(os.devnull, 'w')

    def write(self, text):
        if self.first is None and text.strip():
            self.first = time.time() - self.start
        self.handle.write(text)

    def flush(self):
        pass


def child_floor(argv):
    from nova_imgmeta.cli import main as cli_main
    from nova_imgmeta.cloud import auth
    import resource
    _preimport()
    counts = _count_requests()
    args = cli_main.build_parser().parse_args(['audit'] + argv)
    start = time.time()
    connection = auth.connect(args)
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
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {'wall': wall, 'requests': counts, 'images': images,
            'maxrss_kb': rss}


def child_cli(argv, trace=False):
    from nova_imgmeta.cli import main as cli_main
    import resource
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
    start = time.time()
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = out = _FirstWrite(start)
    sys.stderr = err = _FirstWrite(start)
    try:
        code = cli_main.main(argv)
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    wall = time.time() - start
    result = {'code': code, 'wall': wall, 'requests': counts,
              'first_stdout': out.first, 'first_stderr': err.first,
              'maxrss_kb': resource.getrusage(
                  resource.RUSAGE_SELF).ru_maxrss}
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

def seed(server, nova, n, owner='bench'):
    """N images in one project; returns (seconds, ids of the snapshots
    without base_image_ref).
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
        if number % 20 == 0:
            missing.append(image_id)
        else:
            props['base_image_ref'] = base
        nova.state.add(uuid, base, project=owner, deleted=number % 40 == 0,
                       updated='2099-01-01T00:00:00Z')
        images.append({'id': image_id, 'name': 'snap-%d' % number,
                       'owner': owner, 'properties': props})
    start = time.time()
    gs.bulk_insert(server.db_path, images)
    return time.time() - start, missing


def unfix(db_path, ids):
    """Remove the base_image_ref values a backfill wrote (between runs)."""
    db = sqlite3.connect(db_path, timeout=60)
    try:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            db.execute('DELETE FROM image_properties WHERE name = '
                       "'base_image_ref' AND image_id IN (%s)"
                       % ','.join('?' * len(chunk)), chunk)
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

    def __init__(self, workdir, rtt_ms=0.0):
        from fake_nova import start_fake_nova
        import glance_server as gs
        from loopback_http import start_proxy
        self.glance = gs.GlanceServer(workdir).start()
        self.nova = start_fake_nova()
        self.proxy = None
        self.url = self.glance.url
        if rtt_ms:
            delay = rtt_ms / 1000.0
            self.proxy = start_proxy(self.glance.url, {'delay': dict(
                (m, delay) for m in ('GET', 'PATCH'))})
            self.url = self.proxy.url
        self.auth = (['--os-auth-type', 'none',
                      '--os-image-endpoint-override', self.url,
                      '--os-compute-endpoint-override',
                      self.nova.compute_url] + gs.cli_headers())

    def stop(self):
        if self.proxy is not None:
            self.proxy.shutdown()
        self.nova.shutdown()
        self.glance.stop()


# -- the measurements ------------------------------------------------------

def _median(values):
    return statistics.median(values) if values else None


def measure_audit(args, n, workdir):
    servers = Servers(os.path.join(workdir, 'glance-%d' % n))
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
                      args.rtt)
    tree = baseline_tree(args.baseline_ref, workdir)
    try:
        seconds, missing = seed(servers.glance, servers.nova, n)
        row = {'n': n, 'fixes': len(missing), 'rtt_ms': args.rtt,
               'today': [], 'now': [], 'sweep': {}}

        def backfill(code_tree, extra=()):
            journal = os.path.join(workdir, 'journal-%f.jsonl' % time.time())
            result = run_child('cli', ['backfill', '--apply', '--quiet',
                                       '--journal', journal] +
                               list(extra) + servers.auth, code_tree)
            assert result['code'] == 0, result
            unfix(servers.glance.db_path, missing)
            return result
        for number in range(args.backfill_rounds):
            order = ('today', 'now')
            if number % 2:
                order = ('now', 'today')
            for which in order:
                row[which].append(backfill(tree if which == 'today'
                                           else REPO))
                print(json.dumps({'backfill': which,
                                  'result': row[which][-1]}),
                      file=sys.stderr)
        for workers in args.workers_sweep:
            row['sweep'][workers] = backfill(REPO, ['--workers',
                                                    str(workers)])
            print(json.dumps({'workers': workers,
                              'result': row['sweep'][workers]}),
                  file=sys.stderr)
        return row
    finally:
        servers.stop()


# -- the report -------------------------------------------------------------

def _requests(counts):
    return ' + '.join('%d %s' % (v, k) for k, v in sorted(counts.items()))


def _mib(kb):
    return '%.0f MiB' % (kb / 1024.0)


def report_audit(rows):
    lines = ['N        what        requests  wall (s)  ratio  command (s)  '
             'first line (s)  tracemalloc peak  peak RSS']
    for row in rows:
        floor = _median([r['wall'] for r in row['floor']])
        audit = _median([r['wall'] for r in row['audit']])
        ratios = [a['wall'] / f['wall']
                  for a, f in zip(row['audit'], row['floor'])]
        first = row['audit'][0]
        traced = row['audit_traced']
        lines.append('%-8d floor       %-9s %-9.2f %-6s %-12.2f %-15s %-17s'
                     ' %s' % (row['n'], _requests(row['floor'][0]
                                                  ['requests']),
                              floor, '1', _median([
                                  r['process_wall'] for r in row['floor']]),
                              '', '', _mib(max(r['maxrss_kb']
                                               for r in row['floor']))))
        lines.append('%-8d audit       %-9s %-9.2f %-6.2f %-12.2f %-15s '
                     '%-17s %s' % (
                         row['n'], _requests(first['requests']), audit,
                         audit / floor, _median([r['process_wall']
                                                 for r in row['audit']]),
                         '%.2f / %.2f' % (_median([
                             r['first_stderr'] for r in row['audit']]),
                             _median([r['first_stdout']
                                      for r in row['audit']])),
                         '%.1f MiB' % (traced['peak_bytes'] / 2.0 ** 20),
                         _mib(max(r['maxrss_kb'] for r in row['audit']))))
        lines.append('         (audit / floor per round: %s)' % ', '.join(
            '%.2f' % r for r in ratios))
        if 'baseline_audit' in row:
            base = row['baseline_audit']
            lines.append('%-8d audit before  %-9s %-9.2f %-6.2f  tracemalloc '
                         '%.1f MiB, RSS %s' % (
                             row['n'], _requests(base['requests']),
                             base['wall'], base['wall'] / floor,
                             row['baseline_audit_traced']['peak_bytes'] /
                             2.0 ** 20, _mib(base['maxrss_kb'])))
    return '\n'.join(lines)


def report_backfill(row):
    lines = ['backfill --apply, N=%d, %d fixes, rtt %s ms' % (
        row['n'], row['fixes'], row['rtt_ms'])]
    for which in ('today', 'now'):
        runs = row[which]
        lines.append('%-6s requests %s; wall %s s (median %.1f); write '
                     'phase %s s; peak RSS %s' % (
                         which, _requests(runs[0]['requests']),
                         ', '.join('%.1f' % r['wall'] for r in runs),
                         _median([r['wall'] for r in runs]),
                         ', '.join('%.1f' % r.get('write', 0)
                                   for r in runs),
                         _mib(max(r['maxrss_kb'] for r in runs))))
    if row['today'] and row['now']:
        lines.append('today / now: whole command %.2fx, write phase %.2fx'
                     % (_median([r['wall'] for r in row['today']]) /
                        _median([r['wall'] for r in row['now']]),
                        _median([r['write'] for r in row['today']]) /
                        _median([r['write'] for r in row['now']])))
    for workers, result in sorted(row['sweep'].items()):
        lines.append('--workers %-3d wall %.1f s, write phase %.1f s'
                     % (workers, result['wall'], result['write']))
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--sizes', default='1000,10000,100000')
    parser.add_argument('--rounds', type=int, default=3,
                        help='floor/audit pairs per size')
    parser.add_argument('--part', choices=('audit', 'backfill', 'all'),
                        default='all')
    parser.add_argument('--baseline-ref', default=BASELINE_REF)
    parser.add_argument('--baseline-audit', action='store_true',
                        help="also time the baseline's audit")
    parser.add_argument('--backfill-size', type=int, default=100000,
                        help='catalogue of the backfill runs (5 %% of its '
                             'snapshots to fix: 3,500 at 100,000)')
    parser.add_argument('--backfill-rounds', type=int, default=2)
    parser.add_argument('--workers-sweep', default='',
                        help='e.g. 1,2,4,8,16')
    parser.add_argument('--rtt', type=float, default=0.0,
                        help='ms added to every Glance request (backfill)')
    parser.add_argument('--json', metavar='FILE')
    parser.add_argument('--child', choices=('floor', 'cli'))
    parser.add_argument('--trace', action='store_true')
    parser.add_argument('rest', nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.child:
        rest = args.rest[1:] if args.rest[:1] == ['--'] else args.rest
        if args.child == 'floor':
            result = child_floor(rest)
        else:
            result = child_cli(rest, args.trace)
        print(json.dumps(result))
        return
    args.sizes = [int(s) for s in args.sizes.split(',') if s]
    args.workers_sweep = [int(s) for s in args.workers_sweep.split(',')
                          if s]
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
    print('load average before %s, after %s' % (
        ' '.join('%.1f' % x for x in results['load_before']),
        ' '.join('%.1f' % x for x in results['load_after'])))
    if results['audit']:
        print(report_audit(results['audit']))
    if results['backfill']:
        print(report_backfill(results['backfill']))


if __name__ == '__main__':
    main()
