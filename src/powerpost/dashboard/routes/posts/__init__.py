"""Posts: the human-approval side of Draft Only keys. A person reviews the drafts that keys
(often AI agents) made, edits them, and publishes, schedules or deletes them; the post page
shows each item's outcome and every platform call, and refreshes itself while publishing.

A person signed in may publish any post of their workspaces, whichever key made it: that is
what a Draft Only key is for. Every action goes through the same services as the API, so the
same rules and errors apply; the route only turns them into a page.
"""

from fastapi import APIRouter

from powerpost.dashboard import nav
from powerpost.dashboard.routes.posts import actions, detail, queue
from powerpost.dashboard.routes.posts.forms import scheduled_time
from powerpost.dashboard.routes.posts.locate import PAGE
from powerpost.dashboard.routes.posts.previews import hashtag_parts

__all__ = ["hashtag_parts", "router", "scheduled_time"]

router = APIRouter(include_in_schema=False)
router.include_router(queue.router)
router.include_router(detail.router)
router.include_router(actions.router)

nav.register(nav.NavItem("Posts", PAGE, 5, section="Content"))
