"""The command groups of ``medienwerk`` (CONTRACT: Command line), put on every app by :func:`register_cli` so that
``flask --app lms …`` has them too. The ``medienwerk`` entry point itself is :mod:`lms.cli`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from lms.audit.services import record
from lms.certificates import cli as certificates_cli
from lms.core.commands import base_url, run_operation
from lms.core.extensions import db
from lms.core.jobs import jobs
from lms.courses import cli as courses_cli
from lms.courses.content import load_course
from lms.courses.review import check_course, check_warnings
from lms.courses.setup import current_course
from lms.dashboards import exports, reports
from lms.dashboards.queries import Filters
from lms.live_sessions import cli as live_sessions_cli
from lms.personal_data.services import delete_person, export_person, find_person
from lms.platforms.models import Chamber
from lms.platforms.services import (
    add_platform,
    all_keys,
    decrypt_keys,
    encrypt_keys,
    ensure_active_key,
    key_storage,
    list_platforms,
    retire_key,
    rotate_keys,
    set_platform_enabled,
)
from lms.registrations import cli as registrations_cli
from lms.users.scope import Scope
from lms.users.services import set_coordinator


def register_cli(app: Flask) -> None:
    """Put the commands on the app, so both ``medienwerk …`` and ``flask --app lms …`` have them."""
    groups = {
        "platform": platform,
        "coordinator": coordinator,
        "keys": keys,
        "courses": courses,
        "db": db_group,
        "report": report,
        "privacy": privacy,
    }
    for command in (*groups.values(), worker):
        app.cli.add_command(command)
    # the domains' own commands

    registrations_cli.init_cli(app.cli, groups)
    live_sessions_cli.init_cli(app.cli, groups)
    certificates_cli.init_cli(app.cli, groups)
    courses_cli.init_cli(app.cli, groups)
    whole_first_lines(app.cli)


def whole_first_lines(group: click.Group) -> None:
    """Command lists show each command's first paragraph whole (wrapped if long), never cut off with "..."
    (click cuts at the width and after the first full stop, e.g. in "Art. 15")."""
    for command in group.commands.values():
        if command.help and not command.short_help:
            first = command.help.split("\f")[0].strip().split("\n\n")[0]
            command.short_help = " ".join(first.split())
        if isinstance(command, click.Group):
            whole_first_lines(command)


# -- db -----------------------------------------------------------------------------------------------
@click.group("db")
def db_group() -> None:
    """The database schema (migrations shipped inside the package)."""


def _verbose_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--verbose", "-v", is_flag=True, help="Show Alembic's log line of every migration step")(fn)


def _migration_log(verbose: bool) -> None:
    """Alembic logs every step at INFO (lms/migrations/env.py): quiet unless --verbose."""
    current_app.config["MIGRATIONS_QUIET"] = not verbose


@db_group.command("upgrade")
@click.argument("revision", default="head")
@_verbose_option
@with_appcontext
def db_upgrade(revision: str, verbose: bool) -> None:
    """Apply the migrations (safe to run twice) and give the tool its signing key if it has none.

    REVISION: the migration to go to (default: head, the newest).
    """
    import flask_migrate

    _migration_log(verbose)

    flask_migrate.upgrade(revision=revision)
    if revision == "head":
        key = run_operation(ensure_active_key)
        click.echo(f"Database is up to date; signing key {key.kid}.")


@db_group.command("check")
@_verbose_option
@with_appcontext
def db_check(verbose: bool) -> None:
    """Fail when the models and the migrations disagree."""
    import flask_migrate

    _migration_log(verbose)

    flask_migrate.check()


@db_group.command("downgrade")
@click.argument("revision", default="-1")
@_verbose_option
@with_appcontext
def db_downgrade(revision: str, verbose: bool) -> None:
    """Undo migrations down to REVISION (default: the last one)."""
    import flask_migrate

    _migration_log(verbose)

    flask_migrate.downgrade(revision=revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does")
@with_appcontext
def db_revision(message: str) -> None:
    """For developers: write a new migration from the difference between models and database."""
    import flask_migrate

    flask_migrate.migrate(message=message)


# -- platform -----------------------------------------------------------------------------------------
@click.group()
def platform() -> None:
    """LMS registrations (issuer + client id) and their deployments."""


@platform.command("add")
@click.option("--issuer", required=True, help="The platform's issuer, e.g. https://moodle.hwk-beispiel.de")
@click.option("--client-id", required=True, help="The client id the LMS gave the tool")
@click.option("--deployment-id", required=True, help="The LMS's deployment id of the tool")
@click.option("--auth-login-url", required=True, help="Moodle: …/mod/lti/auth.php")
@click.option("--auth-token-url", required=True, help="Moodle: …/mod/lti/token.php")
@click.option("--key-set-url", required=True, help="Moodle: …/mod/lti/certs.php")
@click.option("--name", default=None, help="A readable name, e.g. 'HWK Musterstadt Moodle'")
@click.option("--chamber", "chamber_slug", default=None, help="Chamber slug (default: one chamber per issuer)")
@click.option("--central", is_flag=True, help="The chamber is the central team (reads all chambers)")
@with_appcontext
def platform_add(**options: Any) -> None:
    """Register an LMS; again with the same issuer and client id: update it or add a deployment."""

    def add() -> Any:
        added = add_platform(**options)
        record(
            "platform_registered",
            chamber_id=added.platform.chamber_id,
            detail={"platform_id": added.platform.id, "via": "platform add", "created": added.created},
        )
        return added

    result = run_operation(add)
    p = result.platform
    verb = "Registered" if result.created else "Updated"
    click.echo(f"{verb} {p.name} (issuer {p.issuer}, client id {p.client_id}) in chamber '{p.chamber.slug}'.")
    if result.deployment_added:
        click.echo(f"Deployment {options['deployment_id']} added.")
    _print_tool_urls(base_url())


def _print_tool_urls(base: str) -> None:
    click.echo("Values for the LMS (Moodle: Site administration > Plugins > External tool > Manage tools):")
    click.echo(f"  Tool URL:                {base}/lti/launch")
    click.echo(f"  Initiate login URL:      {base}/lti/login")
    click.echo(f"  Redirection URI(s):      {base}/lti/launch")
    click.echo(f"  Public keyset URL:       {base}/lti/jwks")


@platform.command("list")
@with_appcontext
def platform_list() -> None:
    """Registrations with their chamber and the tool URLs an LMS admin needs."""
    platforms = list_platforms()
    if not platforms:
        click.echo("No LMS is registered yet. Use 'medienwerk platform add'.")
    for p in platforms:
        state = "enabled" if p.enabled else "DISABLED"
        central = " (central)" if p.chamber.is_central else ""
        deployments = ", ".join(d.deployment_id + ("" if d.enabled else " (disabled)") for d in p.deployments)
        click.echo(f"{p.name} [{state}]")
        click.echo(f"  chamber:        {p.chamber.slug}{central}")
        click.echo(f"  issuer:         {p.issuer}")
        click.echo(f"  client id:      {p.client_id}")
        click.echo(f"  deployments:    {deployments or '-'}")
        click.echo(f"  auth login url: {p.auth_login_url}")
        click.echo(f"  token url:      {p.auth_token_url}")
        click.echo(f"  key set url:    {p.key_set_url}")
    _print_tool_urls(base_url())


def _set_enabled(issuer: str, client_id: str | None, enabled: bool) -> None:
    platforms = run_operation(lambda: set_platform_enabled(issuer, client_id, enabled))
    for p in platforms:
        click.echo(f"{'Enabled' if enabled else 'Disabled'} launches from {p.issuer} (client id {p.client_id}).")


@platform.command("disable")
@click.option("--issuer", required=True, help="The platform's issuer, as in 'platform list'")
@click.option("--client-id", default=None, help="Only this registration of the issuer (default: all of them)")
@with_appcontext
def platform_disable(issuer: str, client_id: str | None) -> None:
    """Stop launches from a registration without deleting data."""
    _set_enabled(issuer, client_id, False)


@platform.command("enable")
@click.option("--issuer", required=True, help="The platform's issuer, as in 'platform list'")
@click.option("--client-id", default=None, help="Only this registration of the issuer (default: all of them)")
@with_appcontext
def platform_enable(issuer: str, client_id: str | None) -> None:
    """Resume launches from a registration."""
    _set_enabled(issuer, client_id, True)


# -- coordinator --------------------------------------------------------------------------------------
@click.group()
def coordinator() -> None:
    """Grant or revoke the coordinator role in a user's chamber."""


