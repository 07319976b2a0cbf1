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

"""What the hooks cost inside real Nova: patched tree against pristine tree.

Run it with the Python of a Nova environment (the real-Nova tier builds one
per series), pointing at two trees unpacked from the same Nova sdist: one
pristine, one with the patch series applied. Everything runs in ONE process,
the variants alternating round by round:

* ``pristine``: the pristine tree's ``nova/compute/api.py`` (from Stein
  on also its ``nova/compute/utils.py``, where the snapshot metadata is
  built), loaded under another module name beside the patched package (the
  two trees differ only in the files the series touches, and of those the
  timed code uses only these);
* ``patched``: the patched tree's ``nova.compute.api`` with no hook
  installed (``image_metadata_hooks`` given empty managers);
* ``patched+plugin``: the same with the hooks loaded from the installed entry
  points, i.e. nova-imgmeta with its default policies (taken from this
  checkout: it is put first on ``sys.path``).

Two functions are timed, both taken from the trees themselves:

* snapshot: ``API._initialize_instance_snapshot_metadata`` (Stein on:
  ``nova.compute.utils.initialize_instance_snapshot_metadata``) on an
  instance with ``--keys`` system-metadata keys and nothing for the
  policies to change;
* rebuild: the ``_reset_image_metadata`` closure of ``API.rebuild``, built
  from each tree's own code object with the closure's variables bound
  (instance, image, flavor, image_id, context); ``instance.save`` does
  nothing.

    $VENV/bin/python benchmarks/bench_nova_hooks.py \\
        --pristine TREE --patched TREE [--calls 2000] [--rounds 15]

Prints microseconds per call, the fastest round and the median round, and
their ratios to the pristine function. doc/source/benchmarks.rst has the
figures and how they were taken.
"""

from __future__ import print_function

import argparse
import gc
import os
import platform
import sys
import timeit
import types

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRISTINE_MODULE = 'nova_imgmeta_bench_pristine_api'


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--pristine', required=True,
                        help='Nova tree as released (holds nova/)')
    parser.add_argument('--patched', required=True,
                        help='the same release with the series applied')
    parser.add_argument('--calls', type=int, default=2000,
                        help='calls per timing (default 2000)')
    parser.add_argument('--rounds', type=int, default=15,
                        help='alternating rounds (default 15)')
    parser.add_argument('--keys', type=int, default=53,
                        help='system-metadata keys of the instance')
    args = parser.parse_args(argv)
    for tree in (args.pristine, args.patched):
        if not os.path.isfile(os.path.join(tree, 'nova', 'compute',
                                           'api.py')):
            parser.error('%s is not a Nova tree' % tree)
    if args.calls < 1 or args.rounds < 1 or args.keys < 10:
        parser.error('--calls and --rounds must be >= 1, --keys >= 10')
    return args


def load_source(name, path):
    if sys.version_info[0] == 2:
        import imp
        return imp.load_source(name, path)
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def find_code(code, path):
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and const.co_name == path[0]:
            if len(path) == 1:
                return const
            found = find_code(const, path[1:])
            if found is not None:
                return found
    return None


def make_cell(value):
    return (lambda: value).__closure__[0]


def reset_image_metadata(module, bindings):
    """The real ``_reset_image_metadata`` closure of ``module``'s rebuild."""
    path = module.__file__
    if path.endswith(('.pyc', '.pyo')):
        path = path[:-1]
    with open(path) as handle:
        source = handle.read()
    code = find_code(compile(source, path, 'exec'),
                     ['API', 'rebuild', '_reset_image_metadata'])
    if code is None:
        raise SystemExit('no API.rebuild._reset_image_metadata in %s' % path)
    closure = tuple(make_cell(bindings[name]) for name in code.co_freevars)
    return types.FunctionType(code, vars(module), code.co_name, None,
                              closure)


