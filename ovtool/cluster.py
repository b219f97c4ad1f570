"""PostgreSQL: a private cluster under .ov/, or the server given by OV_DB_*."""

import contextlib
import fcntl
import hashlib
import os
import pwd
import shutil
import stat
import time

from ovtool.settings import CLUSTER_HOME, CLUSTER_OWNER, DB_ROLE, REPO, STATE, SetupError, say
from ovtool.system import pg_bindir, run

# Odoo's role, created once per cluster; psql fills in :'role', format() quotes it as a name.
CREATE_ROLE_SQL = """
SELECT format('CREATE ROLE %I LOGIN CREATEDB NOSUPERUSER', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')
\\gexec
"""


def reachable_by_others(path):
    """Whether any user may enter every existing folder down to ``path``."""
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in (path, *path.parents) if folder.exists())


def cluster_dir():
    """Folder of the private PostgreSQL cluster (data, socket, log).

    The state folder, unless ./ov runs as root and PostgreSQL's own user
    (``ovpg``: PostgreSQL refuses root) could not reach it: then a folder of
    this checkout under /var/lib/order-visibility.
    """
    if os.geteuid() != 0 or reachable_by_others(STATE):
        return STATE
    digest = hashlib.sha256(str(STATE).encode()).hexdigest()[:12]
    return CLUSTER_HOME / f"{REPO.name}-{digest}"


