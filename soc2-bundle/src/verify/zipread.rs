//! A small, defensive reader of zip structure for verification.
//!
//! The general-purpose `zip` crate keys entries by (lossily decoded) name, which hides duplicate
//! and non-UTF-8 names, so the verifier reads the central directory itself: raw names, flags,
//! sizes, ZIP64 fields, and the local header of each entry it streams.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

/// Why the archive's structure could not be read.
pub(crate) enum ParseError {
    /// Reading the file failed.
    Io(io::Error),
    /// The bytes are not a (supported) zip archive.
    Malformed(String),
    /// The archive declares more entries than allowed.
    TooManyEntries(u64),
}

impl From<io::Error> for ParseError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            ParseError::Malformed("unexpected end of file".into())
        } else {
            ParseError::Io(e)
        }
    }
}

/// One central-directory record.
#[derive(Clone, Debug)]
pub(crate) struct CdEntry {
    pub name: Vec<u8>,
    pub made_by_system: u8,
    pub flags: u16,
    pub method: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub size: u64,
    pub local_header_offset: u64,
    pub external_attr: u32,
}

impl CdEntry {
    pub fn is_symlink(&self) -> bool {
        // Unix "made by" systems carry the st_mode in the high 16 bits.
        self.made_by_system == 3 && (self.external_attr >> 16) & 0o170000 == 0o120000
    }
    pub fn is_encrypted(&self) -> bool {
        self.flags & 0x0001 != 0 || self.flags & 0x0040 != 0 || self.method == 99
    }
    pub fn is_dir(&self) -> bool {
        self.name.last() == Some(&b'/')
    }
}

/// The parsed central directory.
pub(crate) struct CentralDirectory {
    pub entries: Vec<CdEntry>,
    /// Where the central directory starts: entry data must end before it.
    pub cd_offset: u64,
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?))
}

fn malformed(s: &str) -> ParseError {
    ParseError::Malformed(s.to_string())
}

