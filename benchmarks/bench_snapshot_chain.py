#!/usr/bin/env python
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

"""Cost of nova-imgmeta's hooks, alone and next to Nova's own work.

A plugin-only figure: Nova's code is reimplemented line for line
(nova/utils.py and nova/compute/api.py, 17.0.13: tests/unit/fakes.py, the
unit tests' copy, and the snapshot and rebuild steps below), without
Nova's hook runner. Measures, in one run, for an instance with 46 image
properties (53 system metadata keys):

* snapshot, baseline: what Nova Queens does for every snapshot before the
  hook, i.e. ``API._initialize_instance_snapshot_metadata``:
  ``nova.utils.get_image_from_system_metadata`` on the instance's system
  metadata, then the ``[DEFAULT] non_inheritable_image_properties`` loop
  and the update with the request's properties;
* snapshot hook: ``nova_imgmeta.dispatch.snapshot_hook`` with the default
  chain (heal, never-inherit, patterns, truncated) loaded from the
  installed entry points, called with keyword arguments as the patched
  Nova calls it; timed on its own when it has nothing to change, else as
  (baseline + hook) - baseline;
* rebuild, baseline: ``nova.utils.get_system_metadata_from_image`` and
  patch 0001's ``setdefault`` of ``image_base_image_ref``, as
  ``_reset_image_metadata`` does; rebuild hook: ``rebuild_hook`` with the
  default chain (base-image-ref), nothing to change.

Prints microseconds per call, the ratios and how many times the policies
were loaded (once per process). Run it with the package installed, e.g.
``tox -e py27-bench,py3-bench``.
"""

from __future__ import print_function

import argparse
import logging
import os
import platform
import sys
import timeit

from oslo_config import cfg
from oslo_log import log as oslo_logging

from nova_imgmeta import dispatch
from nova_imgmeta import loader

# Nova's own code, as the unit tests stub it (tests/ is no package on
# Python 2.7: the module is imported from its directory).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'tests', 'unit'))
import fakes  # noqa: E402  (tests/unit/fakes.py)

SM_IMAGE_PROP_PREFIX = fakes.SM_IMAGE_PROP_PREFIX
SM_INHERITABLE_KEYS = fakes.SM_INHERITABLE_KEYS


def rebuild_new_sys_metadata(image_id, image, flavor):
    """_reset_image_metadata's new_sys_metadata, with patch 0001."""
    new_sys_metadata = fakes.system_metadata_from_image(image, flavor)
    if image_id:
        new_sys_metadata.setdefault('image_base_image_ref', image_id)
    return new_sys_metadata


def initialize_instance_snapshot_metadata(instance, name,
                                          extra_properties=None):
    """API._initialize_instance_snapshot_metadata, Queens 17.0.13."""
    image_meta = fakes.image_from_system_metadata(instance.system_metadata)
    image_meta.update({'name': name,
                       'is_public': False})

    # Delete properties that are non-inheritable
    properties = image_meta['properties']
    for key in fakes.DEFAULT_NON_INHERITABLE:
        properties.pop(key, None)

    # The properties in extra_properties have precedence
    properties.update(extra_properties or {})

    return image_meta


class Instance(object):
    def __init__(self, system_metadata):
        self.uuid = '6f4e1a3c-5b2d-4c8e-9a7f-0d1e2f3a4b5c'
        self.image_ref = 'a0a0a0a0-0000-4000-8000-00000000000a'
        self.project_id = 'b3f1c0de4a5e4f6a8b9c0d1e2f3a4b5c'
        self.system_metadata = system_metadata


def make_image(instance):
    """The rebuild image: the instance's own image properties back."""
    properties = dict(
        (key[len(SM_IMAGE_PROP_PREFIX):], value)
        for key, value in instance.system_metadata.items()
        if key.startswith(SM_IMAGE_PROP_PREFIX))
    properties.pop('base_image_ref')
    image = {'id': instance.image_ref, 'min_ram': 0, 'min_disk': 20,
             'disk_format': 'qcow2', 'container_format': 'bare'}
    for key in SM_INHERITABLE_KEYS:
        properties.pop(key, None)
    image['properties'] = properties
    return image


def make_instance(count, removals, mix):
    """An instance whose system metadata holds ``count`` image properties.

    mix ``typical``: four in five values short (4 to 40 characters), the
    others 64 to 200 characters, as in images with a description or a
    license text; mix ``long``: lengths spread evenly from 8 to 198
    characters (the truncated policy's worst case: most values are long
    enough to be measured). One value in ten holds non-ASCII characters.
    """
    # Text keys and values, as Instance.system_metadata holds them when
    # loaded from the database (unicode on Python 2).
    sysmeta = {
        u'image_base_image_ref': u'a0a0a0a0-0000-4000-8000-00000000000a',
        u'image_min_ram': u'0', u'image_min_disk': u'20',
        u'image_disk_format': u'qcow2', u'image_container_format': u'bare',
        u'owner_user_name': u'alice', u'owner_project_name': u'demo',
    }
    for i in range(count):
        if mix == 'long':
            size = (i * 37) % 190
        elif i % 5 == 4:
            size = 56 + (i * 29) % 137
        else:
            size = (i * 7) % 32
        value = (u'v%d-' % i) + (u'x' * size)
        if i % 10 == 0:
            value += u'-\u00e9\u20ac'
        sysmeta[u'image_prop_%02d' % i] = value
    if removals:
        sysmeta[u'image_cinder_encryption_key_id'] = u'key-1'
        sysmeta[u'image_os_glance_importing_to_stores'] = u'file'
    return Instance(sysmeta)