class Database:
    label = "private PostgreSQL cluster"

    def __init__(self):
        self.external = bool(os.environ.get("OV_DB_HOST"))
        self.cluster = cluster_dir()
        self.pgdata = self.cluster / "pgdata"
        self.sockdir = self.cluster / "run"
        self.log = self.cluster / "postgresql.log"
        self.port = os.environ.get("OV_DB_PORT") or ("5432" if self.external else "5439")
        self.host = os.environ.get("OV_DB_HOST") or str(self.sockdir)
        self.user = os.environ.get("OV_DB_USER") or DB_ROLE
        self.password = os.environ.get("OV_DB_PASSWORD") or ""
        self.bindir = pg_bindir()
        self.owner = CLUSTER_OWNER if os.geteuid() == 0 else None

    def odoo_args(self):
        args = [f"--db_host={self.host}", f"--db_port={self.port}", f"--db_user={self.user}"]
        if self.password:
            args.append(f"--db_password={self.password}")
        return args

    def libpq_env(self):
        env = dict(os.environ, PGHOST=self.host, PGPORT=self.port, PGUSER=self.user)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def _pg(self, tool, *args, check=True, capture=True, stdin_text=None):
        return run([str(self.bindir / tool), *args], check=check, capture=capture, user=self.owner, input=stdin_text)

    def _ensure_owner(self):
        if not self.owner:
            return
        try:
            pwd.getpwnam(self.owner)
        except KeyError:
            say(
                f"creating system user {self.owner} to own the private PostgreSQL cluster "
                "(PostgreSQL refuses to run as root)"
            )
            run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", self.owner], capture=True)
        # PostgreSQL's user must reach the cluster folder through every parent.
        probe = run(
            ["runuser", "-u", self.owner, "--", "test", "-x", str(self.cluster.parent)], check=False, capture=True
        )
        if probe.returncode:
            raise SetupError(
                f"user {self.owner} cannot enter {self.cluster.parent}: set OV_STATE_DIR to a folder every user "
                "may enter (e.g. under /srv or /opt)"
            )

    def _check_stale_lock(self):
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().split()[0])
        except (ValueError, IndexError):
            pid = None
        alive = False
        if pid:
            try:
                os.kill(pid, 0)
                alive = True
            except ProcessLookupError:
                alive = False
            except PermissionError:
                alive = True
        if not alive:
            raise SetupError(
                f"stale PostgreSQL lock file {pidfile} (server pid {pid} is not running, probably after a crash): "
                "remove that file and run again"
            )

    def describe(self):
        if self.external:
            return f"PostgreSQL server {self.host}:{self.port} (OV_DB_HOST)"
        where = f"private PostgreSQL cluster in {self.cluster}"
        if self.cluster != STATE:
            where += f" (user {self.owner} cannot reach {STATE})"
        return where

    def running(self):
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        return self._pg("pg_ctl", "-D", str(self.pgdata), "status", check=False).returncode == 0

    def start(self):
        if self.external:
            self._check_external()
            return
        if self.bindir is None:
            raise SetupError(
                "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package `postgresql`"
            )
        if not self.running():
            self._check_stale_lock()
            # The folders first: on a new machine the cluster's home does not
            # exist yet, and PostgreSQL's user is asked whether it can enter it.
            STATE.mkdir(parents=True, exist_ok=True)
            self.cluster.mkdir(parents=True, exist_ok=True)
            os.chmod(self.cluster, 0o755)
            if self.cluster.parent == CLUSTER_HOME:
                os.chmod(CLUSTER_HOME, 0o755)
            self._ensure_owner()
            if not (self.pgdata / "PG_VERSION").exists():
                self._init()
            self._pg_start()
        self._ensure_role()

    def _pg_start(self):
        self.sockdir.mkdir(exist_ok=True)
        log = self.log
        if self.owner:
            shutil.chown(self.sockdir, self.owner)
            log.touch()
            shutil.chown(log, self.owner)
        say(f"starting the {self.label} in {self.pgdata}")
        res = self._pg(
            "pg_ctl", "-D", str(self.pgdata), "-l", str(log), "-w", "-t", "60",
            "-o", f"-k {self.sockdir} -p {self.port} -c listen_addresses=''",
            "start", check=False,
        )  # fmt: skip
        if res.returncode:
            tail = log.read_text().strip().splitlines()[-3:] if log.exists() else []
            raise SetupError(f"PostgreSQL did not start ({' / '.join(tail) or res.stdout.strip()}): see {log}")

    def _init(self):
        say(f"creating a private PostgreSQL cluster in {self.pgdata}")
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if self.owner:
            shutil.chown(self.pgdata, self.owner)
        os.chmod(self.pgdata, 0o700)
        # The cluster superuser is a maintenance role; Odoo connects as a
        # plain role allowed to create databases, never as a superuser.
        self._pg(
            "initdb", "-D", str(self.pgdata), "-U", "ov_admin", "-E", "UTF8",
            "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=reject",
        )  # fmt: skip
        with (self.pgdata / "postgresql.conf").open("a") as fh:
            fh.write("\n# order visibility: private cluster, unix socket only\n")
            fh.write("listen_addresses = ''\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")

    def _ensure_role(self):
        """Create Odoo's role if missing: a run interrupted after initdb heals here."""
        # The role name travels as a psql variable; PostgreSQL quotes it (%I, :'role').
        self.admin_psql(CREATE_ROLE_SQL, variables={"role": DB_ROLE})

    def admin_psql(self, sql, dbname="postgres", variables=None):
        """The unaligned output of ``sql`` run by the cluster's superuser
        (ov_admin, a maintenance role Odoo never uses); fails loudly."""
        args = []
        for name, value in (variables or {}).items():
            args += ["-v", f"{name}={value}"]
        res = self._pg(
            "psql", "-X", "-At", "-h", str(self.sockdir), "-p", self.port, "-U", "ov_admin", "-d", dbname,
            "-v", "ON_ERROR_STOP=1", *args,
            stdin_text=sql,
        )  # fmt: skip
        return res.stdout.strip()

    def stop(self):
        if self.external:
            say("OV_DB_HOST is set: the external PostgreSQL server is not ours to stop")
            return
        if not self.running():
            say(f"the {self.label} is not running")
            return
        self._pg("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")
        say(f"{self.label} stopped")

    def _check_external(self):
        res = run(["psql", "-d", "postgres", "-Atc", "select 1"], check=False, capture=True, env=self.libpq_env())
        if res.returncode:
            raise SetupError(
                f"cannot connect to PostgreSQL at {self.host}:{self.port} as {self.user} "
                f"({res.stdout.strip().splitlines()[-1] if res.stdout.strip() else 'no answer'}): "
                "check OV_DB_HOST, OV_DB_PORT, OV_DB_USER and OV_DB_PASSWORD"
            )

    def psql(self, sql, dbname="postgres", variables=None):
        """The unaligned output of ``sql`` in ``dbname``, or None if it failed.

        Values are never written into ``sql``: they go as psql variables,
        which the statement names as :'name' (a literal) or :"name" (an
        identifier), and PostgreSQL's client quotes them.
        """
        cmd = ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", dbname]
        for name, value in (variables or {}).items():
            cmd += ["-v", f"{name}={value}"]
        res = run(cmd, check=False, capture=True, env=self.libpq_env(), input=sql)
        return res.stdout.strip() if res.returncode == 0 else None

    def exists(self, dbname):
        return self.psql("SELECT 1 FROM pg_database WHERE datname = :'datname'", variables={"datname": dbname}) == "1"

    def drop(self, dbname):
        run(["dropdb", "--if-exists", "--force", dbname], check=False, capture=True, env=self.libpq_env())
        shutil.rmtree(STATE / "data" / "filestore" / dbname, ignore_errors=True)


