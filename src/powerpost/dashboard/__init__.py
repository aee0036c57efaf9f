"""The web dashboard: server-rendered Jinja2 pages with htmx, served by the API process."""