def measure(stmts, number, repeat):
    """Fastest time per call of each of ``stmts``, in microseconds.

    The statements are timed in turn, ``repeat`` rounds, so that a busy
    machine slows them alike.
    """
    timers = [timeit.Timer(stmt) for stmt in stmts]
    best = [None] * len(stmts)
    for _round in range(repeat):
        for i, timer in enumerate(timers):
            took = timer.timeit(number=number) / number * 1e6
            if best[i] is None or took < best[i]:
                best[i] = took
    return best


def snapshot_case(count, removals, mix, number, repeat):
    """``(baseline, baseline + hook, hook)`` in microseconds per call."""
    instance = make_instance(count, removals, mix)
    extra = {'instance_uuid': instance.uuid, 'user_id': 'u-1',
             'image_type': 'snapshot'}
    fixed = initialize_instance_snapshot_metadata(instance, 'snap', extra)

    def baseline():
        initialize_instance_snapshot_metadata(instance, 'snap', extra)

    def with_hook():
        image_meta = initialize_instance_snapshot_metadata(instance, 'snap',
                                                           extra)
        dispatch.snapshot_hook(context=None, instance=instance,
                               image_meta=image_meta,
                               extra_properties=extra)

    def hook_alone():   # nothing to change: the same dict every time
        dispatch.snapshot_hook(context=None, instance=instance,
                               image_meta=fixed, extra_properties=extra)

    with_hook()   # first call: loads the policies
    if removals:
        base, both = measure([baseline, with_hook], number, repeat)
        return base, both, both - base
    hook_alone()
    assert fixed == initialize_instance_snapshot_metadata(instance, 'snap',
                                                          extra)
    return measure([baseline, with_hook, hook_alone], number, repeat)


def rebuild_case(count, number, repeat):
    """``(baseline, baseline + hook, hook)`` for the rebuild hook."""
    instance = make_instance(count, False, 'typical')
    image = make_image(instance)
    flavor = {'root_gb': 20}
    fixed = rebuild_new_sys_metadata(instance.image_ref, image, flavor)

    def baseline():
        rebuild_new_sys_metadata(instance.image_ref, image, flavor)

    def with_hook():
        new_sys_metadata = rebuild_new_sys_metadata(instance.image_ref,
                                                    image, flavor)
        dispatch.rebuild_hook(context=None, instance=instance,
                              image_id=instance.image_ref, image=image,
                              new_sys_metadata=new_sys_metadata)

    def hook_alone():
        dispatch.rebuild_hook(context=None, instance=instance,
                              image_id=instance.image_ref, image=image,
                              new_sys_metadata=fixed)

    with_hook()
    hook_alone()
    assert fixed == rebuild_new_sys_metadata(instance.image_ref, image,
                                             flavor)
    return measure([baseline, with_hook, hook_alone], number, repeat)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--properties', type=int, default=46,
                        help='image properties of the instance (default 46: '
                             '53 system metadata keys)')
    parser.add_argument('--number', type=int, default=300,
                        help='calls per timing (default 300)')
    parser.add_argument('--repeat', type=int, default=200,
                        help='timings, the fastest is kept (default 200)')
    parser.add_argument('--target', type=float, default=7.0,
                        help='bound for the snapshot hook with nothing to '
                             'change, in microseconds (default 7.0, set for '
                             'Python 2.7)')
    args = parser.parse_args(argv)

    # As on a nova-api node: INFO enabled, into a file (here /dev/null).
    handler = logging.StreamHandler(open(os.devnull, 'w'))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    cfg.CONF([], project='nova', default_config_files=[])

    built = []
    build_chain = loader.build_chain

    def counting_build_chain(kind, *a, **kw):
        built.append(kind)
        return build_chain(kind, *a, **kw)

    loader.build_chain = counting_build_chain

    print('Python %s (%s), %d image properties, fastest of %d x %d calls'
          % (platform.python_version(), sys.executable, args.properties,
             args.repeat, args.number))
    print('%-36s %9s %12s %7s %6s' % (
        'case (us per call)', 'baseline', 'with hook', 'hook', 'ratio'))
    hooks = []
    for label, mix, removals in (
            ('snapshot, typical, nothing to do', 'typical', False),
            ('snapshot, long values, nothing', 'long', False),
            ('snapshot, 2 removed + 2 INFO', 'typical', True)):
        base, both, hook = snapshot_case(args.properties, removals, mix,
                                         args.number, args.repeat)
        hooks.append(hook)
        print('%-36s %9.1f %12.1f %7.1f %6.2f' % (label, base, both, hook,
                                                  both / base))
    base, both, hook = rebuild_case(args.properties, args.number,
                                    args.repeat)
    print('%-36s %9.1f %12.1f %7.1f %6.2f' % (
        'rebuild, nothing to do', base, both, hook, both / base))
    oslo_logger = oslo_logging.getLogger('bench')
    [info] = measure([lambda: oslo_logger.info('a %(b)s line', {'b': 1})],
                     args.number, args.repeat)
    print('for scale: one oslo.log INFO line costs %.1f us here' % info)
    print('snapshot chain: %s' % ', '.join(dispatch.get_chain('snapshot')
                                           .names))
    print('chains built in this process: %s' % ', '.join(sorted(built)))
    ok = sorted(built) == ['rebuild', 'snapshot'] and hooks[0] <= args.target
    print('target (snapshot hook, nothing to change, <= %.1f us; each chain '
          'built once): %s' % (args.target, 'met' if ok else 'NOT met'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