class Standby(Database):
    """A hot standby of the private cluster: a ``pg_basebackup`` of it in
    .ov/replica/pgdata, streaming its WAL, read-only, on port 5440 with its
    own socket folder. Odoo 19 sends its read-only requests there when given
    ``--db_replica_host`` and ``--db_replica_port`` (``odoo_args``).

    The primary needs nothing new: ``wal_level = replica`` and
    ``max_wal_senders`` are PostgreSQL's defaults, and initdb's pg_hba.conf
    lets local users open replication connections; the standby streams as
    ov_admin, the cluster's superuser. No replication slot: a standby that
    was stopped while the primary recycled the WAL it needs is rebuilt.
    """

    label = "hot standby of the private PostgreSQL cluster"
    PORT = "5440"
    STREAM_TIMEOUT = 20  # seconds for a restarted standby to stream again

    def __init__(self, primary=None):
        super().__init__()
        self.primary = primary or Database()
        self.cluster = self.primary.cluster / "replica"
        self.pgdata = self.cluster / "pgdata"
        self.sockdir = self.cluster / "run"
        self.log = self.cluster / "postgresql.log"
        self.port = self.PORT
        self.host = str(self.sockdir)
        self.user = self.primary.user
        self.password = ""

    def odoo_args(self):
        return [f"--db_replica_host={self.host}", f"--db_replica_port={self.port}"]

    def describe(self):
        return f"{self.label} in {self.cluster} (port {self.port})"

    def start(self):
        """Start the primary, then the standby (built first if missing); idempotent."""
        if self.external:
            raise SetupError(
                "a hot standby is built from the private cluster, and OV_DB_HOST names another server: "
                "give Odoo --db_replica_host and --db_replica_port of your own standby instead"
            )
        self.primary.start()
        with self._lock():  # two test runs starting it at once: one builds, the other waits
            self._start()

    @contextlib.contextmanager
    def _lock(self):
        with (self.primary.cluster / "replica.lock").open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _start(self):
        if self.running():
            self._check_standby()
            return
        self._check_stale_lock()
        if (self.pgdata / "PG_VERSION").exists():
            self._pg_start()
            if self._wait_streaming():
                return
            say("the hot standby cannot catch up with the primary (its WAL is gone): building it again")
            self._pg("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")
            shutil.rmtree(self.pgdata)
        self._base_backup()
        self._pg_start()
        if not self._wait_streaming():
            raise SetupError(f"the hot standby started but does not stream from the primary: see {self.log}")

    def _base_backup(self):
        wal_level = self.primary.admin_psql("SHOW wal_level")
        if wal_level == "minimal":
            raise SetupError("the private cluster has wal_level = minimal: set it to replica and restart it")
        self.cluster.mkdir(parents=True, exist_ok=True)
        os.chmod(self.cluster, 0o755)
        partial = self.cluster / "pgdata.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(mode=0o700)
        if self.owner:
            shutil.chown(partial, self.owner)
        say(f"copying the private cluster into {self.pgdata} (pg_basebackup)")
        # -R: standby.signal and primary_conninfo (the primary's socket, as ov_admin).
        self._pg(
            "pg_basebackup", "-h", str(self.primary.sockdir), "-p", self.primary.port, "-U", "ov_admin",
            "-D", str(partial), "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        # The primary's lock and pid file are not copied; its log settings are.
        partial.rename(self.pgdata)

    def _check_standby(self):
        if self.admin_psql("SELECT pg_is_in_recovery()") != "t":
            raise SetupError(f"the server in {self.pgdata} is not a standby (promoted?): stop it and remove the folder")

    def _wait_streaming(self):
        """Whether the standby, in recovery, streams from the primary within STREAM_TIMEOUT."""
        self._check_standby()
        deadline = time.monotonic() + self.STREAM_TIMEOUT
        while time.monotonic() < deadline:
            if self.admin_psql("SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'") == "1":
                return True
            time.sleep(0.2)
        return False

    def _init(self):
        raise SetupError("a hot standby is not created by initdb")  # start() builds it by pg_basebackup

    def _ensure_role(self):
        pass  # the standby is read-only: its roles are the primary's
