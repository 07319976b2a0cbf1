#!/usr/bin/env python
"""Cost of nova-imgmeta's default snapshot chain next to Nova's own work.

Measures, in one run, for an instance with 50 image properties:

* baseline: what Nova Queens does for every snapshot before the hook, i.e.
  ``API._initialize_instance_snapshot_metadata`` (nova/compute/api.py,
  17.0.13): ``nova.utils.get_image_from_system_metadata`` on the instance's
  system metadata, then the ``[DEFAULT] non_inheritable_image_properties``
  loop and the update with the request's properties. Reimplemented below
  line for line (nova/utils.py, 17.0.13).
* baseline + chain: the same, followed by ``nova_imgmeta.dispatch.
  snapshot_hook`` running the default chain (heal, never-inherit, patterns,
  truncated) loaded from the installed entry points, as the patched Nova
  calls it.

Prints microseconds per call, the ratio (baseline + chain) / baseline and
how many times the policies were loaded (once per process). Run it with the
package installed, e.g. ``tox -e py27-bench,py3-bench``.
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

# nova/utils.py (17.0.13)
SM_IMAGE_PROP_PREFIX = "image_"
SM_INHERITABLE_KEYS = (
    'min_ram', 'min_disk', 'disk_format', 'container_format',
)
SM_SKIP_KEYS = (
    'mappings', 'block_device_mapping',
    'img_mappings', 'img_block_device_mapping',
)
# nova/conf/compute.py (17.0.13): default of non_inheritable_image_properties
NON_INHERITABLE_IMAGE_PROPERTIES = [
    'cache_in_nova', 'bittorrent', 'img_signature_hash_method',
    'img_signature', 'img_signature_key_type',
    'img_signature_certificate_uuid']


def get_image_from_system_metadata(system_meta):
    """nova.utils.get_image_from_system_metadata, Queens 17.0.13."""
    image_meta = {}
    properties = {}

    if not isinstance(system_meta, dict):
        raise TypeError('the benchmark passes a dict, as Instance does')

    for key, value in system_meta.items():
        if value is None:
            continue

        if key.startswith(SM_IMAGE_PROP_PREFIX):
            key = key[len(SM_IMAGE_PROP_PREFIX):]

        if key in SM_SKIP_KEYS:
            continue

        if key in SM_INHERITABLE_KEYS:
            image_meta[key] = value
        else:
            properties[key] = value

    image_meta['properties'] = properties

    return image_meta


def initialize_instance_snapshot_metadata(instance, name,
                                          extra_properties=None):
    """API._initialize_instance_snapshot_metadata, Queens 17.0.13."""
    image_meta = get_image_from_system_metadata(instance.system_metadata)
    image_meta.update({'name': name,
                       'is_public': False})

    # Delete properties that are non-inheritable
    properties = image_meta['properties']
    for key in NON_INHERITABLE_IMAGE_PROPERTIES:
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


def run(count, removals, mix, number, repeat):
    instance = make_instance(count, removals, mix)
    extra = {'instance_uuid': instance.uuid, 'user_id': 'u-1',
             'image_type': 'snapshot'}

    def baseline():
        initialize_instance_snapshot_metadata(instance, 'snap', extra)

    def with_chain():
        image_meta = initialize_instance_snapshot_metadata(instance, 'snap',
                                                           extra)
        dispatch.snapshot_hook(context=None, instance=instance,
                               image_meta=image_meta,
                               extra_properties=extra)

    with_chain()   # first call: loads the policies
    base, both = measure([baseline, with_chain], number, repeat)
    return base, both


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--properties', type=int, default=50)
    parser.add_argument('--number', type=int, default=200,
                        help='calls per timing (default 200)')
    parser.add_argument('--repeat', type=int, default=50,
                        help='timings, the fastest is kept (default 50)')
    args = parser.parse_args(argv)

    # As on a nova-api node: INFO enabled, into a file (here /dev/null).
    handler = logging.StreamHandler(open(os.devnull, 'w'))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    cfg.CONF([], project='nova', default_config_files=[])

    built = []
    original = loader.make_manager

    def counting_make_manager(*a, **kw):
        built.append(a[0])
        return original(*a, **kw)

    loader.make_manager = counting_make_manager

    print('Python %s (%s), %d image properties, fastest of %d x %d calls'
          % (platform.python_version(), sys.executable, args.properties,
             args.repeat, args.number))
    print('%-36s %11s %14s %6s' % (
        'case (us per snapshot)', 'baseline', 'baseline+chain', 'ratio'))
    ratios = []
    for label, mix, removals in (
            ('typical values, nothing to change', 'typical', False),
            ('long values, nothing to change', 'long', False),
            ('typical values, 2 removed + 2 INFO', 'typical', True)):
        base, both = run(args.properties, removals, mix, args.number,
                         args.repeat)
        ratios.append(both / base)
        print('%-36s %11.1f %14.1f %6.2f' % (label, base, both, both / base))
    oslo_logger = oslo_logging.getLogger('bench')
    [info] = measure([lambda: oslo_logger.info('a %(b)s line', {'b': 1})],
                     args.number, args.repeat)
    print('for scale: one oslo.log INFO line costs %.1f us here' % info)
    chain = dispatch.get_chain('snapshot')
    print('snapshot chain: %s' % ', '.join(chain.names))
    print('policy loads in this process: %d chain(s) built, stevedore '
          'managers created for: %s' % (dispatch.load_count(),
                                        ', '.join(built)))
    ok = dispatch.load_count() == 1 and len(built) == 1 and ratios[0] <= 2.0
    print('target (typical ratio <= 2.0, one load per process): %s'
          % ('met' if ok else 'NOT met'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
