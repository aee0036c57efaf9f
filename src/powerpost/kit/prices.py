"""The credit price table of powerpost-api.md §10, operator-configurable (`POWERPOST_PRICES`).

Integers only: money is never a float. Multipliers are expressed in tenths.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PriceTable:
    caption_regular: int = 6
    caption_deep: int = 8
    caption_per_image: int = 1
    caption_per_video_minute: int = 6
    caption_per_source_url: int = 1
    image_flux2_flex: int = 5
    image_ideogram_3: int = 6
    image_nano_banana_2: int = 6
    image_gpt_image_1_5: int = 14
    video_per_second_kling_3_0_pro: int = 3
    video_per_second_veo_3_1: int = 4
    video_per_second_runway_gen_4_5: int = 3
    video_audio_multiplier_tenths: int = 15
    publish_action: int = 1
    publish_per_x_item: int = 3

    def with_overrides(self, overrides: dict[str, Any]) -> PriceTable:
        if not isinstance(overrides, dict):
            raise ValueError("expected a JSON object of price names to whole numbers")
        known = {f.name for f in dataclasses.fields(self)}
        for name, value in overrides.items():
            if name not in known:
                raise ValueError(f"unknown price {name!r}; known: {', '.join(sorted(known))}")
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"price {name!r} must be a whole number >= 0")
        return dataclasses.replace(self, **overrides)

    def free(self) -> PriceTable:
        """Metering switched off: every price zero (the multiplier stays meaningful)."""
        zeroed = {
            f.name: 0 for f in dataclasses.fields(self) if f.name != "video_audio_multiplier_tenths"
        }
        return dataclasses.replace(self, **zeroed)

    def caption(
        self, research_mode: str, images: int, video_seconds: float | None, source_urls: int
    ) -> int:
        base = self.caption_deep if research_mode == "deep" else self.caption_regular
        video_minutes = math.ceil(video_seconds / 60) if video_seconds else 0
        return (
            base
            + images * self.caption_per_image
            + video_minutes * self.caption_per_video_minute
            + source_urls * self.caption_per_source_url
        )

    def image(self, model: str) -> int:
        return int(getattr(self, "image_" + model.replace("-", "_").replace(".", "_")))

    def video(self, model: str, seconds: int, has_audio: bool) -> int:
        per_second = int(
            getattr(self, "video_per_second_" + model.replace("-", "_").replace(".", "_"))
        )
        total = per_second * seconds
        if has_audio:
            # ×1.5 with audio, rounded up so a fraction of a credit is never given away
            total = math.ceil(total * self.video_audio_multiplier_tenths / 10)
        return total
