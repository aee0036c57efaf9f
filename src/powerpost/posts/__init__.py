"""Posts: drafts of 1-12 items (one per post type), edited while draft, then published by
`publishing/`. This package owns the post's shape and its per-platform validation."""
