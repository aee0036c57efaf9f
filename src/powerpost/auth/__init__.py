"""The API's auth layer: who is calling (an API key), in which workspace, with what scope.

Not part of the keys feature: `api_keys/` makes, lists and revokes keys; this package checks
them on every request (`authorizer`) and gives routes their capability aliases
(`capabilities`). It reads keys through `api_keys.repository` and workspaces through
`workspaces.repository`; features import only `capabilities`.
"""
