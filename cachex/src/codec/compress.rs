//! The compressors, written and read as django-cachex's compressor classes do.
//!
//! | compressor | written as (django-cachex 0.14.1, as 0.3.0) | read as |
//! |---|---|---|
//! | zlib | `zlib.compress(data, level)`, level 6 | `zlib.decompress`: one zlib stream, trailing bytes ignored |
//! | gzip | `gzip.compress(data)`: level 9, header `1f 8b 08 00`, mtime, XFL, OS 255 | `gzip.decompress`: members, zero padding between them |
//! | zstd | `compression.zstd.compress(data)`: level 3, content size in the frame | `zstd.decompress`: every frame, nothing after them |
//! | lz4 | `lz4.frame.compress(data)`: content size stored, 64 KiB blocks | `lz4.frame.decompress`: the first frame, trailing bytes ignored |
//!
//! Reading never allocates more than about twice the output cap, whatever the input claims.

//!
//! Each compressor is behind its cargo feature; without it, its arms refuse (a [`Codec`]
//! naming it does not build, so they are not reached).
//!
//! [`Codec`]: super::Codec

#[cfg(any(feature = "zstd", feature = "lz4"))]
use std::io::Read;
#[cfg(any(feature = "zlib", feature = "gzip", feature = "lz4"))]
use std::io::Write;

#[cfg(feature = "gzip")]
use flate2::Crc;
#[cfg(any(feature = "zlib", feature = "gzip"))]
use flate2::{Compression, Decompress, FlushDecompress, Status};
#[cfg(feature = "lz4")]
use lz4_flex::frame::{BlockMode, BlockSize, FrameDecoder, FrameEncoder, FrameInfo};

use super::Compressor;

/// Why a compressor could not decompress some bytes.
#[derive(Debug)]
pub(super) enum Refusal {
    /// Not this compressor's data, or corrupt or truncated data: the next compressor is tried.
    Invalid(String),
    /// The output would be larger than the cap: reading stops there.
    #[cfg_attr(
        not(any(feature = "zlib", feature = "gzip", feature = "zstd", feature = "lz4")),
        allow(dead_code)
    )]
    TooLarge,
}

fn invalid(reason: impl ToString) -> Refusal {
    Refusal::Invalid(reason.to_string())
}

/// Why an arm of a compressor that is not included refuses.
fn not_included(compressor: Compressor) -> String {
    format!("the {compressor} compressor is not included in this build of cachex")
}

/// The magic number of a zstd frame, and the range of skippable-frame magic numbers.
#[cfg(feature = "zstd")]
const ZSTD_MAGIC: u32 = 0xFD2F_B528;
#[cfg(feature = "zstd")]
const ZSTD_SKIPPABLE: std::ops::RangeInclusive<u32> = 0x184D_2A50..=0x184D_2A5F;
/// The magic number of an LZ4 frame (the only frame format `lz4.frame` reads).
#[cfg(feature = "lz4")]
const LZ4_MAGIC: u32 = 0x184D_2204;
/// Bytes of a gzip member's header before its optional fields.
#[cfg(feature = "gzip")]
const GZIP_HEADER: usize = 10;

