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

"""Benchmark of ``nova-imgmeta audit`` and ``backfill`` (not a test).

Starts a real Glance API server on loopback (tests/glance/glance_server.py,
the Glance tier's venv), seeds N images straight into its SQLite database
(30 % base images, 70 % snapshots, 5 % of the snapshots without
base_image_ref, their servers split between live and deleted ones in the
Nova stand-in of tests/glance/fake_nova.py), then measures, in the same
run and against the same servers:

* audit: the CLI vs the naive approach (list, then one GET per image);
* backfill (dry run, then --apply): the CLI vs the naive approach (list,
  one GET per image, one Nova GET per snapshot to fix; the writes are the
  same one PATCH per change for both and are counted apart).

Requests are counted by a loopback proxy in front of Glance and by the Nova
stand-in. Each CLI run is a child process reporting its wall time, its
tracemalloc peak and its peak RSS, so memory is the command's own.

    .venv-glance/bin/python benchmarks/bench_lineage_ops.py \
        [--sizes 1000,10000] [--bases-elsewhere] [--nova-max-limit 100]
"""

from __future__ import print_function

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tests', 'glance'))
sys.path.insert(0, REPO)


def child(argv):
    """Run one CLI command in this process; print its measurements."""
    from nova_imgmeta.cli import main as cli_main
    import resource
    import tracemalloc
    tracemalloc.start()
    start = time.time()
    devnull = open(os.devnull, 'w')
    real_stdout = sys.stdout
    sys.stdout = devnull
    try:
        code = cli_main.main(argv)
    finally:
        sys.stdout = real_stdout
    wall = time.time() - start
    _current, peak = tracemalloc.get_traced_memory()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({'code': code, 'wall': wall, 'peak_bytes': peak,
                      'maxrss_kb': rss}))


def run_child(argv):
    env = dict((k, v) for k, v in os.environ.items()
               if not k.startswith('OS_'))
    env['PYTHONPATH'] = REPO
    out = subprocess.check_output(
        [sys.executable, os.path.abspath(__file__), '--child', '--'] + argv,
        env=env, stderr=subprocess.DEVNULL)
    return json.loads(out.decode('utf-8').strip().splitlines()[-1])


def seed(server, nova, owner, n, bases_elsewhere=False):
    """N images; with ``bases_elsewhere`` the base images are public
    images of another project (the usual cloud), so that ``--owner``
    lists only the snapshots and the bases are looked up.
    """
    import glance_server as gs
    images, bases = [], []
    n_base = int(n * 0.3)
    for number in range(n_base):
        image_id = gs.new_id()
        bases.append(image_id)
        base = {'id': image_id, 'name': 'base-%d' % number, 'owner': owner}
        if bases_elsewhere:
            base.update(owner=owner + '-admin', visibility='public')
        images.append(base)
    missing = []
    for number in range(n - n_base):
        uuid = gs.new_id()
        base = bases[number % n_base]
        props = {'image_type': 'snapshot', 'instance_uuid': uuid}
        if number % 20 == 0:
            missing.append(uuid)
        else:
            props['base_image_ref'] = base
        nova.state.add(uuid, base, project=owner, deleted=number % 40 == 0,
                       updated='2099-01-01T00:00:00Z')
        images.append({'id': gs.new_id(), 'name': 'snap-%d' % number,
                       'owner': owner, 'properties': props})
    start = time.time()
    gs.bulk_insert(server.db_path, images)
    return time.time() - start, missing


class Naive(object):
    """The naive tool: list, then a GET per image and a Nova GET per
    snapshot to fix, with one keystoneauth session (keep-alive).

    Its request counts are exact; with ``sample`` < N only that many
    per-image GETs are made and their wall time is scaled to N (said so in
    the report).
    """

    def __init__(self, glance_url, nova_url, headers, sample):
        from keystoneauth1 import session
        self.session = session.Session(additional_headers=headers)
        self.glance_url = glance_url
        self.nova_url = nova_url
        self.sample = sample
        self.requests = 0

    def get(self, url):
        self.requests += 1
        return self.session.get(url, raise_exc=False).json()

    def audit(self, owner):
        start = time.time()
        url = self.glance_url + '/v2/images?limit=1000&owner=' + owner
        ids = []
        while url:
            body = self.get(url)
            ids.extend(image['id'] for image in body['images'])
            url = body.get('next') and self.glance_url + body['next']
        list_wall = time.time() - start
        pages = self.requests
        sample = ids[:self.sample]
        start = time.time()
        for image_id in sample:
            self.get(self.glance_url + '/v2/images/' + image_id)
        per_get = (time.time() - start) / max(1, len(sample))
        return {'glance': pages + len(ids), 'sampled_gets': len(sample),
                'wall': list_wall + per_get * len(ids),
                'extrapolated': len(sample) < len(ids)}

    def nova_lookups(self, uuids):
        start = time.time()
        for uuid in uuids:
            self.get(self.nova_url + '/servers/' + uuid)
        return time.time() - start


