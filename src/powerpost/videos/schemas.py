"""The public shapes of §6.8–6.9."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from powerpost.kit.job_schemas import JobErrorBody, JobStarted, JobStatus
from powerpost.kit.schemas import RequestModel

VideoModel = Literal["kling-3.0-pro", "veo-3.1", "runway-gen-4.5"]
VideoSizeName = Literal["landscape", "portrait"]


class VideoGenerateRequest(RequestModel):
    # No max_length here: each model's limit is checked in the service on the stripped
    # prompt, which is what is stored (the body size limit bounds the raw string).
    prompt: str = Field(
        description="What the video shows: at most 2500 characters for kling-3.0-pro, "
        "3000 for veo-3.1, 1000 for runway-gen-4.5 (surrounding whitespace not counted)"
    )
    duration: int = Field(
        description="Seconds: kling-3.0-pro 5|10, veo-3.1 4|8, runway-gen-4.5 5|10"
    )
    size: VideoSizeName = "landscape"
    model: VideoModel = "kling-3.0-pro"
    has_audio: bool = False
    enhance_prompt: bool = False
    source_image: str | None = Field(
        default=None, description="An image media id of this workspace to animate"
    )


class VideoGenerationStarted(JobStarted):
    video_generation_id: str


class GeneratedVideo(BaseModel):
    media_id: str
    url: str = Field(description="Signed URL of the MP4, valid for 7 days")
    thumbnail_url: str | None = Field(description="Signed URL of a JPEG thumbnail (7 days)")
    width: int
    height: int
    duration: float = Field(description="Seconds, measured from the file")


class VideoGenerationOut(BaseModel):
    video_generation_id: str
    status: JobStatus
    prompt: str
    size: VideoSizeName
    duration: int
    has_audio: bool
    model: VideoModel
    created_at: str
    video: GeneratedVideo | None
    # Additive: what the job cost (0 once a failure is refunded).
    credits_used: int
    error: JobErrorBody | None = None