def image_properties(count):
    """Image properties of a real-looking image, none a policy changes."""
    props = {
        'architecture': 'x86_64', 'hypervisor_type': 'qemu',
        'hw_disk_bus': 'virtio', 'hw_vif_model': 'virtio',
        'hw_qemu_guest_agent': 'yes', 'hw_rng_model': 'virtio',
        'hw_scsi_model': 'virtio-scsi', 'hw_video_model': 'qxl',
        'hw_machine_type': 'pc-i440fx-2.11', 'hw_watchdog_action': 'reset',
        'os_distro': 'ubuntu', 'os_version': '18.04', 'os_type': 'linux',
        'os_admin_user': 'ubuntu', 'os_require_quiesce': 'yes',
        'img_config_drive': 'optional', 'img_hv_type': 'kvm',
        'owner_specified.openstack.md5': 'd41d8cd98f00b204e9800998ecf8427e',
        'owner_specified.openstack.object': 'images/bionic',
        'description': 'Ubuntu 18.04 LTS (Bionic Beaver) cloud image',
    }
    n = 0
    while len(props) < count:
        props['custom_property_%02d' % n] = 'value %d' % n
        n += 1
    return props


def build_instance(objects, keys):
    image_keys = keys - 10
    sysmeta = dict(('image_%s' % key, value) for key, value in
                   image_properties(image_keys - 5).items())
    sysmeta.update({
        'image_base_image_ref': 'a1a1a1a1-0000-4000-8000-00000000000a',
        'image_min_ram': '0', 'image_min_disk': '1',
        'image_disk_format': 'qcow2', 'image_container_format': 'bare',
        'instance_type_id': '1', 'instance_type_name': 'm1.small',
        'instance_type_memory_mb': '2048', 'instance_type_vcpus': '1',
        'instance_type_root_gb': '20', 'instance_type_ephemeral_gb': '0',
        'instance_type_flavorid': '2', 'instance_type_swap': '0',
        'owner_user_name': 'demo', 'owner_project_name': 'demo',
    })
    assert len(sysmeta) == keys, (len(sysmeta), keys)
    instance = objects.Instance(
        uuid='6f4e5a6b-1111-4c4c-9a9a-0123456789ab',
        image_ref='a1a1a1a1-0000-4000-8000-00000000000a',
        project_id='demo', user_id='demo', display_name='bench',
        system_metadata=sysmeta)
    instance.obj_reset_changes()
    instance.save = lambda *args, **kwargs: None
    return instance


