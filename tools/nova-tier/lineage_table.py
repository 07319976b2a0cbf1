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

"""The lineage scenario's results, pristine and patched side by side.

Reads the JSON that tests/nova/functional/test_lineage_e2e.py writes
(LINEAGE_RESULTS_JSON) for each tree; every line fits 80 columns.

    python3 lineage_table.py PRISTINE.json PATCHED.json
"""

import json
import sys

__all__ = ['load', 'render', 'verdict']

# The README's names of the scenario's steps.
STEPS = ('boot from image A, createImage',
         'rebuild to image B, createImage',
         'rebuild onto the first snapshot, createImage',
         # Wallaby (23.0.0) on, where resize and cold migration set
         # image_base_image_ref to the server's image (f02899418d):
         'resize (confirmed), createImage',
         'boot from snap-1, cold migrate, createImage')

# Image A's properties that must never reach a snapshot, and an ordinary
# one that every snapshot keeps (grouped as in doc/source/plugins.rst).
WATCHED = (
    ('cinder_encryption_key_id', ('cinder_encryption_key_id',)),
    ('cinder_encryption_key_deletion_policy',
     ('cinder_encryption_key_deletion_policy',)),
    ('os_glance_*', 'os_glance'),
    ('img_signature*', 'img_signature'),
    ('hw_qemu_guest_agent (ordinary)', ('hw_qemu_guest_agent',)),
)


def load(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def _name(results, value):
    """A, B or snap-1 for an image id of the scenario, else the id."""
    if value is None:
        return '(missing)'
    for name, image_id in sorted(results.get('images', {}).items()):
        if image_id == value:
            return name
    return value[:13] + '..'


def _keys(props, match):
    if isinstance(match, tuple):
        return [key for key in match if key in props]
    return [key for key in props if key.startswith(match)]


def _copied(props, source, match):
    have, had = len(_keys(props, match)), len(_keys(source, match))
    if not had:
        return '-'
    if have == had:
        return 'copied'
    return 'dropped' if not have else '%d of %d' % (have, had)


def _table(header, rows):
    widths = [max(len(row[i]) for row in [header] + rows)
              for i in range(len(header))]
    lines = ['  '.join(cell.ljust(width) for cell, width
                       in zip(header, widths)).rstrip(),
             '  '.join('-' * width for width in widths)]
    lines += ['  '.join(cell.ljust(width) for cell, width
                        in zip(row, widths)).rstrip() for row in rows]
    return lines


def render(pristine, patched, image_a_properties=None, replaced=None):
    """The lines of the side-by-side report."""
    out = ['Nova %s, the same scenario twice in Nova\'s functional harness:'
           % patched.get('nova_version'),
           '  pristine: the sdist as released, no nova-imgmeta',
           '  patched:  the series applied, nova-imgmeta installed (%s)'
           % ('yes' if patched.get('plugin_installed') else 'NOT FOUND'),
           'image A = %s' % patched['images']['A'],
           'image B = %s' % patched['images']['B'],
           'snap-1  = the snapshot of step 1 (its id differs per run)']
    if replaced is not None:
        out += ['non_inheritable_image_properties = %s' % ','.join(replaced),
                '  (an operator\'s own list: Nova\'s default also names '
                'img_signature*)']
    out += ['', 'base_image_ref of the snapshot taken at each step (the '
            'image the server was', 'built from; missing = bug 1893618):']
    out += _table(('step', 'pristine', 'patched'), [
        ('%d. %s' % (n, label), _name(pristine, u['snapshot_base_image_ref']),
         _name(patched, p['snapshot_base_image_ref']))
        for n, (label, u, p) in enumerate(
            zip(STEPS, pristine['steps'], patched['steps']), 1)])
    out += ['', 'image_base_image_ref in the server\'s system metadata '
            'after each step (what', 'the next snapshot copies):']
    out += _table(('step', 'pristine', 'patched'), [
        ('%d. %s' % (n, label),
         _name(pristine, u['sysmeta_image_base_image_ref']),
         _name(patched, p['sysmeta_image_base_image_ref']))
        for n, (label, u, p) in enumerate(
            zip(STEPS, pristine['steps'], patched['steps']), 1)])
    source = image_a_properties or _union(pristine, patched)
    out += ['', 'Image A\'s properties in the snapshots (copied into them, '
            'dropped, how many', 'were copied; -: in no snapshot):']
    out += _table(('property', 'pristine', 'patched'), [
        (label, _copied(_union(pristine), source, match),
         _copied(_union(patched), source, match))
        for label, match in WATCHED])
    return out


def _union(*results):
    """The properties of every snapshot of the scenario, as one dict.

    From Stein 19.2.0 and Train 20.2.0 on, Nova refuses to boot an image
    with an encryption key, so the scenario puts the key into the server
    later: a property may show in a later snapshot only.
    """
    props = {}
    for result in results:
        for step in result['steps']:
            props.update(step['snapshot_properties'])
    return props


def verdict(pristine, patched, must_drop=()):
    """(ok, lines): the bug seen on pristine Nova, fixed on patched Nova."""
    lines, ok = [], True

    def bases(results):
        return [step['snapshot_base_image_ref']
                for step in results['steps']]
    images = patched['images'] if patched else {}
    resized = pristine and len(bases(pristine)) > 3
    if pristine and bases(pristine)[1] is None:
        lines.append('pristine: bug 1893618 seen (no base_image_ref after '
                     'the rebuild)')
    elif pristine and bases(pristine)[2] != pristine['images']['A']:
        # Ussuri 21.2.1 and later, Victoria: upstream's fix always takes
        # the rebuild image, so a rollback onto a snapshot loses the root.
        lines.append('pristine: root image lost on the rollback onto '
                     'snap-1 (upstream\'s rule)')
    else:
        ok = False
        lines.append('pristine: UNEXPECTED: the bug was not seen')
    if resized and pristine['images']['A'] not in bases(pristine)[3:]:
        lines.append('pristine: root image lost on resize and cold '
                     'migration (f02899418d)')
    elif resized:
        ok = False
        lines.append('pristine: UNEXPECTED: resize kept the root image')
    leaked = sorted(key for key in (_union(patched) if patched else ())
                    if key in must_drop or key.startswith('os_glance'))
    expected = [images.get('A'), images.get('B'), images.get('A')]
    if patched and len(bases(patched)) > 3:
        expected += [images['A'], images['A']]
    if patched and bases(patched) == expected and not leaked:
        lines.append('patched:  base_image_ref %s as expected, no '
                     'never-inherit property copied'
                     % ', '.join(_name(patched, value) for value in expected))
    else:
        ok = False
        lines.append('patched:  FAILED: base_image_ref %s%s' % (
            ', '.join(_name(patched, value) for value in bases(patched))
            if patched else 'unknown', '; copied: ' + ', '.join(leaked)
            if leaked else ''))
    return ok, lines


def main(argv):
    pristine, patched = load(argv[1]), load(argv[2])
    if not pristine or not patched:
        print('no results in %s or %s' % (argv[1], argv[2]))
        return 1
    print('\n'.join(render(pristine, patched)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
