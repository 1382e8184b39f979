"""``medienwerk platform invite`` / ``invitations`` / ``revoke-invitation`` (CONTRACT: Command line)."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import with_appcontext

from lms.audit.services import record
from lms.core.commands import base_url, run_operation
from lms.registrations.services import create_invitation, open_invitations, revoke_invitation


def init_cli(cli: Any, groups: dict[str, click.Group]) -> None:
    platform = groups["platform"]

    @platform.command("invite")
    @click.option("--name", default=None, help="Name of the LMS / chamber, e.g. 'HWK Musterstadt Moodle'")
    @click.option("--chamber", "chamber_slug", default=None, help="Chamber slug (default: from --name)")
    @click.option("--hours", default=72.0, show_default=True, type=float, help="How long the URL stays valid")
    @with_appcontext
    def platform_invite(name: str | None, chamber_slug: str | None, hours: float) -> None:
        """Print a one-time, expiring dynamic-registration URL (last line of the output)."""

        def invite() -> Any:
            created, secret = create_invitation(name=name, chamber_slug=chamber_slug, hours=hours)
            record("invitation_created", chamber_id=created.chamber_id, detail={"invitation_id": created.id})
            return created, secret

        invitation, token = run_operation(invite)
        url = f"{base_url()}/lti/register?invitation={token}"
        click.echo(
            f"Invitation {invitation.id} for chamber '{invitation.chamber.slug}'"
            f"{' (' + name + ')' if name else ''}, valid until {invitation.expires_at:%Y-%m-%d %H:%M} UTC, "
            "usable once."
        )
        click.echo("Moodle 4.1+: Site administration > Plugins > Activity modules > External tool > Manage tools:")
        click.echo("paste the URL into 'Tool URL', click 'Add LTI Advantage', then activate the pending tool.")
        click.echo(url)

    @platform.command("invitations")
    @with_appcontext
    def platform_invitations() -> None:
        """List open (unused, unrevoked, unexpired) invitations."""
        invitations = open_invitations()
        if not invitations:
            click.echo("No open invitations.")
        for inv in invitations:
            click.echo(
                f"{inv.id}  chamber {inv.chamber.slug}  {inv.name or '-'}  "
                f"created {inv.created_at:%Y-%m-%d %H:%M}  expires {inv.expires_at:%Y-%m-%d %H:%M} UTC"
            )

    @platform.command("revoke-invitation")
    @click.argument("invitation_id", type=int)
    @with_appcontext
    def platform_revoke_invitation(invitation_id: int) -> None:
        """Revoke an open invitation: its URL stops working."""

        def revoke() -> Any:
            revoked = revoke_invitation(invitation_id)
            record("invitation_revoked", chamber_id=revoked.chamber_id, detail={"invitation_id": revoked.id})
            return revoked

        invitation = run_operation(revoke)
        click.echo(f"Revoked invitation {invitation.id} (chamber '{invitation.chamber.slug}').")