def _grant(issuer: str, sub: str | None, email: str | None, chamber: str | None, granted: bool) -> None:
    def grant() -> Any:
        user = set_coordinator(issuer, sub, email, granted, chamber_slug=chamber)
        record(
            "role_granted" if granted else "role_revoked",
            chamber_id=user.chamber_id,
            subject_id=user.id,
            detail={"role": "coordinator"},
        )
        return user

    user = run_operation(grant)
    what = "is now a coordinator" if granted else "is no longer a coordinator"
    click.echo(f"User {user.sub} of {user.issuer} {what} in chamber '{user.chamber.slug}'.")


def _grant_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--chamber", default=None, help="Chamber slug; required when the issuer is registered in several chambers"
    )(fn)
    fn = click.option(
        "--email", default=None, help="The user's e-mail, if the platform shares it (only after their first launch)"
    )(fn)
    fn = click.option(
        "--sub", default=None, help="The user's id on the platform (LTI sub); works before their first launch"
    )(fn)
    return click.option("--issuer", required=True, help="The platform's issuer, as in 'platform list'")(fn)


@coordinator.command("add")
@_grant_options
@with_appcontext
def coordinator_add(issuer: str, sub: str | None, email: str | None, chamber: str | None) -> None:
    """Grant the coordinator role in the chamber (applies from the person's next launch)."""
    _grant(issuer, sub, email, chamber, True)


