"""The alembic.plugins entry point: `alembic datasync` exists, and nothing else changes.

"Nothing else" is proven by running stock commands on a stock `alembic init`
project twice, with the plugin and with its setup skipped, and comparing exit
status, stdout and stderr byte for byte (tracebacks included).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from alembic_project import ALEMBIC, Project
from conftest import python_lines

COLUMNS = "80"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_stock_alembic_lists_datasync_with_its_flags() -> None:
    listed = run(str(ALEMBIC), "--help")
    assert listed.returncode == 0
    assert (
        "datasync            Sync the datasets declared in env.py into the database"
        in listed.stdout
    )
    own = run(str(ALEMBIC), "datasync", "--help")
    assert own.returncode == 0
    assert "Sync the datasets declared in env.py into the database now." in own.stdout
    for flag in ("--dry-run", "--check", "--strict", "--validate"):
        assert flag in own.stdout


def test_import_alembic_loads_only_the_small_plugin_module() -> None:
    # The plugin runs while alembic is half imported: it must not import the
    # package (which imports alembic) nor anything heavy.
    probe = (
        "import sys, alembic, alembic.command, alembic.config\n"
        "print(sorted(m for m in sys.modules if m.startswith('alembic_datasync')))\n"
    )
    done = run(sys.executable, "-c", probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['alembic_datasync_plugin']"


def test_only_the_public_init_of_commandline_is_wrapped() -> None:
    # Every other attribute of CommandLine is Alembic's own; the wrapper takes
    # any arguments and shows Alembic's signature; alembic.config keeps
    # Python's own loader.
    probe = (
        "import importlib.machinery, inspect\n"
        "import alembic.config as config\n"
        "changed = sorted(name for name, value in vars(config.CommandLine).items()\n"
        "                 if getattr(getattr(value, '__code__', None), 'co_filename',\n"
        "                            config.__file__) != config.__file__)\n"
        "print(changed)\n"
        "original = inspect.signature(config.CommandLine.__init__.__wrapped__)\n"
        "print(inspect.signature(config.CommandLine.__init__) == original)\n"
        "print(inspect.getfullargspec(config.CommandLine.__init__).varargs)\n"
        "print(type(config.__loader__) is importlib.machinery.SourceFileLoader)\n"
    )
    done = run(sys.executable, "-c", probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "['__init__']",
        "True",
        "args",
        "True",
    ]


def test_the_plugin_module_is_its_own_entry_in_both_alembic_styles() -> None:
    # Alembic 1.18.0-1.20.0 iterate the entry point; 1.20.1+ take the module.
    probe = (
        "import alembic_datasync_plugin as p, types\n"
        "assert isinstance(p, types.ModuleType) and list(p) == [p]\n"
        "print('ok')\n"
    )
    done = run(sys.executable, "-c", probe)
    assert done.stdout.strip() == "ok", done.stderr


def test_setup_after_alembic_config_is_imported_wraps_at_once() -> None:
    # Plugin.setup_plugin_from_module() called by hand, after `import alembic.config`.
    probe = (
        "import alembic.config as config\n"
        "from alembic.runtime.plugins import Plugin\n"
        "import alembic_datasync_plugin as plugin\n"
        "init = config.CommandLine.__init__\n"
        "plugin.setup(object())\n"
        "assert config.CommandLine.__init__ is init, 'wrapped twice'\n"
        "print('datasync' in config.CommandLine(prog='x').subparsers.choices)\n"
    )
    done = run(sys.executable, "-c", probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


# -- identical with and without the plugin ---------------------------------------

LAUNCHER = """\
'''`alembic` as its console script runs it; "without" first skips our plugin's setup.'''
import runpy
import sys
import types


class Stub(types.ModuleType):
    def __iter__(self):  # Alembic 1.18.0-1.20.0 iterate over the entry point
        yield self

    @staticmethod
    def setup(plugin):
        pass


if sys.argv.pop(1) == "without":
    sys.modules["alembic_datasync_plugin"] = Stub("alembic_datasync_plugin")
sys.argv[0] = {alembic!r}
runpy.run_path({alembic!r}, run_name="__main__")
"""

REVISIONS = {
    "0001_gadget.py": '''\
"""create gadget"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("gadget", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("gadget")
''',
    "0002_gadget_name.py": '''\
"""gadget name"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("gadget", sa.Column("name", sa.String(40)))


def downgrade():
    op.drop_column("gadget", "name")
''',
}

UNREACHABLE = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/test",
    "mysql": "mysql+pymysql://root@127.0.0.1:1/test",
    "sqlite": "sqlite:////nonexistent-folder/app.db",
}


class Alembic:
    """Runs `alembic` with the plugin or with its setup skipped, in one folder."""

    def __init__(self, tmp_path: Path) -> None:
        self.launcher = tmp_path / "launch_alembic.py"
        self.launcher.write_text(LAUNCHER.format(alembic=str(ALEMBIC)))

    def run(self, mode: str, folder: Path, *args: str) -> tuple[int, str, str]:
        environment = dict(os.environ, COLUMNS=COLUMNS)
        done = subprocess.run(
            [sys.executable, str(self.launcher), mode, *args],
            cwd=folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.returncode, done.stdout, done.stderr


def without_datasync(text: str) -> str:
    """Stock help or argparse error text: the plugin's `datasync` entry taken out."""
    text = re.sub(r",\s*'?datasync'?(?=[)}])", "", text)
    kept: list[str] = []
    in_entry = False
    for line in text.splitlines(keepends=True):
        if re.match(r" {4}datasync\s", line):
            in_entry = True
            continue
        if in_entry and line.startswith(" " * 24):
            continue
        in_entry = False
        kept.append(line)
    return "".join(kept)