#[cfg(any(feature = "gzip", feature = "zstd", feature = "lz4"))]
fn u32_le(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

impl Compressor {
    /// Compresses `data` at `level` (already validated), in the layout django-cachex writes.
    pub(super) fn compress(self, data: &[u8], level: i32) -> std::io::Result<Vec<u8>> {
        match self {
            #[cfg(feature = "zlib")]
            Self::Zlib => {
                let mut encoder = flate2::write::ZlibEncoder::new(
                    Vec::with_capacity(data.len() / 2 + 64),
                    deflate_level(level),
                );
                encoder.write_all(data)?;
                encoder.finish()
            }
            #[cfg(feature = "gzip")]
            Self::Gzip => {
                // Python's gzip.compress: a 10-byte header, a raw deflate stream, CRC-32 and
                // length. The header's mtime is 0 ("no time stamp") where Python writes the
                // current time, so that the bytes do not depend on the clock.
                let xfl = match level {
                    9 => 2,
                    1 => 4,
                    _ => 0,
                };
                let mut out = Vec::with_capacity(data.len() / 2 + 64);
                out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]);
                let mut encoder = flate2::write::DeflateEncoder::new(out, deflate_level(level));
                encoder.write_all(data)?;
                let mut out = encoder.finish()?;
                let mut crc = Crc::new();
                crc.update(data);
                out.extend_from_slice(&crc.sum().to_le_bytes());
                // ISIZE is the length modulo 2^32.
                out.extend_from_slice(&(data.len() as u32).to_le_bytes());
                Ok(out)
            }
            #[cfg(feature = "zstd")]
            Self::Zstd => zstd::bulk::compress(data, level),
            #[cfg(feature = "lz4")]
            Self::Lz4 => {
                // lz4.frame.compress: content size stored, no checksums, 64 KiB blocks, and
                // (LZ4F_compressFrame) independent blocks when everything fits in one.
                let mode = if data.len() <= 64 * 1024 {
                    BlockMode::Independent
                } else {
                    BlockMode::Linked
                };
                let info = FrameInfo::new()
                    .content_size(Some(data.len() as u64))
                    .block_size(BlockSize::Max64KB)
                    .block_mode(mode);
                let mut encoder =
                    FrameEncoder::with_frame_info(info, Vec::with_capacity(data.len() / 2 + 64));
                encoder.write_all(data)?;
                encoder.finish().map_err(std::io::Error::other)
            }
            #[allow(unreachable_patterns)]
            _ => {
                let _ = (data, level);
                Err(std::io::Error::other(not_included(self)))
            }
        }
    }

    /// Whether `data` starts as this compressor's output must. Bytes that do not are refused
    /// by the Python decompressor at once, so skipping them changes no outcome and saves the
    /// decoder set-up on every uncompressed value.
    pub(super) fn may_apply(self, data: &[u8]) -> bool {
        match self {
            // RFC 1950: method 8 (deflate), window at most 32 KiB, check bits.
            #[cfg(feature = "zlib")]
            Self::Zlib => match data {
                [cmf, flg, ..] => {
                    cmf & 0x0f == 8
                        && cmf >> 4 <= 7
                        && (u16::from(*cmf) * 256 + u16::from(*flg)) % 31 == 0
                }
                _ => false,
            },
            #[cfg(feature = "gzip")]
            Self::Gzip => data.starts_with(&[0x1f, 0x8b]),
            #[cfg(feature = "zstd")]
            Self::Zstd => {
                u32_le(data, 0).is_some_and(|m| m == ZSTD_MAGIC || ZSTD_SKIPPABLE.contains(&m))
            }
            #[cfg(feature = "lz4")]
            Self::Lz4 => u32_le(data, 0) == Some(LZ4_MAGIC),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = data;
                false
            }
        }
    }

    /// Decompresses `data` as django-cachex's compressor class would, producing at most `cap`
    /// bytes.
    pub(super) fn decompress(self, data: &[u8], cap: usize) -> Result<Vec<u8>, Refusal> {
        match self {
            #[cfg(feature = "zlib")]
            Self::Zlib => {
                let mut out = Vec::new();
                inflate(data, true, cap, &mut out)?;
                Ok(out)
            }
            #[cfg(feature = "gzip")]
            Self::Gzip => gunzip(data, cap),
            #[cfg(feature = "zstd")]
            Self::Zstd => {
                if data.is_empty() {
                    return Err(invalid("empty input"));
                }
                // A frame that declares more content than the cap is refused before decoding.
                if let Ok(Some(size)) = zstd::zstd_safe::get_frame_content_size(data) {
                    if size > u64::try_from(cap).unwrap_or(u64::MAX) {
                        return Err(Refusal::TooLarge);
                    }
                }
                let mut decoder =
                    zstd::stream::read::Decoder::with_buffer(data).map_err(invalid)?;
                decoder
                    .window_log_max(zstd_window_log(cap))
                    .map_err(invalid)?;
                read_capped(decoder, cap)
            }
            #[cfg(feature = "lz4")]
            Self::Lz4 => {
                if u32_le(data, 0) != Some(LZ4_MAGIC) {
                    return Err(invalid("not an LZ4 frame"));
                }
                let frame = lz4_frame_len(data)
                    .and_then(|len| data.get(..len))
                    .ok_or_else(|| invalid("truncated LZ4 frame"))?;
                read_capped(FrameDecoder::new(frame), cap)
            }
            #[allow(unreachable_patterns)]
            _ => {
                let _ = (data, cap);
                Err(invalid(not_included(self)))
            }
        }
    }
}

#[cfg(any(feature = "zlib", feature = "gzip"))]
fn deflate_level(level: i32) -> Compression {
    Compression::new(u32::try_from(level).unwrap_or(6))
}

/// The largest zstd window accepted: enough for any frame whose window fits the cap, never
/// more than zstd's own default limit (2^27, 128 MiB), so that a frame header cannot make
/// the decoder reserve more memory than the cap allows.
#[cfg(feature = "zstd")]
pub(super) fn zstd_window_log(cap: usize) -> u32 {
    let log = usize::BITS - cap.saturating_sub(1).leading_zeros();
    log.clamp(10, 27)
}

/// Reads `reader` to its end, refusing output beyond `cap`.
#[cfg(any(feature = "zstd", feature = "lz4"))]
fn read_capped(reader: impl Read, cap: usize) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(limit).read_to_end(&mut out).map_err(invalid)?;
    if out.len() > cap {
        return Err(Refusal::TooLarge);
    }
    Ok(out)
}

