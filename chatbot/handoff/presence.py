"""
Who is online to take a chat, and who is watching a conversation: cache keys
with an expiry (Redis on the services profile, local memory on the embedded
one), written by the staff socket and refreshed while it stays open.

A staff member counts as online while any of their sockets refreshed the key
in the last PRESENCE_TTL seconds; closing a socket clears it at once (another
tab of the same person sets it again at its next refresh).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.cache import cache

logger = logging.getLogger(__name__)

# A staff socket refreshes its keys this often; they expire after PRESENCE_TTL without it.
PRESENCE_REFRESH = 15.0
PRESENCE_TTL = 45


def _online_key(user_id: int) -> str:
    return f"handoff:online:{user_id}"


def _watch_key(conversation_id: str) -> str:
    return f"handoff:watch:{conversation_id}"


ANY_STAFF_KEY = "handoff:any-staff"


async def apresence_refresh(*, user_id: int, watching: str | None) -> None:
    """Marks the user online (and the conversation they have open watched) for PRESENCE_TTL seconds."""
    values = {_online_key(user_id): 1, ANY_STAFF_KEY: 1}
    if watching:
        values[_watch_key(watching)] = 1
    await cache.aset_many(values, timeout=PRESENCE_TTL)


async def apresence_clear(*, user_id: int) -> None:
    await cache.adelete(_online_key(user_id))


async def awatch_set(*, conversation_id: str) -> None:
    await cache.aset(_watch_key(conversation_id), 1, timeout=PRESENCE_TTL)


def users_online(user_ids: Iterable[int]) -> set[int]:
    """Which of these users have a staff socket open."""
    keys = {_online_key(user_id): user_id for user_id in user_ids}
    if not keys:
        return set()
    try:
        found = cache.get_many(list(keys))
    except Exception as exc:  # noqa: BLE001 - the cache is down: nobody counts as online
        logger.warning("could not read staff presence: %r", exc)
        return set()
    return {keys[key] for key in found}


async def aaudience(*, conversation_id: str) -> tuple[bool, bool]:
    """
        (any staff online, someone watching this conversation): one cache read per
        answer, so that nobody online costs the answer nothing more. A cache that
    cannot be read counts as nobody there.
    """
    try:
        found = await cache.aget_many([ANY_STAFF_KEY, _watch_key(conversation_id)])
    except Exception as exc:  # noqa: BLE001 - the cache is down: the answer goes on, unrelayed
        logger.warning("could not read staff presence: %r", exc)
        return False, False
    return ANY_STAFF_KEY in found, _watch_key(conversation_id) in found
