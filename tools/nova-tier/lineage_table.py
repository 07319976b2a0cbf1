"""Print the lineage scenario's results side by side.

    python lineage_table.py UNPATCHED.json PATCHED.json

The JSON files are written by tests/nova/functional/test_lineage_e2e.py
(LINEAGE_RESULTS_JSON). Works on Python 2.7 and 3.
"""
from __future__ import print_function

import json
import sys

WATCH = ('cinder_encryption_key_id', 'cinder_encryption_key_deletion_policy',
         'os_glance_*', 'img_signature*', 'hw_qemu_guest_agent')


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (IOError, OSError, ValueError) as e:
        print('(no results in %s: %s)' % (path, e))
        return None


def label(results, value):
    if value is None:
        return '-- (missing)'
    names = dict((v, k) for k, v in results.get('images', {}).items())
    if value in names:
        return '%s (%s..)' % (names[value], value[:8])
    return value


def present(props, key):
    if key.endswith('*'):
        keys = sorted(k for k in props if k.startswith(key[:-1]))
        return ','.join(k for k in keys) if keys else '-'
    return 'yes' if key in props else '-'


def table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, r in enumerate(rows):
        cells = [str(c).ljust(w) for c, w in zip(r, widths)]
        out.append('  '.join(cells).rstrip())
        if n == 0:
            out.append('  '.join('-' * w for w in widths))
    return '\n'.join(out)


def main():
    unp, pat = load(sys.argv[1]), load(sys.argv[2])
    if not unp or not pat:
        return 1
    print()
    print('Nova %s - unpatched: %s' % (
        unp.get('nova_version'), unp.get('nova_file')))
    print('Nova %s - patched:   %s (nova_imgmeta plugin installed: %s)' % (
        pat.get('nova_version'), pat.get('nova_file'),
        pat.get('plugin_installed')))
    print('image A = %s (carries cinder_encryption_key_*, os_glance_*, '
          'img_signature*)' % unp['images']['A'])
    print('image B = %s' % unp['images']['B'])
    print()
    rows = [('step', 'snapshot base_image_ref UNPATCHED',
             'snapshot base_image_ref PATCHED',
             'sysmeta base after step UNPATCHED', 'PATCHED')]
    for su, sp in zip(unp['steps'], pat['steps']):
        rows.append((su['step'],
                     label(unp, su['snapshot_base_image_ref']),
                     label(pat, sp['snapshot_base_image_ref']),
                     label(unp, su['sysmeta_image_base_image_ref']),
                     label(pat, sp['sysmeta_image_base_image_ref'])))
    print(table(rows))
    print()
    rows = [('snapshot property (snap-1)', 'UNPATCHED', 'PATCHED')]
    p_u = unp['steps'][0]['snapshot_properties']
    p_p = pat['steps'][0]['snapshot_properties']
    for key in WATCH:
        rows.append((key, present(p_u, key), present(p_p, key)))
    print(table(rows))
    print()
    return 0


if __name__ == '__main__':
    sys.exit(main())
