"""PostgreSQL: a private cluster under .ov/, or the server given by OV_DB_*."""

import hashlib
import os
import pwd
import shutil
import stat

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
        say(f"starting the private PostgreSQL cluster in {self.pgdata}")
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
        self._pg(
            "psql", "-X", "-h", str(self.sockdir), "-p", self.port, "-U", "ov_admin", "-d", "postgres",
            "-v", "ON_ERROR_STOP=1", "-v", f"role={DB_ROLE}",
            stdin_text=CREATE_ROLE_SQL,
        )  # fmt: skip

    def stop(self):
        if self.external:
            say("OV_DB_HOST is set: the external PostgreSQL server is not ours to stop")
            return
        if not self.running():
            say("the private PostgreSQL cluster is not running")
            return
        self._pg("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")
        say("private PostgreSQL cluster stopped")

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
