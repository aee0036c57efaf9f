"""Publishing: sending a post's items to their platforms exactly once.

`service` moves a post into `publishing` (holding its credits and queueing one job per
item), `tasks` runs each item through its platform's adapter, and the last item to settle
concludes the post (`published`, `partial` or `failed`), its credits and its webhook event
in one transaction. `adapters` is the interface every platform implements; `sandbox` is
the simulated platforms that test mode publishes to.
"""
