"""Calendar entries (§9): dated notes on a workspace's content calendar."""
