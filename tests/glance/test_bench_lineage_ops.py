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

"""benchmarks/bench_lineage_ops.py's own parts, without Glance: its
options and how it counts CPU time.
"""

import importlib.util
import os
import subprocess
import sys
import time

import pytest

import glance_database

REPO = glance_database.REPO


def _bench():
    path = os.path.join(REPO, 'benchmarks', 'bench_lineage_ops.py')
    spec = importlib.util.spec_from_file_location('bench_lineage_ops', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_glance_db_option():
    parser = _bench().build_parser()
    args = parser.parse_args(['--part', 'backfill'])
    assert (args.glance_db, args.glance_workers) == ('sqlite', 1)
    args = parser.parse_args(['--glance-db', 'mariadb',
                              '--glance-workers', '4'])
    assert (args.glance_db, args.glance_workers) == ('mariadb', 4)
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(['--glance-db', 'postgresql'])
    assert exc.value.code == 2


def test_bench_counts_cpu_of_a_process_and_its_children():
    bench = _bench()
    began = time.time()
    child = subprocess.Popen([sys.executable, '-c',
                              'while True: pass'])
    try:
        assert child.pid in bench.child_pids(os.getpid())
        time.sleep(1.0)
        used = bench.process_cpu_seconds([child.pid])
        assert 0 < used <= time.time() - began + 0.1
    finally:
        child.kill()
        child.wait()
    assert bench.process_cpu_seconds([child.pid]) == 0   # gone: nothing