@coordinator.command("remove")
@_grant_options
@with_appcontext
def coordinator_remove(issuer: str, sub: str | None, email: str | None, chamber: str | None) -> None:
    """Revoke the coordinator role in the chamber."""
    _grant(issuer, sub, email, chamber, False)


# -- keys ---------------------------------------------------------------------------------------------
@click.group()
def keys() -> None:
    """The tool's signing keys (published at /lti/jwks)."""


@keys.command("list")
@with_appcontext
def keys_list() -> None:
    """All keys: the active one signs, rotated ones stay published until retired."""
    run_operation(ensure_active_key)
    for k in all_keys():
        state = "active" if k.active else ("retired" if k.retired_at else "published")
        click.echo(f"{k.kid}  {state:9}  created {k.created_at:%Y-%m-%d %H:%M} UTC  {key_storage(k)}")


@keys.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Make a new signing key; the old one stays in the JWKS until retired."""
    key = run_operation(rotate_keys)
    click.echo(f"New active key {key.kid}. Retire the old one once platforms have fetched the new JWKS.")


# a kid is base64url and may start with "-": it is an argument, never an option
@keys.command("retire", context_settings={"ignore_unknown_options": True})
@click.argument("kid")
@with_appcontext
def keys_retire(kid: str) -> None:
    """Remove a rotated-out key from the JWKS."""
    key = run_operation(lambda: retire_key(kid))
    click.echo(f"Retired key {key.kid}.")


@keys.command("encrypt")
@with_appcontext
def keys_encrypt() -> None:
    """Encrypt every stored private key with the first key of MEDIENWERK_KEY_ENCRYPTION_KEY (run after setting or
    rotating it)."""
    changed = run_operation(encrypt_keys)
    click.echo(f"{changed} private key(s) encrypted with the current key-encryption key.")


@keys.command("decrypt")
@with_appcontext
def keys_decrypt() -> None:
    """Store every private key as plain PEM again (before removing MEDIENWERK_KEY_ENCRYPTION_KEY)."""
    changed = run_operation(decrypt_keys)
    click.echo(f"{changed} private key(s) stored unencrypted.")


@click.command("worker")
@click.option("--workers", default=4, show_default=True, type=int, help="worker threads")
@with_appcontext
def worker(workers: int) -> None:
    """Run background jobs from Redis (needs MEDIENWERK_REDIS_URL)."""
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException(
            "MEDIENWERK_REDIS_URL is not set: without a job queue the tool's own processes run the jobs, "
            "no worker is needed."
        )
    click.echo(f"Running jobs from Redis with {workers} threads: {', '.join(jobs.names) or '(none yet)'}")
    jobs.run_worker(workers)


# -- courses ------------------------------------------------------------------------------------------
@click.group()
def courses() -> None:
    """The course content (Markdown in MEDIENWERK_COURSES_DIR)."""


@courses.command("check")
@with_appcontext
def courses_check() -> None:
    """Validate the content; print file:line: message for each problem and exit non-zero if any."""
    from pathlib import Path

    path = Path(current_app.config["COURSES_DIR"])
    problems = check_course(path)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {path}")
    for warning in check_warnings(path):  # worth a look, but no reason to fail
        click.echo(str(warning))
    course = load_course(path)
    click.echo(f"{path}: {len(course.modules)} modules, {len(course.qualifications)} qualifications, no problems.")


# -- report -------------------------------------------------------------------------------------------
@click.group()
def report() -> None:
    """Reports for operators (coordinators see the same on their pages)."""


@report.command("progress")
@click.option("--chamber", "chamber_slug", default=None, help="Chamber slug (default: every chamber)")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True, help="File format"
)
@click.option("--semicolon", is_flag=True, help="CSV with ';' between columns (German Excel)")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File to write (default: standard output)",
)
@with_appcontext
def report_progress(chamber_slug: str | None, fmt: str, semicolon: bool, output: str | None) -> None:
    """The volunteers' progress per module, tiers and tutorials: the coordinators' export, for all chambers or one."""
    from pathlib import Path

    from sqlalchemy import select

    chamber = None
    if chamber_slug is not None:
        chamber = db.session.execute(select(Chamber).where(Chamber.slug == chamber_slug)).scalar_one_or_none()
        if chamber is None:
            raise click.ClickException(f"no chamber {chamber_slug!r} (see 'medienwerk platform list')")
    scope = Scope(None if chamber is None else (chamber.id,), None, "coordinator", central=chamber is None)
    with current_app.test_request_context("/"):  # gettext and number formats as on the pages (German)
        table = reports.progress_table(scope, current_course(), Filters())
        exports.write_file(
            table,
            fmt,
            Path(output) if output else None,
            delimiter=";" if semicolon else ",",
            tz=current_app.config["TIMEZONE"],
        )
    run_operation(
        lambda: record(
            "report_exported",
            chamber_id=chamber.id if chamber else None,
            detail={"format": fmt, "via": "report progress"},
        )
    )
    if output:
        click.echo(f"Wrote {output}.", err=True)


# -- privacy ------------------------------------------------------------------------------------------
@click.group()
def privacy() -> None:
    """One person's data: export (Art. 15, 20 DSGVO) and deletion (Art. 17)."""


