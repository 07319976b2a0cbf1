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
         'rebuild onto the first snapshot, createImage')

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
    out += ['', 'Image A\'s properties in the snapshot of step 1 (copied, '
            'dropped, how many of', 'them were copied; -: in neither '
            'snapshot):']
    out += _table(('property', 'pristine', 'patched'), [
        (label, _copied(pristine['steps'][0]['snapshot_properties'], source,
                        match),
         _copied(patched['steps'][0]['snapshot_properties'], source, match))
        for label, match in WATCHED])
    return out


def _union(*results):
    """Image A's properties as far as any snapshot shows them."""
    props = {}
    for result in results:
        props.update(result['steps'][0]['snapshot_properties'])
    return props


def verdict(pristine, patched, must_drop=()):
    """(ok, lines): the bug seen on pristine Nova, fixed on patched Nova."""
    lines, ok = [], True

    def bases(results):
        return [step['snapshot_base_image_ref']
                for step in results['steps']]
    if pristine and bases(pristine)[1] is None:
        lines.append('pristine: bug 1893618 seen (no base_image_ref after '
                     'the rebuild)')
    else:
        ok = False
        lines.append('pristine: UNEXPECTED: the bug was not seen')
    images = patched['images'] if patched else {}
    leaked = sorted(key for key in (
        patched['steps'][0]['snapshot_properties'] if patched else ())
        if key in must_drop or key.startswith('os_glance'))
    if patched and bases(patched) == [images['A'], images['B'],
                                      images['A']] and not leaked:
        lines.append('patched:  base_image_ref A, B, A as expected, no '
                     'never-inherit property copied')
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
