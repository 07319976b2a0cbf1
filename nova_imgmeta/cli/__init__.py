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

"""The ``nova-imgmeta`` operator command.

Each module here but ``main`` and ``common`` is named after the subcommand
it implements (``audit.py``: ``nova-imgmeta audit``, ``checksum.py``:
``nova-imgmeta checksum``...): its arguments, its steps and its output.
The logic they share with tests and benchmarks lives in the library
packages under names of their own, so that no two modules share a name
(``nova_imgmeta.catalogue.verdicts``, ``nova_imgmeta.imagefiles.digests``,
``nova_imgmeta.catalogue.fix_journal``).
"""
