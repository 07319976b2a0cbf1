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

"""MariaDB and RabbitMQ from Debian's packages, run by hand.

No init system starts them here (and none should: the machine's own
instances, if any, are left alone). Each gets its own data directory,
configuration file and ports inside the state directory and runs as the
invoking user; RabbitMQ also gets an Erlang port mapper (epmd) of its own
on its own port, and its own Erlang cookie (HOME in the state directory).
"""

import importlib.util
import os
import shutil
import socket
import time

import components
import proc

__all__ = ['ensure_packages', 'missing_packages', 'MariaDB', 'RabbitMQ',
           'wait_port']

MY_CNF = """# MariaDB of the nova-imgmeta loopback cloud
[mysqld]
datadir = {dir}/data
socket = {socket}
pid-file = {dir}/mariadb.pid
port = {port}
bind-address = 127.0.0.1
user = {user}
skip-name-resolve
# small: a test cloud on a shared machine
innodb_buffer_pool_size = 64M
innodb_log_file_size = 32M
performance_schema = OFF
max_connections = 1000
# a throwaway test cloud: no durability, quicker schema migrations
innodb_flush_log_at_trx_commit = 0
innodb_doublewrite = 0
innodb_flush_method = nosync
# as devstack's lib/databases/mysql sets it
default-storage-engine = InnoDB
character-set-server = utf8
collation-server = utf8_general_ci
sql_mode = TRADITIONAL
[client]
socket = {socket}
"""
RABBITMQ_CONF = """# RabbitMQ of the nova-imgmeta loopback cloud
listeners.tcp.1 = 127.0.0.1:{port}
default_user = openstack
default_pass = {password}
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
log.file = false
log.console = true
log.console.level = warning
"""
MYSQL_DATABASES = ('keystone', 'glance', 'neutron', 'nova_api', 'nova',
                   'nova_cell0', 'placement')