def stock_project(folder: Path, url: sa.URL, alembic: Alembic) -> Project:
    """`alembic init` (generic template), two revisions, ``url`` in alembic.ini."""
    folder.mkdir()
    code, _, stderr = alembic.run("without", folder, "init", "migrations")
    assert code == 0, stderr
    for name, text in REVISIONS.items():
        (folder / "migrations" / "versions" / name).write_text(text)
    ini = folder / "alembic.ini"
    stock = ini.read_text()
    for name, value in (
        ("alembic.ini", url),
        ("unreachable.ini", UNREACHABLE[url.get_backend_name()]),
    ):
        rendered = (
            value.render_as_string(hide_password=False) if isinstance(value, sa.URL) else value
        )
        (folder / name).write_text(
            stock.replace(
                "sqlalchemy.url = driver://user:pass@localhost/dbname",
                "sqlalchemy.url = " + rendered.replace("%", "%%"),
            )
        )
    return Project(folder, url)


def test_stock_commands_without_a_database_are_identical(tmp_path: Path) -> None:
    alembic = Alembic(tmp_path)
    folder = tmp_path / "made"
    folder.mkdir()
    made = {}
    for mode in ("without", "with"):
        made[mode] = alembic.run(mode, folder, "init", "-t", "generic", "migrations")
        files = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
        made[mode] += (str(files), *((folder / f).read_text() for f in files))
        shutil.rmtree(folder)
        folder.mkdir()
    assert made["with"] == made["without"]
    assert made["with"][0] == 0

    project = stock_project(tmp_path / "project", sa.make_url("sqlite:///app.db"), alembic)
    for args in [
        ("--version",),
        ("list_templates",),
        ("heads",),
        ("history",),
        ("history", "-r", "0001:0002"),
        ("show", "0002"),
        ("branches",),
        ("--help",),
        ("upgrade", "--help"),
        ("no_such_command",),
        ("upgrade",),
    ]:
        without = alembic.run("without", project.folder, *args)
        with_plugin = alembic.run("with", project.folder, *args)
        assert with_plugin[0] == without[0], args
        assert without_datasync(with_plugin[1]) == without[1], args
        assert without_datasync(with_plugin[2]) == without[2], args
        if args in (("--help",), ("no_such_command",)):
            # The only difference: the datasync command is listed.
            assert "datasync" in with_plugin[1] + with_plugin[2]
            assert "datasync" not in without[1] + without[2]
        else:
            assert with_plugin == without, args


def test_stock_commands_on_each_database_are_identical(
    database_url: sa.URL, tmp_path: Path
) -> None:
    alembic = Alembic(tmp_path)
    project = stock_project(tmp_path / "project", database_url, alembic)
    steps = [
        ("current",),
        ("upgrade", "0001"),
        ("current",),
        ("upgrade", "head"),
        ("history", "-i"),
        ("heads", "-v"),
        ("check",),  # the generic env.py gives no target_metadata: FAILED
        ("upgrade", "0003"),  # no such revision: FAILED
        ("upgrade", "0001:head", "--sql"),
        ("downgrade", "-1"),
        ("upgrade", "head"),
        ("stamp", "base"),
        ("stamp", "head"),
        ("downgrade", "base"),
        ("-c", "unreachable.ini", "upgrade", "head"),  # Alembic's traceback, as is
    ]
    outputs = {}
    for mode in ("without", "with"):
        outputs[mode] = [alembic.run(mode, project.folder, *args) for args in steps]
        project.execute("DROP TABLE alembic_version")
    for args, without, with_plugin in zip(steps, outputs["without"], outputs["with"], strict=True):
        assert with_plugin == without, args
    codes = [code for code, _, _ in outputs["with"]]
    assert codes == [0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 0, 0, 0, 1]
    assert "Traceback (most recent call last)" in outputs["with"][-1][2]


def test_the_launcher_really_runs_the_plugin_in_one_mode_only(tmp_path: Path) -> None:
    # Else the comparisons above would compare stock Alembic with itself.
    alembic = Alembic(tmp_path)
    assert alembic.run("with", tmp_path, "datasync", "--help")[0] == 0
    code, _, stderr = alembic.run("without", tmp_path, "datasync", "--help")
    assert code == 2
    assert "invalid choice: 'datasync'" in stderr


def test_a_stock_command_line_imports_the_datasync_command_and_nothing_of_the_engine() -> None:
    """Every `alembic` command builds its command line, so the plugin adds `datasync`
    importing only the command line's module: `alembic current` stays as fast as it was."""
    program = (
        "import sys\n"
        "from alembic.config import CommandLine\n"
        "parser = CommandLine(prog='alembic').parser\n"
        "assert 'datasync' in parser.format_help(), parser.format_help()\n"
        "print(sorted(m for m in sys.modules if m.startswith('alembic_datasync')))\n"
    )
    assert python_lines(program) == [
        str(
            [
                "alembic_datasync",
                "alembic_datasync.alembic_internals",
                "alembic_datasync.cli",
                "alembic_datasync.database_errors",
                "alembic_datasync.errors",
                "alembic_datasync_plugin",
            ]
        )
    ]
