"""What every `shema` command shares: settings read once, the clock, error mapping to
exit codes (and the CLI's hints, commands/hints.py) in one place, and plain output."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from commands.hints import HINTS
from engine.config import Config
from workflow.errors import EnvironmentProblem, InputError, ShemaError

if TYPE_CHECKING:
    from engine.notify.channels.config import MailSettings
    from engine.service import Engine


@dataclass
class Settings:
    """The click context object: the global options, over the environment's `Config`
    (read once by cli.py), and the engine built from them on first use.

    (It keeps its old name because every command module takes it; the environment's
    settings are `engine.config.Config`.)"""

    db_url: str
    actor: str | None
    lang: str
    config: Config = field(default_factory=Config)
    _engine: Engine | None = None

    def engine(self, *, require_schema: bool = True) -> Engine:
        if self._engine is None:
            from engine.service import Engine
            from storage.database import Database
            from storage.migrate import require_current

            db = Database(self.db_url)
            if require_schema and db.missing_file:
                raise EnvironmentProblem(
                    f"there is no database at {db.missing_file}",
                    code="environment.no_database",
                    path=str(db.missing_file),
                )
            if require_schema:
                require_current(db)
            self._engine = Engine(db, web_url=self.config.web_url())
        return self._engine

    def who(self) -> str | None:
        from engine.service import identify

        return identify(self.engine(), self.actor, os_account())

    def mail(self) -> MailSettings:
        """Where messages go, from the environment (checked now, when it is needed)."""
        return self.config.mail_settings()


def os_account() -> str | None:
    """The operating-system account running the command, if it has a name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def now() -> dt.datetime:
    """The clock, read only here at the edge."""
    return dt.datetime.now(dt.UTC)


def _refuse_undecodable(ctx: click.Context) -> None:
    """Arguments that were not valid UTF-8 (Python keeps their bytes as lone surrogates)
    are refused before anything runs: they could be stored nowhere."""
    words = [*getattr(ctx, "_protected_args", []), *ctx.args]
    words += [v for v in ctx.params.values() if isinstance(v, str)]
    for word in words:
        if any("\udc80" <= c <= "\udcff" for c in word):
            shown = word.encode("utf-8", "surrogateescape")[:40]
            fail(f"an argument is not UTF-8 text: {shown!r}; check the terminal's encoding", 2)


def fail(message: str, code: int) -> NoReturn:
    # One line, whatever a value quoted in the message holds.
    click.echo(f"shema: {message}".replace("\r", "\\r").replace("\n", "\\n"), err=True)
    sys.exit(code)


def _debug(ctx: click.Context) -> bool:
    """SHEMA_DEBUG, from the settings cli.py read (or the environment, when an error
    came before they were read)."""
    settings = ctx.find_object(Settings)
    config = settings.config if settings is not None else Config.from_environ(os.environ)
    return config.debug


class ShemaGroup(click.Group):
    """Maps every error to one line on stderr and an exit code, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.parent is None:
            _refuse_undecodable(ctx)
        try:
            return super().invoke(ctx)
        except InputError as exc:
            for problem in exc.problems:  # one line each, whatever a file's name holds
                click.echo(str(problem).replace("\r", "\\r").replace("\n", "\\n"), err=True)
            sys.exit(exc.exit_code)
        except ShemaError as exc:
            # The engine's sentence, plus the flag or command that answers it.
            fail(str(exc) + HINTS.get(exc.code, ""), exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BrokenPipeError:  # `shema … | head`: the reader has gone, nothing to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except OSError as exc:  # a file or directory the command was pointed at
            where = f": {str(exc.filename)[:100]}" if exc.filename else ""
            fail(f"{exc.strerror or type(exc).__name__}{where}", 3)
        except Exception as exc:  # no traceback reaches a user
            from sqlalchemy.exc import OperationalError

            if isinstance(exc, OperationalError):
                fail(f"database problem: {str(exc.orig).splitlines()[0]}", 3)
            if _debug(ctx):
                raise
            fail(
                f"unexpected error: {type(exc).__name__}: {exc} (SHEMA_DEBUG=1 shows the details)",
                1,
            )


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    """A plain aligned table (no colour: scripts and pipes read it too)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
expect_option = click.option(
    "--expect-version",
    type=int,
    default=None,
    help="Refuse unless the project is still at this version.",
)
pass_settings = click.pass_obj


def print_outcome(outcome: Any, as_json: bool, message: str) -> None:
    if as_json:
        echo_json(outcome.to_json())
    else:
        click.echo(message)


def csv_delimiter(value: str) -> str:
    return "\t" if value.lower() in ("tab", "\\t") else value


def emit(content: str, output: str | None) -> None:
    """`content` as UTF-8 to the file `output`, or to stdout when None or '-'."""
    data = content.encode("utf-8")
    if output and output != "-":
        write_file(output, data)
        click.echo(f"wrote {output}")
    else:
        click.echo(data, nl=False)  # bytes go to the binary stream as they are


def write_file(output: str, data: bytes) -> None:
    """Write an output file, or an EnvironmentProblem (exit 3) saying why it cannot be."""
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot write {output}: {exc.strerror or exc}",
            code="output.unwritable",
            path=output,
            reason=str(exc.strerror or exc),
        ) from None
