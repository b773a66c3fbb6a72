"""Voice calling: announcements joined from recorded segments, played one after another, never cut off.

`wording` says what a call is made of, `pack` joins segment WAVs (and fills a pack's gaps with espeak-ng),
`player` plays a WAV, `announcer` queues calls. Apps get an `Announcer` from `drivers.factory.build_voice`.
"""

from drivers.protocols import Announcement, VoiceError
from drivers.voice.announcer import AnnouncementQueue
from drivers.voice.pack import (
    COMPLETE_MARKER,
    PAUSE,
    PackResult,
    VoicePack,
    ensure_pack,
    generate_pack,
    needed_segments,
    pack_problem,
    trim_silence,
    wav_duration,
)
from drivers.voice.player import AplayPlayer
from drivers.voice.prompts import PromptSpeaker
from drivers.voice.wording import (
    SEGMENT_TEXTS,
    call_segments,
    call_subtitle,
    en_cardinal,
    ticket_segments,
    zh_cardinal,
)

__all__ = [
    "COMPLETE_MARKER",
    "PAUSE",
    "SEGMENT_TEXTS",
    "Announcement",
    "AnnouncementQueue",
    "AplayPlayer",
    "PackResult",
    "PromptSpeaker",
    "VoiceError",
    "VoicePack",
    "call_segments",
    "call_subtitle",
    "en_cardinal",
    "ensure_pack",
    "generate_pack",
    "needed_segments",
    "pack_problem",
    "ticket_segments",
    "trim_silence",
    "wav_duration",
    "zh_cardinal",
]
