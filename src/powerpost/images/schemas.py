"""The public shapes of §6.6–6.7."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from powerpost.kit.job_schemas import JobErrorBody, JobStarted, JobStatus
from powerpost.kit.schemas import RequestModel

ImageModel = Literal["flux2-flex", "ideogram-3", "gpt-image-1.5", "nano-banana-2"]
ImageSizeName = Literal["square", "feed", "portrait", "landscape"]

MAX_PROMPT_CHARS = 2000
MAX_STYLE_IMAGES = 4


class ImageGenerateRequest(RequestModel):
    """Text mode: `prompt`. Reference mode: `prompt` + `style_images`. Post mode:
    `generation_id` (+ optional `prompt` and `source_post_type`)."""

    # No max_length here: the service measures the stripped prompt, which is what is
    # stored (the body size limit bounds the raw string).
    prompt: str | None = Field(
        default=None,
        description=f"What to draw, at most {MAX_PROMPT_CHARS} characters (surrounding "
        "whitespace not counted); required unless `generation_id` is given",
    )
    style_images: list[str] | None = Field(
        default=None,
        max_length=MAX_STYLE_IMAGES,
        description="Up to 4 image media ids of this workspace whose style to follow",
    )
    generation_id: str | None = Field(
        default=None, description="A completed caption generation of this workspace"
    )
    source_post_type: str | None = Field(
        default=None,
        description="Post mode: which of the generation's post types the image illustrates",
    )
    size: ImageSizeName = "square"
    quantity: int = Field(default=1, ge=1, le=4)
    model: ImageModel = "flux2-flex"
    enhance_prompt: bool = False


class ImageGenerationStarted(JobStarted):
    image_generation_id: str


class GeneratedImage(BaseModel):
    media_id: str
    url: str = Field(description="Signed URL of the image, valid for 7 days")
    thumbnail_url: str | None = Field(description="Signed URL of a JPEG thumbnail (7 days)")
    width: int
    height: int


class ImageGenerationOut(BaseModel):
    image_generation_id: str
    status: JobStatus
    prompt: str
    size: ImageSizeName
    quantity: int
    model: ImageModel
    created_at: str
    images: list[GeneratedImage]
    # Additive: what the job cost once settled (what is still held while it runs).
    credits_used: int
    error: JobErrorBody | None = None