def _system_packages():
    """tools/system_packages.py, the reader of bindep.txt."""
    path = os.path.join(components.REPO, 'tools', 'system_packages.py')
    spec = importlib.util.spec_from_file_location(
        'nova_imgmeta_system_packages', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def missing_packages():
    """The packages of bindep.txt's ``cloud`` profile not installed here."""
    system_packages = _system_packages()
    return [package for package in system_packages.packages(['cloud'])
            if system_packages.installed(package) is False]


def ensure_packages(say):
    """apt-get install the packages of bindep.txt's ``cloud`` profile
    (MariaDB, RabbitMQ, what the line's sdists compile with) that are
    missing.
    """
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which('apt-get'):
        raise RuntimeError('%s missing: install them (apt-get install %s)'
                           % (', '.join(missing), ' '.join(missing)))
    say('installing %s with apt-get (bindep.txt, profile cloud)'
        % ', '.join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    lock = ['-o', 'DPkg::Lock::Timeout=600']
    proc.run(['apt-get', 'update', '-qq'] + lock, env=env, timeout=900)
    proc.run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends'] +
             lock + missing, env=env, timeout=1800)


def wait_port(port, timeout, process_alive=None, what='service'):
    """Wait until 127.0.0.1:port accepts connections."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        sock = socket.socket()
        sock.settimeout(1)
        try:
            sock.connect(('127.0.0.1', port))
            return
        except OSError:
            pass
        finally:
            sock.close()
        if process_alive is not None and not process_alive():
            raise RuntimeError('%s exited before listening on port %d'
                               % (what, port))
        time.sleep(0.3)
    raise RuntimeError('%s not listening on port %d after %d s'
                       % (what, port, timeout))


def port_free(port):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


class MariaDB(object):
    """mariadbd with its own data directory, socket and TCP port."""

    name = 'mariadb'

    def __init__(self, layout, secrets):
        self.layout = layout
        self.secrets = secrets
        self.dir = layout.data('mariadb')
        self.socket = os.path.join(self.dir, 'mariadb.sock')
        self.cnf = layout.etc('mariadb', 'my.cnf')
        self.port = layout.ports['mariadb']

    def url(self, database):
        return 'mysql+pymysql://openstack:%s@127.0.0.1:%d/%s?charset=utf8' % (
            self.secrets['database'], self.port, database)

    def write_config(self):
        os.makedirs(os.path.dirname(self.cnf), exist_ok=True)
        with open(self.cnf, 'w') as handle:
            handle.write(MY_CNF.format(
                dir=self.dir, socket=self.socket, port=self.port,
                user=_user()))

    def start(self):
        self.write_config()
        data = os.path.join(self.dir, 'data')
        if not os.path.isdir(os.path.join(data, 'mysql')):
            os.makedirs(data, exist_ok=True)
            proc.run(['mariadb-install-db', '--defaults-file=' + self.cnf,
                      # root through the socket (as the OS user root), or
                      # without a password for any other invoking user
                      '--auth-root-authentication-method=' +
                      ('socket' if os.geteuid() == 0 else 'normal'),
                      '--skip-test-db'], timeout=300)
        proc.start(self.layout, self.name,
                   ['mariadbd', '--defaults-file=' + self.cnf])
        deadline = time.time() + 120
        while time.time() < deadline:
            code, _out = proc.run(self.client(['-e', 'select 1']),
                                  check=False)
            if code == 0:
                break
            if proc.alive(self.layout, self.name) is None:
                raise RuntimeError('mariadbd exited: see %s'
                                   % self.layout.log(self.name))
            time.sleep(0.5)
        else:
            raise RuntimeError('mariadbd did not answer in 120 s')
        statements = []
        for database in MYSQL_DATABASES:
            statements.append('CREATE DATABASE IF NOT EXISTS %s '
                              'CHARACTER SET utf8;' % database)
        for host in ('127.0.0.1', 'localhost'):
            statements.append(
                "CREATE USER IF NOT EXISTS 'openstack'@'%s' "
                "IDENTIFIED BY '%s';" % (host, self.secrets['database']))
            statements.append("GRANT ALL PRIVILEGES ON *.* TO "
                              "'openstack'@'%s';" % host)
        proc.run(self.client(['-e', ' '.join(statements)]))

    def client(self, args):
        return ['mariadb', '--defaults-file=' + self.cnf, '-uroot'] + args

    def stop(self):
        return proc.stop(self.layout, self.name, timeout=60)


class RabbitMQ(object):
    """rabbitmq-server with its own node name, ports, cookie and epmd."""

    name = 'rabbitmq'

    def __init__(self, layout, secrets):
        self.layout = layout
        self.secrets = secrets
        self.dir = layout.data('rabbitmq')
        self.conf = layout.etc('rabbitmq', 'rabbitmq.conf')
        self.node = 'nova-imgmeta-%d@localhost' % layout.ports['rabbitmq']

    def transport_url(self):
        return 'rabbit://openstack:%s@127.0.0.1:%d/' % (
            self.secrets['rabbitmq'], self.layout.ports['rabbitmq'])

    def env(self):
        home = os.path.join(self.dir, 'home')
        return {
            'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
            'HOME': home, 'LANG': 'C.UTF-8', 'LC_ALL': 'C.UTF-8',
            'ERL_EPMD_PORT': str(self.layout.ports['epmd']),
            'RABBITMQ_NODENAME': self.node,
            'RABBITMQ_CONFIG_FILE': self.conf,
            'RABBITMQ_MNESIA_BASE': os.path.join(self.dir, 'mnesia'),
            'RABBITMQ_LOG_BASE': os.path.join(self.dir, 'log'),
            'RABBITMQ_DIST_PORT': str(self.layout.ports['rabbitmq-dist']),
            'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(self.dir,
                                                          'enabled_plugins'),
            'RABBITMQ_FEATURE_FLAGS_FILE': os.path.join(self.dir,
                                                        'feature_flags'),
            'RABBITMQ_PID_FILE': os.path.join(self.dir, 'rabbitmq.pid'),
        }

    def start(self):
        for sub in ('home', 'mnesia', 'log'):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        os.makedirs(os.path.dirname(self.conf), exist_ok=True)
        with open(os.path.join(self.dir, 'enabled_plugins'), 'w') as handle:
            handle.write('[].\n')
        with open(self.conf, 'w') as handle:
            handle.write(RABBITMQ_CONF.format(
                port=self.layout.ports['rabbitmq'],
                password=self.secrets['rabbitmq']))
        env = self.env()
        # the Erlang port mapper first, on our port: rabbitmq-server uses
        # it rather than starting a daemon of its own
        proc.start(self.layout, 'epmd',
                   ['epmd', '-port', str(self.layout.ports['epmd'])],
                   env=env)
        wait_port(self.layout.ports['epmd'], 30,
                  lambda: proc.alive(self.layout, 'epmd'), 'epmd')
        proc.start(self.layout, self.name,
                   ['/usr/lib/rabbitmq/bin/rabbitmq-server'], env=env)
        wait_port(self.layout.ports['rabbitmq'], 180,
                  lambda: proc.alive(self.layout, self.name), 'rabbitmq')

    def stop(self):
        running = proc.alive(self.layout, self.name) is not None
        if running:
            proc.run(['/usr/lib/rabbitmq/bin/rabbitmqctl', '-n', self.node,
                      'stop'], env=self.env(), check=False, timeout=120)
        stopped = proc.stop(self.layout, self.name, timeout=30)
        epmd = proc.stop(self.layout, 'epmd', timeout=10)
        return running or stopped or epmd


def _user():
    import pwd
    return pwd.getpwuid(os.geteuid()).pw_name
