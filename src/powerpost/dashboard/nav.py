"""The dashboard's navigation, in one list that later features extend.

A feature adds its page with `register(NavItem(...))` at import time (Connections,
Webhooks, Media, Writing styles, …); `order` places it within its section.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    order: int
    section: str = "Settings"


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str
    current: bool


@dataclass(frozen=True)
class NavSection:
    title: str
    links: list[NavLink]


_ITEMS: list[NavItem] = [
    NavItem("API keys", "/settings/api", 10),
    NavItem("Workspaces", "/settings/workspaces", 20),
    NavItem("Credits", "/settings/credits", 30),
    NavItem("Account", "/settings/account", 90),
]
_SECTION_ORDER = ["Settings"]


def register(item: NavItem) -> None:
    if any(existing.href == item.href for existing in _ITEMS):
        return
    _ITEMS.append(item)
    if item.section not in _SECTION_ORDER:
        _SECTION_ORDER.append(item.section)


def sections(current_path: str) -> list[NavSection]:
    result = []
    for title in _SECTION_ORDER:
        items = sorted((i for i in _ITEMS if i.section == title), key=lambda i: i.order)
        links = [
            NavLink(
                label=i.label,
                href=i.href,
                current=current_path == i.href or current_path.startswith(i.href + "/"),
            )
            for i in items
        ]
        result.append(NavSection(title=title, links=links))
    return result
