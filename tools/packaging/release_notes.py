#!/usr/bin/env python3
# Copyright nova-imgmeta contributors.
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
"""Check the release notes (tox -e releasenotes).

1. ``reno lint``, then ``reno report`` renders every note of
   releasenotes/notes (a note reno does not see, e.g. one not committed,
   is an error);
2. the release rehearsal: in a clone with the planned annotated tag on
   HEAD (tools/packaging/release_plan.py), ``reno list`` files every note
   under that tag.

Exit status 0 all good, 1 a check failed, 2 the checks could not run.
"""

import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import release_plan  # noqa: E402
import workdir  # noqa: E402

NOTES = os.path.join('releasenotes', 'notes')


class CheckFailed(Exception):
    """A check said no; the message says what."""


def reno(args, cwd):
    command = os.path.join(os.path.dirname(sys.executable), 'reno')
    proc = subprocess.run([command, '-q'] + args, cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if proc.returncode != 0:
        raise CheckFailed('reno %s failed:\n%s%s' % (
            ' '.join(args), proc.stdout, proc.stderr))
    return proc.stdout


def note_files(root):
    return sorted(os.path.join(NOTES, name)
                  for name in os.listdir(os.path.join(root, NOTES))
                  if name.endswith('.yaml'))


def listed(reno_list_output):
    """{version: [note paths]} from ``reno list``."""
    versions, current = {}, None
    for line in reno_list_output.splitlines():
        if line and not line[0].isspace():
            current = versions.setdefault(line.strip(), [])
        elif line.strip() and current is not None:
            current.append(re.sub(r'\s*\(.*\)$', '', line.strip()))
    return versions


def check_current():
    reno(['lint'], TOP)
    report = reno(['report'], TOP)
    notes = note_files(TOP)
    unseen = [note for note in notes if note not in report]
    if unseen:
        raise CheckFailed('reno report leaves out (not committed?):\n%s'
                          % '\n'.join(unseen))
    return '%d notes rendered' % len(notes)


def check_rehearsal(work):
    clone = os.path.join(work, 'clone')
    how = release_plan.tagged_clone(TOP, clone)
    versions = listed(reno(['list'], clone))
    notes = note_files(clone)
    tag = release_plan.PLANNED_TAG
    elsewhere = {v: n for v, n in versions.items() if v != tag and n}
    if sorted(versions.get(tag, [])) != notes or elsewhere:
        raise CheckFailed('with %s, reno files under %s: %s; elsewhere: %s; '
                          'notes: %s' % (how, tag, versions.get(tag),
                                         elsewhere, notes))
    return 'with %s, all %d notes are filed under %s' % (how, len(notes),
                                                         tag)


def main():
    work = workdir.make('nova-imgmeta-notes-')
    try:
        print('releasenotes: %s' % check_current())
        print('releasenotes: %s' % check_rehearsal(work))
    except CheckFailed as exc:
        print('releasenotes: FAILED: %s' % exc)
        return 1
    except release_plan.TagError as exc:
        print('releasenotes: %s' % exc, file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
