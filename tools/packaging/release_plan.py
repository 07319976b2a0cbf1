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
"""The first release's tag, rehearsed in a throw-away clone.

The tag itself is made by hand (doc/source/packaging.rst, "Releasing"); CI only
checks, in a clone of the checkout's HEAD, that an annotated tag there gives
the planned version to pbr (tox -e dist) and files every release note under
it (tox -e releasenotes). Once the tag exists, the clone checks out the real
tag instead, and it must be an annotated one.
"""

import os
import subprocess

__all__ = ['PLANNED_TAG', 'TagError', 'tagged_clone']

PLANNED_TAG = '0.1.0'


class TagError(Exception):
    """The rehearsal could not be set up; the message says why."""


def _git(args, cwd):
    proc = subprocess.run(['git'] + args, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    if proc.returncode != 0:
        raise TagError('git %s failed:\n%s' % (' '.join(args), proc.stdout))
    return proc.stdout.strip()


def tagged_clone(top, dest, tag=PLANNED_TAG):
    """Clone top's HEAD into dest with `tag` on it; return how it was made.

    Only committed work is in the clone.
    """
    _git(['clone', '--quiet', '--no-hardlinks', top, dest], cwd=top)
    existing = _git(['tag', '--list', tag], cwd=dest)
    if existing:
        if _git(['cat-file', '-t', tag], cwd=dest) != 'tag':
            raise TagError('tag %s exists but is not annotated (git tag -a)'
                           % tag)
        _git(['checkout', '--quiet', tag], cwd=dest)
        return 'the existing annotated tag %s' % tag
    env_name = {'GIT_COMMITTER_NAME': 'release rehearsal',
                'GIT_COMMITTER_EMAIL': 'rehearsal@example.invalid'}
    proc = subprocess.run(
        ['git', 'tag', '-a', tag, '-m', 'nova-imgmeta %s' % tag], cwd=dest,
        env=dict(os.environ, **env_name), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, universal_newlines=True)
    if proc.returncode != 0:
        raise TagError('git tag -a %s failed:\n%s' % (tag, proc.stdout))
    return 'an annotated tag %s on HEAD, in a clone' % tag
