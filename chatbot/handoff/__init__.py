"""
Live handoff: staff watch conversations as they happen and take one over (issue 11).

- `frames`: the staff socket's frames and the visitor's `agent_*` frames (docs/protocol.md).
- `selectors` / `services`: reads and writes (who may handle, the inbox, take, release, staff
  messages, a visitor message while a person holds the conversation or asks for one).
- `presence`: who is online, in the cache with an expiry the staff socket keeps fresh.
- `groups`: channel-layer groups (one per visitor conversation, the staff inbox, the watchers
  of one conversation) and a subscription that survives a channel-layer outage.
- `relay`: the bot's answer relayed to staff watching, around the answer stream.
- `consumers`: the staff WebSocket `/ws/staff/`.
- `admin`: the inbox page in admin.
"""
