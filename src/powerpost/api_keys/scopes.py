"""The scope table of powerpost-api.md §2, in one place.

Every /api/v1 route names exactly one of these; a route without one cannot be registered.
"""

from __future__ import annotations

from typing import Final

SCOPES: Final[tuple[str, ...]] = (
    "account:read",
    "content:read",
    "content:generate",
    "images:read",
    "images:generate",
    "videos:read",
    "videos:generate",
    "media:write",
    "posts:read",
    "posts:write",
    "posts:publish",
    "calendar:read",
    "calendar:write",
    "analytics:read",
    "webhooks:read",
    "webhooks:write",
)

# Which endpoints each scope opens, for the dashboard's scope picker and the docs.
SCOPE_ENDPOINTS: Final[dict[str, str]] = {
    "account:read": "GET /account/credits, GET /workspaces",
    "content:read": "GET /content/generations, GET /content/generations/{id}",
    "content:generate": "POST /content/generate (spends credits)",
    "images:read": "GET /images/generations/{id}",
    "images:generate": "POST /images/generate (spends credits)",
    "videos:read": "GET /videos/generations/{id}",
    "videos:generate": "POST /videos/generate (spends credits)",
    "media:write": "POST /media/upload",
    "posts:read": "GET /posts, GET /posts/{id}",
    "posts:write": "POST /posts, PATCH /posts/{id}, DELETE /posts/{id}",
    "posts:publish": "POST /posts/{id}/publish, /schedule, /cancel, /retry",
    "calendar:read": "GET /calendar/entries, GET /calendar/entries/{id}",
    "calendar:write": "POST /calendar/entries, PATCH/DELETE /calendar/entries/{id}",
    "analytics:read": "GET /post-items/{post_item_id}/analytics",
    "webhooks:read": "GET /webhooks, GET /webhooks/{id}, GET /webhooks/{id}/deliveries",
    "webhooks:write": "POST /webhooks, PATCH/DELETE /webhooks/{id}, rotate, test, redeliver",
}

PRESETS: Final[dict[str, frozenset[str]]] = {
    "read_write": frozenset(SCOPES),
    "read_draft": frozenset(SCOPES) - {"posts:publish"},
    "read_only": frozenset(s for s in SCOPES if s.endswith(":read")),
}

PRESET_LABELS: Final[dict[str, str]] = {
    "read_write": "Full Access",
    "read_draft": "Draft Only",
    "read_only": "Read Only",
    "custom": "Custom scopes",
}


def resolve_scopes(key_type: str, scopes: list[str] | None) -> tuple[str, frozenset[str]]:
    """(type, scope set) for a new key: a preset, or `custom` with a hand-picked set.

    Raises ValueError with a sentence fit for the person creating the key. An empty list
    is refused, never read as "no list": a script passing an empty variable must not get
    a Full Access key.
    """
    if scopes is not None:
        if not scopes:
            raise ValueError("A key needs at least one scope")
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown:
            raise ValueError(f"Unknown scope(s): {', '.join(unknown)}")
        chosen = frozenset(scopes)
        for preset, preset_scopes in PRESETS.items():
            if chosen == preset_scopes and key_type in (preset, "custom"):
                return preset, chosen
        if key_type not in ("custom", "read_write"):
            raise ValueError("Give either a key type or a scope list, not both")
        return "custom", chosen
    if key_type not in PRESETS:
        raise ValueError("Key type must be read_write, read_draft or read_only")
    return key_type, PRESETS[key_type]


def serialize(scopes: frozenset[str]) -> str:
    return " ".join(sorted(scopes))


def deserialize(raw: str) -> frozenset[str]:
    return frozenset(raw.split())
