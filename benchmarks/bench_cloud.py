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

"""API latency of createImage and rebuild in the loopback cloud, with the
plugin and without, interleaved.

    python benchmarks/bench_cloud.py SERIES [--rounds 2] [--snapshots 100]
        [--rebuilds 50] [--servers 10] [--json FILE] [--keep-up]
    tox -e cloud-bench -- queens

Brings the patched cloud up (``tools/cloud SERIES up``) unless one is up,
boots the servers as the member user from an image carrying the
never-inherit properties (so that the policies have work), then runs
rounds alternately *with* nova-imgmeta (its wheel pip-installed into Nova's
environment, nova-api restarted) and *without* it (``pip uninstall``,
nova-api restarted): with, without, with, without... Each round times the
HTTP round trip of ``--snapshots`` createImage calls and ``--rebuilds``
rebuild calls (POST to 202, keystoneauth, a new connection per call), one
server after another; before calling a server it waits, untimed, until
the server's previous action is over. Prints p50 and p99 per round and
per kind over all rounds, the ratio of the p50s, and the spread between
two rounds of the same kind. Takes the cloud down at the end unless it
was already up or --keep-up.
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tests', 'cloud'))
sys.path.insert(0, os.path.join(REPO, 'tools', 'cloud-tier'))

import cloudctl  # noqa: E402
import cloudlib  # noqa: E402


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(
        fraction * (len(ordered) - 1)))))
    return ordered[index]


def timed_round(cloud, servers, snapshots, rebuilds, image_a, tag):
    compute = cloud.compute()
    times = {'createImage': [], 'rebuild': []}
    plan = [('createImage', n) for n in range(snapshots)] + \
        [('rebuild', n) for n in range(rebuilds)]
    for kind, number in plan:
        server = servers[number % len(servers)]
        cloud.wait_server(server)
        if kind == 'createImage':
            body = {'createImage': {'name': 'bench-%s-%d' % (tag, number)}}
        else:
            body = {'rebuild': {'imageRef': image_a}}
        started = time.perf_counter()
        response = compute.post('/servers/%s/action' % server, json=body,
                                headers={'Connection': 'close'},
                                raise_exc=False)
        elapsed = time.perf_counter() - started
        if response.status_code != 202:
            raise SystemExit('%s on %s: HTTP %d %s' % (
                kind, server, response.status_code, response.text[:300]))
        times[kind].append(elapsed * 1000.0)
    for server in servers:
        cloud.wait_server(server)
    return times


def set_plugin(cloud, installed, wheel):
    if installed:
        cloud.pip('install', wheel)
    else:
        cloud.pip('uninstall', '-y', 'nova-imgmeta')
    cloud.restart_api()


def summarize(values):
    return {'n': len(values), 'p50': round(percentile(values, 0.5), 1),
            'p99': round(percentile(values, 0.99), 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('series')
    parser.add_argument('--rounds', type=int, default=2,
                        help='rounds of each kind (default 2: with, '
                             'without, with, without)')
    parser.add_argument('--snapshots', type=int, default=100,
                        help='createImage calls per round (default 100)')
    parser.add_argument('--rebuilds', type=int, default=50,
                        help='rebuild calls per round (default 50)')
    parser.add_argument('--servers', type=int, default=10)
    parser.add_argument('--json', metavar='FILE')
    parser.add_argument('--keep-up', action='store_true')
    args = parser.parse_args(argv)

    control = cloudctl.Cloud(args.series)
    was_up = bool(control.info().get('up')) and bool(control.running())
    if not was_up:
        control.up()
    try:
        cloud = cloudlib.Cloud(control.series, control.layout.state)
        if cloud.mode != 'patched':
            raise SystemExit('the cloud in %s is pristine: the benchmark '
                             'needs the patched one' % cloud.state)
        wheel = cloud.imgmeta_wheel()
        image_a = cloud.create_image('bench-A', cloud.image_a_properties())
        servers = [cloud.boot('bench-%d' % n, image_a)['id']
                   for n in range(args.servers)]
        rounds = []
        order = []
        for _ in range(args.rounds):
            order += ['with', 'without']
        for number, kind in enumerate(order):
            set_plugin(cloud, kind == 'with', wheel)
            # one untimed call per worker's first use (loading the chains)
            timed_round(cloud, servers, 2, 0, image_a, 'warm%d' % number)
            started = time.time()
            times = timed_round(cloud, servers, args.snapshots,
                                args.rebuilds, image_a, 'r%d' % number)
            rounds.append({'round': number + 1, 'plugin': kind,
                           'seconds': round(time.time() - started),
                           'times_ms': times})
            print('round %d (%s plugin): %s' % (
                number + 1, kind, ', '.join(
                    '%s p50 %.1f ms p99 %.1f ms' % (
                        name, percentile(values, 0.5),
                        percentile(values, 0.99))
                    for name, values in sorted(times.items()))))
            sys.stdout.flush()
        set_plugin(cloud, True, wheel)
        for server in servers:
            cloud.delete_server(server)
    finally:
        if not was_up and not args.keep_up:
            control.down(quiet=True)

    report = {'series': args.series, 'order': order,
              'python': control.comps.python, 'nova': control.comps.line.nova,
              'rounds': [dict((k, v) for k, v in r.items() if k != 'times_ms')
                         for r in rounds], 'kinds': {}}
    print('\n%-12s %-8s %5s %9s %9s' % ('call', 'plugin', 'n', 'p50 ms',
                                        'p99 ms'))
    for name in ('createImage', 'rebuild'):
        entry = {}
        for kind in ('with', 'without'):
            values = [v for r in rounds if r['plugin'] == kind
                      for v in r['times_ms'][name]]
            per_round = [percentile(r['times_ms'][name], 0.5)
                         for r in rounds if r['plugin'] == kind]
            entry[kind] = dict(summarize(values), round_p50s=[
                round(v, 1) for v in per_round])
            print('%-12s %-8s %5d %9.1f %9.1f   (round p50s: %s)' % (
                name, kind, entry[kind]['n'], entry[kind]['p50'],
                entry[kind]['p99'], ', '.join('%.1f' % v
                                              for v in per_round)))
        entry['p50_ratio'] = round(entry['with']['p50'] /
                                   entry['without']['p50'], 3)
        entry['p50_difference_ms'] = round(
            entry['with']['p50'] - entry['without']['p50'], 1)
        spreads = [max(entry[k]['round_p50s']) - min(entry[k]['round_p50s'])
                   for k in ('with', 'without')]
        entry['same_kind_spread_ms'] = round(max(spreads), 1)
        report['kinds'][name] = entry
        print('%-12s p50 with/without %.3f, difference %.1f ms, spread '
              'between rounds of the same kind up to %.1f ms' % (
                  name, entry['p50_ratio'], entry['p50_difference_ms'],
                  entry['same_kind_spread_ms']))
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump(report, handle, indent=2, sort_keys=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
