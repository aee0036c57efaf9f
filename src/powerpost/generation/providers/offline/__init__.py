"""A caption writer that needs no network and no model: extractive, rule-based, deterministic.

It reads the material it is given (the prompt, fetched sources, facts about the media),
picks the most informative source sentences with a small explainable score, draws hashtags
from the content (from what the media shows when media is all there is), and lays the
result out per platform convention. A prompt without a letter or digit ("!!! ???", a run of
emoji) gives no words to build on: the captions fall back to generic lines and a generic
YouTube title, and its emoji only decorate. Same input, same output: every "choice" is a
SHA-256 of the input, never `hash()` (salted per process) or `random`.

The modules, in the order they build on each other:

- `vocabulary`, `tones`: data tables (word lists, colours, emoji; tones and platform defaults)
- `text`: tokens, sentences, emoji, trimming, the deterministic pick
- `keywords`, `media`, `prompt`, `facts`: reading each kind of material
- `material`: gathering one request into the material every caption is written from
- `layout`: a draft per platform, rendered and fitted to the platform limit
- `titles`: the YouTube title
- `provider`: `OfflineCaptionProvider`

Only `OfflineCaptionProvider` is public; the underscore names are private to this package
and shared between its modules.
"""

from powerpost.generation.providers.offline.provider import OfflineCaptionProvider

__all__ = ["OfflineCaptionProvider"]
