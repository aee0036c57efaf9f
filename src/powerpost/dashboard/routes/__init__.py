"""The dashboard's pages, one module per settings area."""
