"""Sales' edits in admin: a saved lead, and the bulk actions. A change the sheet shows queues a push."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from leads.models import Lead
from leads.services.sync import MIRRORED_FIELDS, leads_mark_pending

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def lead_save_from_admin(*, lead: Lead, changed_fields: Iterable[str]) -> Lead:
    """Saves an admin edit; a change to a mirrored field queues a Sheets push."""
    changed = set(changed_fields)
    if lead.pk is None:
        lead.source = Lead.Source.ADMIN
        lead.mark_sync_pending()
    elif changed & {attribute.removesuffix("_id") for attribute in MIRRORED_FIELDS}:
        lead.mark_sync_pending()
    lead.save()
    return lead


def leads_assign(*, leads: Iterable[Lead], owner: AbstractBaseUser) -> int:
    return _leads_bulk_update(leads=leads, owner=owner)


def leads_mark_contacted(*, leads: Iterable[Lead]) -> int:
    return _leads_bulk_update(leads=leads, status=Lead.Status.CONTACTED)


def leads_resync(*, leads: Iterable[Lead]) -> int:
    """Queues a fresh push of these leads (the admin "Resync" action)."""
    return _leads_bulk_update(leads=leads)


def _leads_bulk_update(*, leads: Iterable[Lead], **changes: Any) -> int:
    with transaction.atomic():
        return leads_mark_pending(lead_ids=[lead.pk for lead in leads], **changes, updated_at=timezone.now())