def _person_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--chamber",
        "chamber_slug",
        default=None,
        help="Chamber slug; required when the person exists in several chambers",
    )(fn)
    fn = click.option("--sub", required=True, help="The person's id on the platform (LTI sub)")(fn)
    return click.option("--issuer", required=True, help="The platform's issuer, as in 'platform list'")(fn)


@privacy.command("export")
@_person_options
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File to write (default: standard output)",
)
@with_appcontext
def privacy_export(issuer: str, sub: str, chamber_slug: str | None, output: str | None) -> None:
    """Everything stored about one person, as JSON."""
    import json

    def export() -> Any:
        person = find_person(issuer, sub, chamber_slug)
        record("person_exported", chamber_id=person.chamber_id, subject_id=person.id, detail={"format": "json"})
        return export_person(person)

    data = run_operation(export)
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        click.echo(f"Wrote {output}.", err=True)
    else:
        click.echo(text)


@privacy.command("delete")
@_person_options
@click.option("--yes", is_flag=True, help="Really delete (without it nothing happens)")
@with_appcontext
def privacy_delete(issuer: str, sub: str, chamber_slug: str | None, yes: bool) -> None:
    """Delete one person's data everywhere and print what was removed."""
    if not yes:
        raise click.ClickException("nothing deleted: add --yes to delete the person's data for good")

    def remove() -> Any:
        person = find_person(issuer, sub, chamber_slug)
        chamber_id = person.chamber_id
        deleted = delete_person(person)
        record("person_deleted", chamber_id=chamber_id, detail={"rows": sum(deleted.counts.values())})
        return deleted

    deleted = run_operation(remove)
    click.echo("Deleted (rows per table):")
    for line in deleted.lines():
        click.echo(f"  {line}")
    click.echo("Grades already delivered to the learning platform stay there.")