def measure(args):
    from fake_nova import start_fake_nova
    import glance_server as gs
    from loopback_http import start_proxy
    workdir = tempfile.mkdtemp(prefix='bench-lineage-')
    server = gs.GlanceServer(workdir).start()
    nova = start_fake_nova()
    nova.state.max_limit = args.nova_max_limit
    proxy = start_proxy(server.url)
    headers = gs.headers()
    results = []
    try:
        for n in args.sizes:
            owner = 'bench-%d' % n
            seconds, missing = seed(server, nova, owner, n,
                                    args.bases_elsewhere)
            auth = (['--os-auth-type', 'none',
                     '--os-image-endpoint-override', proxy.url,
                     '--os-compute-endpoint-override', nova.compute_url] +
                    gs.cli_headers())
            row = {'n': n, 'seed_seconds': round(seconds, 2),
                   'snapshots_missing': len(missing)}

            def counted(func):
                proxy.counter.reset()
                nova.state.counter.reset()
                value = func()
                return (value, dict(proxy.counter.by_method),
                        nova.state.counter.total)

            audit, glance_req, _ = counted(lambda: run_child(
                ['audit', '--owner', owner, '--quiet', '--format', 'json'] +
                auth))
            row['audit'] = dict(audit, glance=sum(glance_req.values()))
            dry, glance_req, nova_req = counted(lambda: run_child(
                ['backfill', '--owner', owner, '--quiet', '--format',
                 'json'] + auth))
            row['backfill_dry'] = dict(dry, glance=sum(glance_req.values()),
                                       nova=nova_req)
            naive = Naive(proxy.url, nova.compute_url, headers,
                          args.naive_sample)
            row['naive_audit'] = naive.audit(owner)
            nova.state.counter.reset()
            wall = naive.nova_lookups(missing)
            row['naive_backfill'] = {
                'glance': row['naive_audit']['glance'],
                'nova': nova.state.counter.total,
                'wall': row['naive_audit']['wall'] + wall}
            if not args.no_apply:
                journal = os.path.join(workdir, 'journal-%d.jsonl' % n)
                applied, glance_req, nova_req = counted(lambda: run_child(
                    ['backfill', '--owner', owner, '--quiet', '--apply',
                     '--journal', journal] + auth))
                row['backfill_apply'] = dict(applied, glance=glance_req,
                                             nova=nova_req)
            row['page_bound'] = int(math.ceil(n / 1000.0)) + 1
            results.append(row)
            print(json.dumps(row, sort_keys=True), file=sys.stderr)
    finally:
        proxy.shutdown()
        nova.shutdown()
        server.stop()
    return results


def report(results):
    lines = ['| N | command | Glance requests | Nova requests | wall (s) '
             '| tracemalloc peak | peak RSS |',
             '| --- | --- | --- | --- | --- | --- | --- |']
    for row in results:
        n = row['n']
        a, d = row['audit'], row['backfill_dry']
        na, nb = row['naive_audit'], row['naive_backfill']
        lines.append('| %d | audit | %d | 0 | %.2f | %.1f MiB | %.0f MiB |'
                     % (n, a['glance'], a['wall'], a['peak_bytes'] / 2.0**20,
                        a['maxrss_kb'] / 1024.0))
        lines.append('| %d | naive audit (list + GET each) | %d | 0 | %.2f%s '
                     '| | |' % (n, na['glance'], na['wall'],
                                ' (a)' if na['extrapolated'] else ''))
        lines.append('| %d | backfill (dry run, %d to fix) | %d | %d | %.2f '
                     '| %.1f MiB | %.0f MiB |' % (
                         n, row['snapshots_missing'], d['glance'], d['nova'],
                         d['wall'], d['peak_bytes'] / 2.0**20,
                         d['maxrss_kb'] / 1024.0))
        lines.append('| %d | naive backfill look-ups | %d | %d | %.2f%s | | |'
                     % (n, nb['glance'], nb['nova'], nb['wall'],
                        ' (a)' if na['extrapolated'] else ''))
        if 'backfill_apply' in row:
            p = row['backfill_apply']
            lines.append('| %d | backfill --apply | %s | %d | %.2f | %.1f MiB '
                         '| %.0f MiB |' % (
                             n, ' + '.join('%d %s' % (v, k) for k, v in
                                           sorted(p['glance'].items())),
                             p['nova'], p['wall'], p['peak_bytes'] / 2.0**20,
                             p['maxrss_kb'] / 1024.0))
        ratio_a = na['glance'] / float(a['glance'])
        ratio_b = (nb['glance'] + nb['nova']) / float(d['glance'] + d['nova'])
        lines.append('| %d | ratio naive / CLI | audit %.0fx | backfill '
                     'look-ups %.0fx | | | |' % (n, ratio_a, ratio_b))
    lines.append('')
    lines.append('(a) per-image GET time measured on the first %d images '
                 'and scaled to N; the request counts are exact.'
                 % results[0]['naive_audit']['sampled_gets'])
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--sizes', default='1000,10000')
    parser.add_argument('--no-apply', action='store_true')
    parser.add_argument('--naive-sample', type=int, default=1000,
                        help='per-image GETs the naive run really makes '
                             '(its wall time is scaled to N)')
    parser.add_argument('--bases-elsewhere', action='store_true',
                        help='base images public in another project: '
                             '--owner lists the snapshots only and the '
                             'bases are looked up')
    parser.add_argument('--nova-max-limit', type=int, default=1000,
                        help="the Nova stand-in's [api] max_limit")
    parser.add_argument('--json', metavar='FILE')
    parser.add_argument('--child', action='store_true')
    parser.add_argument('rest', nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.child:
        rest = args.rest[1:] if args.rest[:1] == ['--'] else args.rest
        return child(rest)
    args.sizes = [int(s) for s in args.sizes.split(',')]
    results = measure(args)
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump(results, handle, indent=1, sort_keys=True)
    print(report(results))


if __name__ == '__main__':
    main()
