#!/bin/bash
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

# Check the Nova patch series against every Nova sdist that PyPI serves for
# the release lines in nova_imgmeta/patches/MAP: git apply --check and
# patch -p1 -F0 --dry-run, patch by patch. The list of releases comes from
# PyPI ("pip index versions nova"), so a new release or a new series is
# checked without an edit; tools/check-patch-tags.py does the work.
#
# Usage: tools/check-patch-sdists.sh [VERSION...]   (default: all of them)
#   NOVA_SDIST_CACHE  where the sdists are kept (default:
#                     ~/.cache/nova-imgmeta/sdists, shared with the unit
#                     tests and the real-Nova tier); present files are
#                     not downloaded again
#   NOVA_SDIST_JOBS   parallel downloads (default 4)
#   PYTHON            the Python 3 that runs the checker (python3); the
#                     downloads run pip from the cache's own virtualenv
#                     (tools/packaging/nova_sdists.py)
#   CHECK_PATCH_MARKDOWN=1  print a Markdown table
# Needs git, patch and pip; exit status 0 only when every sdist passes.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${NOVA_SDIST_CACHE:-$HOME/.cache/nova-imgmeta/sdists}
python=${PYTHON:-python3}

for tool in git patch; do
    command -v "$tool" >/dev/null || {
        echo "check-patch-sdists: '$tool' is not installed" >&2; exit 2; }
done

markdown=()
[ -n "${CHECK_PATCH_MARKDOWN:-}" ] && markdown=(--markdown)
versions=()
[ $# -gt 0 ] && versions=(--versions "$@")
exec "$python" "$here/tools/check-patch-tags.py" --pypi "$cache" \
    --jobs "${NOVA_SDIST_JOBS:-4}" "${versions[@]}" "${markdown[@]}"