def median(values):
    values = sorted(values)
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2.0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    sys.path[:0] = [REPO, os.path.abspath(args.patched)]

    from nova.compute import api as patched_api
    from nova.compute import image_metadata_hooks as hooks
    from nova import context as nova_context
    from nova import objects
    import nova_imgmeta
    from stevedore import extension

    for module, tree in ((patched_api, args.patched),
                         (nova_imgmeta, REPO)):
        where = os.path.realpath(module.__file__)
        if not where.startswith(os.path.realpath(tree) + os.sep):
            raise SystemExit('%s comes from %s, not from %s'
                             % (module.__name__, where, tree))
    pristine_api = load_source(
        PRISTINE_MODULE,
        os.path.join(args.pristine, 'nova', 'compute', 'api.py'))
    if hasattr(pristine_api, 'image_metadata_hooks'):
        raise SystemExit('%s is patched' % args.pristine)
    objects.register_all()

    empty = dict(
        (namespace, extension.ExtensionManager.make_test_instance(
            [], namespace=namespace))
        for namespace in (hooks.REBUILD_NAMESPACE, hooks.SNAPSHOT_NAMESPACE))

    def no_hooks():
        hooks.reset(empty)

    def installed_hooks():
        hooks.reset()

    installed_hooks()
    for namespace in (hooks.REBUILD_NAMESPACE, hooks.SNAPSHOT_NAMESPACE):
        names = hooks._get_manager(namespace).names()
        if names != ['nova_imgmeta']:
            raise SystemExit('installed hooks in %s: %s (expected '
                             'nova_imgmeta only: pip install this checkout '
                             'into the environment)' % (namespace, names))

    context = nova_context.RequestContext('demo', 'demo', is_admin=False)
    instance = build_instance(objects, args.keys)
    image_id = 'b2b2b2b2-0000-4000-8000-00000000000b'
    image = {'id': image_id, 'min_ram': 0, 'min_disk': 1,
             'disk_format': 'qcow2', 'container_format': 'bare',
             'properties': image_properties(args.keys - 15)}
    flavor = {'root_gb': 20, 'memory_mb': 2048}
    bindings = {'context': context, 'flavor': flavor, 'image': image,
                'image_id': image_id, 'instance': instance}
    extra = {'instance_uuid': instance.uuid, 'user_id': 'demo',
             'image_type': 'snapshot'}

    def snapshot_call(api_module, utils_module):
        """The tree's snapshot metadata builder, called as Nova calls it."""
        method = getattr(api_module.API,
                         '_initialize_instance_snapshot_metadata', None)
        if method is None:   # Stein on: a function of nova.compute.utils
            function = utils_module().initialize_instance_snapshot_metadata
            return lambda: function(context, instance, 'snap', extra)
        api = api_module.API.__new__(api_module.API)
        code = getattr(method, '__func__', method).__code__
        if code.co_varnames[1] == 'context':   # Rocky 18.2.2 on
            return lambda: method(api, context, instance, 'snap', extra)
        return lambda: method(api, instance, 'snap', extra)

    def pristine_utils():
        module = load_source(
            PRISTINE_MODULE + '_utils',
            os.path.join(args.pristine, 'nova', 'compute', 'utils.py'))
        if hasattr(module, 'image_metadata_hooks'):
            raise SystemExit('%s is patched' % args.pristine)
        return module

    def patched_utils():
        from nova.compute import utils
        return utils

    timed = {
        'snapshot': {'pristine': (None, snapshot_call(pristine_api,
                                                      pristine_utils)),
                     'patched': (no_hooks, snapshot_call(patched_api,
                                                         patched_utils)),
                     'patched+plugin': (installed_hooks,
                                        snapshot_call(patched_api,
                                                      patched_utils))},
        'rebuild': {'pristine': (None, reset_image_metadata(pristine_api,
                                                            bindings)),
                    'patched': (no_hooks, reset_image_metadata(patched_api,
                                                               bindings)),
                    'patched+plugin': (installed_hooks, reset_image_metadata(
                        patched_api, bindings))},
    }
    variants = ['pristine', 'patched', 'patched+plugin']

    # Same results on both sides before timing anything.
    installed_hooks()
    for kind in ('snapshot', 'rebuild'):
        for variant in variants:
            setup, call = timed[kind][variant]
            if setup:
                setup()
            call()
            call()   # warm: the first call loads the hooks and policies
    base = instance.system_metadata.get('image_base_image_ref')
    if base != image_id:
        raise SystemExit('rebuild did not set image_base_image_ref: %r'
                         % base)

    print('Nova %s (%s), Python %s, %d system-metadata keys, %d calls x %d '
          'rounds' % (nova_version(args.patched),
                      os.path.basename(os.path.abspath(args.patched)),
                      platform.python_version(), args.keys, args.calls,
                      args.rounds))
    results = dict((kind, dict((v, []) for v in variants))
                   for kind in timed)
    gc.collect()
    for round_number in range(args.rounds):
        order = variants[round_number % 3:] + variants[:round_number % 3]
        for kind in ('snapshot', 'rebuild'):
            for variant in order:
                setup, call = timed[kind][variant]
                if setup:
                    setup()
                    call()
                seconds = timeit.Timer(call).timeit(args.calls)
                results[kind][variant].append(seconds / args.calls * 1e6)
    # The fastest round is the best estimate of the cost itself (other
    # processes only ever add time); the median shows the spread.
    print('%-9s %-15s %9s %7s %11s %7s' % (
        'function', 'variant', 'best us', 'ratio', 'median us', 'ratio'))
    for kind in ('snapshot', 'rebuild'):
        best_pristine = min(results[kind]['pristine'])
        median_pristine = median(results[kind]['pristine'])
        for variant in variants:
            best = min(results[kind][variant])
            middle = median(results[kind][variant])
            print('%-9s %-15s %9.2f %7.2f %11.2f %7.2f' % (
                kind, variant, best, best / best_pristine, middle,
                middle / median_pristine))
    return 0


def nova_version(tree):
    for name in ('PKG-INFO',):
        path = os.path.join(tree, name)
        if os.path.isfile(path):
            with open(path) as handle:
                for line in handle:
                    if line.startswith('Version:'):
                        return line.split(':', 1)[1].strip()
    return '?'


if __name__ == '__main__':
    sys.exit(main())
