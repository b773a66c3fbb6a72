"""The event stream path (docs/api.md "Event stream"), built for thousands of sockets on one core.

- `wire`: the WebSocket handshake and frames (RFC 6455), no I/O.
- `hub`: the ring of recent events with their frames encoded once, and the fan-out to subscribers.
- `connection`: one WebSocket as an asyncio Protocol that uvicorn hands the upgrade to (same port, same URL,
  same TLS as the HTTP API; no ASGI layer, no task per connection).
- `server`: the routes (`/events`, the dashboard's `/web/events`) and admission in bounded batches.
- `access`: a route's answer (grant or close code) and the Origin check; `events`: the `/events` route.
- `snapshots`: snapshots cached per seq and audience, for the stream and `GET /api/snapshot`.
"""