/// Reads the central directory, refusing more than `max_entries` entries or a central directory
/// larger than `max_cd_bytes` before allocating for it.
pub(crate) fn read_central_directory(
    file: &mut File,
    max_entries: u64,
    max_cd_bytes: u64,
) -> Result<CentralDirectory, ParseError> {
    let len = file.seek(SeekFrom::End(0))?;
    if len < 22 {
        return Err(malformed("too short to be a zip archive"));
    }
    let tail_len = len.min(22 + 65535);
    let mut tail = vec![0u8; tail_len as usize];
    file.seek(SeekFrom::Start(len - tail_len))?;
    file.read_exact(&mut tail)?;
    let eocd_rel = (0..=tail.len() - 22)
        .rev()
        .find(|&i| tail[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or_else(|| malformed("no end-of-central-directory record"))?;
    let eocd_pos = len - tail_len + eocd_rel as u64;
    let e = &tail[eocd_rel..];
    let field = |o| u16_at(e, o).ok_or_else(|| malformed("truncated end record"));
    let disk = field(4)?;
    let cd_disk = field(6)?;
    let mut total = u64::from(field(10)?);
    let mut cd_size = u64::from(u32_at(e, 12).ok_or_else(|| malformed("truncated end record"))?);
    let mut cd_offset = u64::from(u32_at(e, 16).ok_or_else(|| malformed("truncated end record"))?);
    let comment_len = u64::from(field(20)?);
    if eocd_pos + 22 + comment_len != len {
        return Err(malformed(
            "trailing bytes after the end-of-central-directory record",
        ));
    }
    if disk != 0 || cd_disk != 0 {
        return Err(malformed("multi-disk archives are not supported"));
    }
    if total == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        // ZIP64: the locator sits just before the end record.
        if eocd_pos < 20 {
            return Err(malformed("ZIP64 locator missing"));
        }
        let mut loc = [0u8; 20];
        file.seek(SeekFrom::Start(eocd_pos - 20))?;
        file.read_exact(&mut loc)?;
        if loc[..4] != [0x50, 0x4b, 0x06, 0x07] {
            return Err(malformed("ZIP64 locator missing"));
        }
        let z64_pos = u64_at(&loc, 8).ok_or_else(|| malformed("bad ZIP64 locator"))?;
        if z64_pos.checked_add(56).is_none_or(|end| end > eocd_pos) {
            return Err(malformed("ZIP64 end record out of range"));
        }
        let mut z = [0u8; 56];
        file.seek(SeekFrom::Start(z64_pos))?;
        file.read_exact(&mut z)?;
        if z[..4] != [0x50, 0x4b, 0x06, 0x06] {
            return Err(malformed("bad ZIP64 end record signature"));
        }
        let bad = || malformed("bad ZIP64 end record");
        total = u64_at(&z, 32).ok_or_else(bad)?;
        cd_size = u64_at(&z, 40).ok_or_else(bad)?;
        cd_offset = u64_at(&z, 48).ok_or_else(bad)?;
    }
    if total > max_entries {
        return Err(ParseError::TooManyEntries(total));
    }
    if cd_size > max_cd_bytes
        || cd_offset
            .checked_add(cd_size)
            .is_none_or(|end| end > eocd_pos)
    {
        return Err(malformed("central directory out of range or too large"));
    }
    let mut cd = vec![0u8; cd_size as usize];
    file.seek(SeekFrom::Start(cd_offset))?;
    file.read_exact(&mut cd)?;

    let mut entries = Vec::with_capacity(total.min(1 << 16) as usize);
    let mut p = 0usize;
    for _ in 0..total {
        let bad = || malformed("truncated central directory record");
        if u32_at(&cd, p).ok_or_else(bad)? != 0x0201_4b50 {
            return Err(malformed("bad central directory record signature"));
        }
        let made_by = u16_at(&cd, p + 4).ok_or_else(bad)?;
        let flags = u16_at(&cd, p + 8).ok_or_else(bad)?;
        let method = u16_at(&cd, p + 10).ok_or_else(bad)?;
        let crc32 = u32_at(&cd, p + 16).ok_or_else(bad)?;
        let mut compressed_size = u64::from(u32_at(&cd, p + 20).ok_or_else(bad)?);
        let mut size = u64::from(u32_at(&cd, p + 24).ok_or_else(bad)?);
        let name_len = usize::from(u16_at(&cd, p + 28).ok_or_else(bad)?);
        let extra_len = usize::from(u16_at(&cd, p + 30).ok_or_else(bad)?);
        let comment_len = usize::from(u16_at(&cd, p + 32).ok_or_else(bad)?);
        let external_attr = u32_at(&cd, p + 38).ok_or_else(bad)?;
        let mut local_header_offset = u64::from(u32_at(&cd, p + 42).ok_or_else(bad)?);
        let name = cd.get(p + 46..p + 46 + name_len).ok_or_else(bad)?.to_vec();
        let extra = cd
            .get(p + 46 + name_len..p + 46 + name_len + extra_len)
            .ok_or_else(bad)?;
        // ZIP64 extended information: only the fields whose 32-bit value is saturated, in order.
        let mut q = 0usize;
        while q + 4 <= extra.len() {
            let id = u16_at(extra, q).ok_or_else(bad)?;
            let sz = usize::from(u16_at(extra, q + 2).ok_or_else(bad)?);
            let body = extra.get(q + 4..q + 4 + sz).ok_or_else(bad)?;
            if id == 0x0001 {
                let mut r = 0usize;
                let mut take = |v: &mut u64| -> Result<(), ParseError> {
                    if *v == 0xFFFF_FFFF {
                        *v = u64_at(body, r).ok_or_else(|| malformed("short ZIP64 extra field"))?;
                        r += 8;
                    }
                    Ok(())
                };
                take(&mut size)?;
                take(&mut compressed_size)?;
                take(&mut local_header_offset)?;
            }
            q += 4 + sz;
        }
        entries.push(CdEntry {
            name,
            made_by_system: (made_by >> 8) as u8,
            flags,
            method,
            crc32,
            compressed_size,
            size,
            local_header_offset,
            external_attr,
        });
        p += 46 + name_len + extra_len + comment_len;
    }
    Ok(CentralDirectory { entries, cd_offset })
}

/// Reads an entry's local header and returns where its data starts, checking the local name
/// agrees with the central directory.
pub(crate) fn data_start(file: &mut File, e: &CdEntry) -> Result<u64, ParseError> {
    let mut h = [0u8; 30];
    file.seek(SeekFrom::Start(e.local_header_offset))?;
    file.read_exact(&mut h)?;
    if h[..4] != [0x50, 0x4b, 0x03, 0x04] {
        return Err(malformed("bad local header signature"));
    }
    let name_len = u64::from(u16_at(&h, 26).unwrap_or(0));
    let extra_len = u64::from(u16_at(&h, 28).unwrap_or(0));
    let mut name = vec![0u8; name_len as usize];
    file.read_exact(&mut name)?;
    if name != e.name {
        return Err(malformed(
            "local header name differs from the central directory",
        ));
    }
    Ok(e.local_header_offset + 30 + name_len + extra_len)
}

/// A reader over the underlying file that remembers whether an I/O error (as opposed to a
/// decoding error) happened, so the verifier can tell a broken disk from a broken archive.
pub(crate) struct TrackedFile<'a> {
    pub inner: io::Take<BufReader<&'a mut File>>,
    pub io_error: Option<io::ErrorKind>,
}

impl Read for TrackedFile<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            self.io_error = Some(e.kind());
        })
    }
}
