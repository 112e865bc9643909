"""The `plaudit` command."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import re
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from plaudit.config import Settings, describe_settings
from plaudit.domain.api_keys import Environment, Scope
from plaudit.domain.errors import ClientError, ConfigurationError
from plaudit.observability.logs import configure_logging
from plaudit.tenancy.models import ApiKeyInfo

T = TypeVar("T")


def _settings_help() -> str:
    lines = ["\b", "Settings (environment variables):"]
    for name, default, description in describe_settings():
        shown = f" [default: {default}]" if default else ""
        lines.append(f"  {name}{shown}")
        lines.append(f"      {description}")
    return "\n".join(lines)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - non-Linux platforms
        return asyncio.run(coro)
    return uvloop.run(coro)


def _load_settings(**overrides: Any) -> Settings:
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc
    configure_logging(settings.log_level)
    return settings


def _graceful_server_class() -> type:
    import uvicorn

    class GracefulServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                # A SIGTERM/SIGINT we shut down for is a clean exit (status 0): uvicorn would
                # re-deliver the signal afterwards and the process would die of it.
                self._captured_signals.clear()

    return GracefulServer


def _database_unreachable(exc: BaseException) -> click.ClickException:
    return click.ClickException(f"cannot use the database: {type(exc).__name__}: {exc}")


def _with_container(action: Callable[[Any], Awaitable[T]]) -> T:
    """Run `action(container)` against a migrated database, without background workers."""
    from plaudit.app import build_container, running

    async def main() -> T:
        container = build_container(_load_settings())
        async with running(container, with_workers=False):
            return await action(container)

    try:
        return _run(main())
    except (ClientError, ConfigurationError) as exc:
        raise click.ClickException(str(exc)) from exc
    except (OSError, SQLAlchemyError) as exc:
        raise _database_unreachable(exc) from exc


@click.group(epilog=_settings_help(), context_settings={"max_content_width": 100})
@click.version_option(package_name="plaudit")
def main() -> None:
    """Plaudit: integration hub for employee engagement and incentive programs."""


@main.command()
@click.option("--host", help="Address to listen on [default: PLAUDIT_HOST or 127.0.0.1]")
@click.option("--port", type=int, help="Port to listen on [default: PLAUDIT_PORT or 8000]")
def serve(host: str | None, port: int | None) -> None:
    """Run the API and the background workers in one process."""
    import uvicorn

    from plaudit.app import create_app

    settings = _load_settings(host=host, port=port)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(settings.shutdown_grace_s) or None,
        server_header=False,
    )
    server = _graceful_server_class()(config)
    _run(server.serve())
    if not server.started:
        sys.exit(1)


@main.command()
def worker() -> None:
    """Run only the background workers (the scale-out unit on PostgreSQL)."""
    from plaudit.app import build_container, running

    settings = _load_settings()

    async def run_worker() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with running(build_container(settings), with_workers=True):
            await stop.wait()

    _run(run_worker())


@main.command()
def migrate() -> None:
    """Apply database migrations and exit."""
    from plaudit.app import build_container
    from plaudit.store import migrate as migrations

    async def run_migrations() -> str | None:
        container = build_container(_load_settings())
        try:
            await migrations.upgrade(container.db)
            return await migrations.current_revision(container.db)
        finally:
            await container.db.dispose()

    try:
        revision = _run(run_migrations())
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    except (OSError, SQLAlchemyError) as exc:
        raise _database_unreachable(exc) from exc
    click.echo(f"database at revision {revision}")


@main.group()
def orgs() -> None:
    """Manage organizations."""


@orgs.command("create")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
def orgs_create(name: str, as_json: bool) -> None:
    """Create an organization with production and staging environments and a key for each."""
    created = _with_container(lambda c: c.tenancy.create_organization(name))
    payload = {
        "org_id": created.id,
        "name": created.name,
        "environments": {
            env.value: {"id": created.environment_ids[env], "api_key": created.keys[env].secret}
            for env in Environment
        },
    }
    if as_json:
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"organization {created.id} ({created.name})")
    for env in Environment:
        click.echo(
            f"  {env.value:<10} {created.environment_ids[env]}  key {created.keys[env].secret}"
        )
    click.echo("Keys are shown once; store them now.")


@main.group()
def keys() -> None:
    """Manage API keys."""


_ENV_CHOICE = click.Choice([e.value for e in Environment])
_SCOPE_CHOICE = click.Choice([s.value for s in Scope])


@keys.command("create")
@click.option("--org", "org_id", required=True, help="Organization id (org_...)")
@click.option("--env", "environment", type=_ENV_CHOICE, required=True)
@click.option("--name", required=True, help="What the key is for")
@click.option("--scope", "scopes", type=_SCOPE_CHOICE, multiple=True, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
def keys_create(
    org_id: str, environment: str, name: str, scopes: tuple[str, ...], as_json: bool
) -> None:
    """Create a key; its secret is printed once."""
    issued = _with_container(
        lambda c: c.tenancy.create_key(org_id, Environment(environment), name, map(Scope, scopes))
    )
    if as_json:
        click.echo(json.dumps({**_key_json(issued.info), "api_key": issued.secret}, indent=2))
    else:
        click.echo(f"{issued.info.id}  {issued.secret}\nThe key is shown once; store it now.")


@keys.command("list")
@click.option("--org", "org_id", required=True)
@click.option("--env", "environment", type=_ENV_CHOICE)
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
def keys_list(org_id: str, environment: str | None, as_json: bool) -> None:
    """List keys (never their secrets)."""
    env = Environment(environment) if environment else None
    infos = _with_container(lambda c: c.tenancy.list_keys(org_id, env))
    if as_json:
        click.echo(json.dumps([_key_json(i) for i in infos], indent=2))
        return
    for info in infos:
        state = f"revoked {info.revoked_at:%Y-%m-%d}" if info.revoked_at else "active"
        click.echo(
            f"{info.id}  {info.environment.value:<10} {info.display_prefix}...  "
            f"{','.join(info.scopes):<32} {state:<18} {info.name}"
        )


@keys.command("revoke")
@click.argument("key_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
def keys_revoke(key_id: str, as_json: bool) -> None:
    """Revoke a key at once."""
    info = _with_container(lambda c: c.tenancy.revoke_key(key_id))
    click.echo(json.dumps(_key_json(info), indent=2) if as_json else f"revoked {info.id}")


def _key_json(info: ApiKeyInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "organization_id": info.organization_id,
        "environment": info.environment.value,
        "environment_id": info.environment_id,
        "name": info.name,
        "prefix": info.display_prefix,
        "scopes": list(info.scopes),
        "created_at": info.created_at.isoformat(),
        "revoked_at": info.revoked_at.isoformat() if info.revoked_at else None,
    }


@main.group()
def retention() -> None:
    """Events, webhook messages and delivery attempts older than PLAUDIT_RETENTION_DAYS."""


@retention.command("run")
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
def retention_run(as_json: bool) -> None:
    """Delete what has aged out now, as workers do every PLAUDIT_RETENTION_INTERVAL_S."""
    if _load_settings().retention_days == 0 and not as_json:
        click.echo("PLAUDIT_RETENTION_DAYS is 0: everything is kept")
    pruned = _with_container(lambda c: c.retention.prune())
    counts = pruned.counts()
    if as_json:
        click.echo(json.dumps({"deleted": counts}, indent=2))
        return
    click.echo("deleted: " + ", ".join(f"{kind} {count}" for kind, count in counts.items()))


@main.group()
def milestones() -> None:
    """Work anniversaries, birthdays and onboarding milestones."""


def _calendar_date(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> datetime.date | None:
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD")
    year, month, day = (int(part) for part in value.split("-"))
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise click.BadParameter(f"{value} is not a calendar date: {exc}") from exc


@milestones.command("run")
@click.option(
    "--date",
    "local_date",
    callback=_calendar_date,
    metavar="YYYY-MM-DD",
    help=(
        "Raise what falls on this date in each employee's own calendar (backfills, reruns). "
        "Without it: what is due today in each employee's time zone, as the worker does."
    ),
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
def milestones_run(local_date: datetime.date | None, as_json: bool) -> None:
    """Raise the milestones due now; each is raised once however often this runs."""
    from plaudit.domain.milestone_rules import latest_local_date

    if local_date is not None and local_date > latest_local_date(
        datetime.datetime.now(datetime.UTC)
    ):
        raise click.BadParameter(
            f"{local_date.isoformat()} is in the future: no time zone has reached it yet",
            param_hint="'--date'",
        )
    report = _with_container(lambda c: c.milestones.run_for(local_date))
    payload = report.to_json()
    if as_json:
        click.echo(json.dumps(payload, indent=2))
        return
    raised = ", ".join(f"{kind} {count}" for kind, count in payload["raised"].items())
    click.echo(f"raised: {raised}")
    click.echo(f"already raised before: {payload['already_raised']}")
    if payload["not_yet_local_date"]:
        click.echo(f"not yet {local_date} in their time zone: {payload['not_yet_local_date']}")
    click.echo(f"employees scanned: {payload['employees_scanned']}")