/// Inflates one deflate stream (zlib-wrapped or raw) from the start of `input`, appending to
/// `out` while `out` stays within `cap`. Returns how many input bytes the stream used; bytes
/// after it are left alone. A stream that does not end is truncated: refused.
#[cfg(any(feature = "zlib", feature = "gzip"))]
fn inflate(
    input: &[u8],
    zlib_header: bool,
    cap: usize,
    out: &mut Vec<u8>,
) -> Result<usize, Refusal> {
    const CHUNK: usize = 16 * 1024;
    let mut state = Decompress::new(zlib_header);
    loop {
        if out.len() > cap {
            return Err(Refusal::TooLarge);
        }
        if out.len() == out.capacity() {
            let room = (cap - out.len())
                .saturating_add(1)
                .min(out.len().max(CHUNK));
            out.reserve_exact(room);
        }
        let used = usize::try_from(state.total_in()).unwrap_or(usize::MAX);
        let rest = input.get(used..).unwrap_or_default();
        let (before_in, before_out) = (state.total_in(), state.total_out());
        let status = state
            .decompress_vec(rest, out, FlushDecompress::None)
            .map_err(invalid)?;
        match status {
            Status::StreamEnd => {
                if out.len() > cap {
                    return Err(Refusal::TooLarge);
                }
                return usize::try_from(state.total_in()).map_err(invalid);
            }
            Status::Ok | Status::BufError => {
                let stuck = state.total_in() == before_in && state.total_out() == before_out;
                if stuck && out.len() < out.capacity() {
                    return Err(invalid("truncated deflate stream"));
                }
            }
        }
    }
}

/// Python's `gzip.decompress`: members one after another, each header checked, the CRC-32 and
/// length of each checked, zero bytes allowed between and after members; nothing else may
/// follow. Empty input gives empty output.
#[cfg(feature = "gzip")]
fn gunzip(mut data: &[u8], cap: usize) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let body = gzip_header_len(data)?;
        let start = out.len();
        let used = inflate(data.get(body..).unwrap_or_default(), false, cap, &mut out)?;
        let end = body.saturating_add(used);
        let (Some(crc), Some(size)) = (u32_le(data, end), u32_le(data, end.saturating_add(4)))
        else {
            return Err(invalid("gzip member without its CRC and size"));
        };
        let member = out.get(start..).unwrap_or_default();
        let mut actual = Crc::new();
        actual.update(member);
        if actual.sum() != crc {
            return Err(invalid("gzip CRC check failed"));
        }
        if member.len() as u32 != size {
            return Err(invalid("gzip member of the wrong length"));
        }
        let rest = data.get(end.saturating_add(8)..).unwrap_or_default();
        data = match rest.iter().position(|&b| b != 0) {
            Some(first) => rest.get(first..).unwrap_or_default(),
            None => &[],
        };
    }
    Ok(out)
}

/// The length of the gzip member header at the start of `data` (RFC 1952), as Python's
/// `_read_gzip_header` reads it.
#[cfg(feature = "gzip")]
fn gzip_header_len(data: &[u8]) -> Result<usize, Refusal> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if !data.starts_with(&[0x1f, 0x8b]) {
        return Err(invalid("not a gzip file"));
    }
    let [method, flags] = data
        .get(2..4)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .ok_or_else(|| invalid("truncated gzip header"))?;
    if method != 8 {
        return Err(invalid("unknown gzip compression method"));
    }
    if data.len() < GZIP_HEADER {
        return Err(invalid("truncated gzip header"));
    }
    let mut at = GZIP_HEADER;
    if flags & FEXTRA != 0 {
        let len = data
            .get(at..at + 2)
            .map(|b| usize::from(b[0]) | usize::from(b[1]) << 8)
            .ok_or_else(|| invalid("truncated gzip header"))?;
        at += 2 + len;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            // A zero-terminated string; Python stops at the end of the data too.
            at += data
                .get(at..)
                .unwrap_or_default()
                .iter()
                .position(|&b| b == 0)
                .map_or(data.len(), |nul| nul + 1);
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    if at > data.len() {
        return Err(invalid("truncated gzip header"));
    }
    Ok(at)
}

/// The length of the LZ4 frame at the start of `data`, walked from its header and block
/// sizes; `None` if the data ends inside it.
#[cfg(feature = "lz4")]
fn lz4_frame_len(data: &[u8]) -> Option<usize> {
    const BLOCK_CHECKSUM: u8 = 0x10;
    const CONTENT_SIZE: u8 = 0x08;
    const CONTENT_CHECKSUM: u8 = 0x04;
    const DICT_ID: u8 = 0x01;
    let flags = *data.get(4)?;
    let mut at: usize = 6; // magic, FLG, BD
    if flags & CONTENT_SIZE != 0 {
        at += 8;
    }
    if flags & DICT_ID != 0 {
        at += 4;
    }
    at += 1; // header checksum
    loop {
        let size = u32_le(data, at)?;
        at = at.checked_add(4)?;
        if size == 0 {
            break;
        }
        at = at.checked_add(usize::try_from(size & 0x7fff_ffff).ok()?)?;
        if flags & BLOCK_CHECKSUM != 0 {
            at = at.checked_add(4)?;
        }
    }
    if flags & CONTENT_CHECKSUM != 0 {
        at = at.checked_add(4)?;
    }
    (at <= data.len()).then_some(at)
}
