"""Audio cells written as `audio.wav` and `audio.mp3` asset files, with soundfile only (no ffmpeg, no torch).

The source is decoded by libsndfile (WAV, FLAC, OGG/Vorbis/Opus, MP3, AIFF...) or given as a decoded
`{"array", "sampling_rate"}` value (float samples in [-1, 1], or integer samples scaled from their type's
range; channels last, or first when there are fewer channels than frames). Outputs:

- `audio.wav`: 16-bit PCM, original sampling rate and channels (samples beyond [-1, 1] are clipped). A
  16-bit PCM WAV source is copied byte for byte.
- `audio.mp3`: libsndfile's LAME encoder, which only takes 8, 11.025, 12, 16, 22.05, 24, 32, 44.1 and
  48 kHz and one or two channels: other rates are resampled (FFT, band-limited) to the lowest accepted
  rate above them (48 kHz at most), and more than two channels are averaged to mono. An MP3 source is
  copied byte for byte. Should the encoder still refuse the signal, the MP3 source is left out.

The cell is `[{"src": <mp3 url>, "type": "audio/mpeg"}, {"src": <wav url>, "type": "audio/wav"}]`. Both
encodings are deterministic (16-bit PCM WAV has no PEAK chunk, whose timestamp would change every run).
"""

from __future__ import annotations

import io
from typing import Any, Final

import numpy as np
import soundfile

from worker.media import CellPath, RowContext, asset, atomic_target, file_stem, media_bytes

MP3_SAMPLING_RATES: Final = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
#: A 2-D array with at most this many rows, and more columns than rows, is read as channels first.
_MAX_CHANNELS_FIRST: Final = 16

Frames = np.ndarray[Any, np.dtype[np.float32]]


def as_frames(array: Any) -> Frames:
    """Samples as float32 frames × channels, integer samples scaled to [-1, 1]."""
    samples = np.asarray(array)
    if samples.ndim == 1:
        samples = samples[:, np.newaxis]
    elif samples.ndim == 2 and samples.shape[0] <= _MAX_CHANNELS_FIRST and samples.shape[0] < samples.shape[1]:
        samples = samples.T
    if samples.ndim != 2:
        raise ValueError(f"an audio array must have 1 or 2 dimensions, not {samples.ndim}")
    if np.issubdtype(samples.dtype, np.unsignedinteger):
        middle = float(np.iinfo(samples.dtype).max) / 2 + 0.5
        return ((samples.astype(np.float64) - middle) / middle).astype(np.float32)
    if np.issubdtype(samples.dtype, np.integer):
        return (samples.astype(np.float64) / -float(np.iinfo(samples.dtype).min)).astype(np.float32)
    frames: Frames = samples.astype(np.float32)
    return frames


def mp3_sampling_rate(sampling_rate: int) -> int:
    """The MP3 rate to encode a signal of `sampling_rate` with: itself if accepted, else the next above."""
    return next((rate for rate in MP3_SAMPLING_RATES if rate >= sampling_rate), MP3_SAMPLING_RATES[-1])


def resample(frames: Frames, sampling_rate: int, target_rate: int) -> Frames:
    """Band-limited resampling of whole frames through the FFT (like scipy.signal.resample)."""
    count = frames.shape[0]
    target_count = round(count * target_rate / sampling_rate)
    if count == 0 or target_count == 0:
        return np.zeros((target_count, frames.shape[1]), dtype=np.float32)
    spectrum = np.fft.rfft(frames, axis=0)[: target_count // 2 + 1]  # irfft zero-pads when upsampling
    resampled: Frames = (np.fft.irfft(spectrum, n=target_count, axis=0) * (target_count / count)).astype(np.float32)
    return resampled


def _source_format(data: bytes | None) -> tuple[str, str] | None:
    if data is None:
        return None
    try:
        info = soundfile.info(io.BytesIO(data))
    except (soundfile.LibsndfileError, RuntimeError):
        return None
    return str(info.format), str(info.subtype)


def _decode(value: Any, context: RowContext) -> tuple[bytes | None, Frames, int]:
    if isinstance(value, dict) and value.get("array") is not None:
        sampling_rate = value.get("sampling_rate")
        if not isinstance(sampling_rate, int | np.integer) or sampling_rate <= 0:
            raise ValueError(f"invalid audio sampling rate {sampling_rate!r}")
        return None, as_frames(value["array"]), int(sampling_rate)
    data = media_bytes(value, context)
    frames, sampling_rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return data, frames, int(sampling_rate)


def _mp3_frames(frames: Frames, sampling_rate: int) -> tuple[Frames, int]:
    if frames.shape[1] > 2:
        frames = frames.mean(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
    target_rate = mp3_sampling_rate(sampling_rate)
    if target_rate != sampling_rate:
        frames = resample(frames, sampling_rate, target_rate)
    return frames, target_rate


def save_audio(value: Any, context: RowContext, column: str, path: CellPath) -> list[dict[str, str]]:
    """Write `audio.wav` and `audio.mp3` (see the module docstring); return their sources, MP3 first."""
    data, frames, sampling_rate = _decode(value, context)
    source_format = _source_format(data)
    stem = file_stem("audio", path)
    wav_path, wav_url = asset(context, column, f"{stem}.wav")
    with atomic_target(wav_path) as temporary:
        if data is not None and source_format == ("WAV", "PCM_16"):
            temporary.write_bytes(data)
        else:
            soundfile.write(temporary, frames, sampling_rate, format="WAV", subtype="PCM_16")
    sources = [{"src": wav_url, "type": "audio/wav"}]
    mp3_path, mp3_url = asset(context, column, f"{stem}.mp3")
    try:
        with atomic_target(mp3_path) as temporary:
            if data is not None and source_format is not None and source_format[0] == "MP3":
                temporary.write_bytes(data)
            else:
                mp3_frames, mp3_rate = _mp3_frames(frames, sampling_rate)
                soundfile.write(temporary, mp3_frames, mp3_rate, format="MP3")
    except soundfile.LibsndfileError:
        return sources
    return [{"src": mp3_url, "type": "audio/mpeg"}, *sources]
