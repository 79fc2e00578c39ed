//! Fuzzing the C ABI of `mmap_ffi`: one input is a sequence of calls to the exports with
//! arbitrary lengths, flags, descriptors, offsets, names and out buffers, and arbitrary
//! addresses and ids handed to unmap, hold, sync, advise, lock, protect, residency, resize,
//! move, retire and the release callback.
//!
//! The driver models the registry: every mapping it was handed, with its hold count (1 when
//! made; `hold` adds one, `unmap` and `release` drop one, the range goes with the last), whether
//! it is retired, its flags, protection, a byte it wrote, and what its pages come from (the
//! source a resize names, the file's offset and identity, whether it is a device). A retired
//! mapping (after `retire`, or the old side of a `move` that had to copy) keeps its range, reads
//! zeros and may be touched, but only `unmap` and `release` still take it; everything else must
//! refuse it. A resize makes a new mapping and keeps the old one; when it reports
//! `out[OUT_COUNT]` 1 (a private or anonymous mapping) the old one has an extra hold and the new
//! one waits for `mmap_ffi_move` of exactly that pair. The driver sometimes drops its own hold
//! first, sometimes moves while still holding it, sometimes changes the protection of either
//! side or advises the kernel about the old one first (`MADV_DONTNEED` drops the page-table
//! entries of shared anonymous memory, not its data), sometimes leaves the pair for a later
//! step. The move must remove the old mapping when only the resize's hold was left, and retire
//! it with one hold fewer otherwise; the new mapping then has the old one's protection (as it
//! was at the move).
//!
//! The map calls: `mmap_ffi_map_fd` (anonymous memory, the fixture's descriptors, numbers that
//! are not open), `mmap_ffi_map_path` (the run's files, a file to create, the FIFO, /dev/zero,
//! the directory, random names), `mmap_ffi_map_shm`, and `mmap_ffi_map_file` of a descriptor the
//! driver opens for the call (a file of the run read/write, read-only or write-only, a
//! shared-memory object, the FIFO `O_RDONLY | O_NONBLOCK`, /dev/zero, the directory), of one of
//! the fixture's, or a closed or negative number. A resize names its source by path or name, or
//! (`SOURCE_DESCRIPTOR`) by a descriptor the driver opens for the call the same ways: mostly of
//! the mapping's own file or object, sometimes of another one; other source kinds get a stray
//! `fd`, which the library must ignore. The driver closes every descriptor it opened after the
//! call. After every call:
//!
//! - a map or resize call gives the status the model predicts from its arguments and from the
//!   state of the file or descriptor just before (`fstat`, `fcntl(F_GETFL)`, `stat` of the path
//!   or of the object in /dev/shm), in the library's order of checks: `INVALID_ARGUMENT` for bad
//!   out slots, names, flags, a negative descriptor for `SOURCE_DESCRIPTOR`, `MAP_ANONYMOUS` for
//!   `map_file`; the errno and system call of a failed open, `shm_open`, `fstat` (`map_fd`,
//!   `map_file`) or `fcntl` (a resize's descriptor); `NOT_A_FILE` for anything but a regular
//!   file by path or `map_file`; `SIZE_UNKNOWN`; `SOURCE_REPLACED` for a source that is not the
//!   mapped file (device and inode); `CANNOT_GROW`, `DEVICE_CANNOT_GROW`; `PAST_END_OF_FILE`
//!   for an offset past the end (length 0 too) or a range reaching past it, `EMPTY_FILE` for
//!   length 0 exactly at the end, each with the size (after growing to `grow_to`) in
//!   `out[OUT_FILE_SIZE]`; else a mapping of the expected length, which leaves the file the
//!   expected size, or an errno where the kernel says no;
//! - a map or resize call that fails leaves the run's files (the temp directory) and
//!   shared-memory objects exactly as they were: none created, removed, replaced or resized
//!   (but see `EMPTY_CREATION_KEPT`); one that succeeds creates or grows at most its own file or
//!   object;
//! - a descriptor given to `map_file` or a resize is still open afterwards, on the same file (a
//!   number that was not open is still not open);
//! - a call on an (address, id) pair this library did not hand out, or already unmapped, is
//!   refused (`ERR_MMAP_NOT_LIVE`, or `ERR_MMAP_INVALID_ARGUMENT` when another argument is bad
//!   first) and changes nothing; so is any call but unmap and release on a retired mapping;
//! - a move of any pair but a resize's, not yet moved, is refused and changes nothing (neither
//!   the registry, nor the holds, nor the protection or the bytes of either side): with
//!   `ERR_MMAP_NOT_LIVE` when the old side, else the new side, is not live (foreign, stale,
//!   retired), else with `ERR_MMAP_INVALID_ARGUMENT` (two unrelated mappings, the pair the wrong
//!   way round, a mapping with itself);
//! - a move of a resize's pair succeeds, or fails with an errno and changes nothing (a copy
//!   makes the new range writable, which can fail with ENOMEM for a huge private mapping); the
//!   pair can then still be moved;
//! - the library never writes past the buffers it is given (canary bytes after each);
//! - every status is 0, a positive errno, or a library code (-13..=-1) `mmap_ffi_describe`
//!   names, and every system call number it writes is one it names;
//! - `mmap_ffi_live_count` equals the mappings of the model, retired ones included, and
//!   `mmap_ffi_retired_count` the retired ones;
//! - the pages of every mapping made or moved have the protection the model records (what the
//!   registry records: a later resize maps with it);
//! - a byte written before a resize is in the new mapping (right away for a shared file or
//!   shared memory, after the move otherwise), within the smaller length, and so are the bytes
//!   the driver read from the old mapping just before the move (not for a shared mapping of a
//!   device: see `SHARED_DEVICE_RESIZE_KEEPS_DATA`);
//! - a byte written since is still there, and a retired mapping reads zeros where the driver
//!   did not write.
//!
//! Three switches record what the library does today where it departs from these rules:
//! `EMPTY_CREATION_KEPT` (a created file or object found empty is kept, on purpose),
//! `SHARED_DEVICE_RESIZE_KEEPS_DATA` (a resized shared /dev/zero mapping loses its bytes) and
//! `DANGLING_LINK` (map by path with `OPEN_CREATE` through a dangling symbolic link leaves the
//! target it created when it fails; the link is offered only when this is on).
//!
//! After every input every hold the model counts is dropped, one by one (the range must go
//! with the last, not before), the registry must be empty, `/proc/self/maps` must name none of
//! the files, and no descriptor may be left open.
//!
//! The driver reads but never writes a new mapping that waits for its move: its data is the
//! old one's, and the move may replace its pages (mremap) or copy only the pages of the old one
//! that hold data of their own. A move that may copy more than `COPY_LIMIT` bytes is not made:
//! a copy takes time (and a byte of memory a page) in proportion to the length, and 2^46 bytes
//! of address space are cheap to map.
//!
//! Everything happens in a private temp directory (with a FIFO, `fd-fifo`) and under the run's
//! shared-memory prefix; the descriptors offered are ones the driver opened (files, a
//! directory, a pipe, a FIFO, `/dev/zero`) or numbers that are not open, and the only file
//! outside the directory named by path is /dev/zero (which a map by path must refuse), so a
//! mapping never reaches a file outside it.

use std::collections::{BTreeMap, HashSet};
use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use mmap_ffi::*;

// Library statuses (src/status.rs); checked against `mmap_ffi_constants` and
// `mmap_ffi_describe` at start-up.
const INVALID_ARGUMENT: i32 = -1;
const PAST_END_OF_FILE: i32 = -2;
const EMPTY_FILE: i32 = -3;
const NOT_LIVE: i32 = -4;
const SIZE_UNKNOWN: i32 = -7;
const ADDRESS_TOO_HIGH: i32 = -8;
const CANNOT_GROW: i32 = -9;
const SOURCE_REPLACED: i32 = -10;
const DEVICE_CANNOT_GROW: i32 = -11;
const MAPPING_LIMIT: i32 = -12;
const NOT_A_FILE: i32 = -13;
const LIBRARY_CODES: std::ops::RangeInclusive<i32> = -13..=-1;

const OUT_SLOTS: usize = 6;
const OUT_ADDRESS: usize = 0;
const OUT_LENGTH: usize = 1;
const OUT_ID: usize = 2;
const OUT_FILE_SIZE: usize = 3;
const OUT_SYSCALL: usize = 4;
const OUT_COUNT: usize = 5;
const SOURCE_ANONYMOUS: u32 = 0;
const SOURCE_FILE: u32 = 1;
const SOURCE_SHM: u32 = 2;
const SOURCE_DESCRIPTOR: u32 = 3;
const OPEN_WRITE: u32 = 1;
const OPEN_CREATE: u32 = 2;
const OPEN_EXCLUSIVE: u32 = 4;
/// The largest length or offset the library takes (addresses travel as JavaScript numbers).
const MAX_EXACT: u64 = 1 << 53;
/// The `mmap` flags and protection the library takes (src/unix.rs).
const ALLOWED_MAP_FLAGS: i32 = libc::MAP_SHARED
    | libc::MAP_PRIVATE
    | libc::MAP_ANONYMOUS
    | libc::MAP_NORESERVE
    | libc::MAP_POPULATE;
const ALLOWED_PROT: i32 = libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC;
const CANARY: u8 = 0xA5;
const CANARY_LEN: usize = 64;
const READ_WRITE: i32 = libc::PROT_READ | libc::PROT_WRITE;
/// The most a move may have to copy: a copy reads `/proc/self/pagemap` and keeps a byte a
/// page, in proportion to the length (a second for 1 TiB), and a mapping of 2^46 bytes is cheap
/// to make. Large enough that making a private copy target writable can fail (ENOMEM).
const COPY_LIMIT: usize = 64 << 30;

/// Calls made into the library so far (each step is one call, or one touch of memory, and a
/// resize may be followed by an unmap and a move).
pub static CALLS: AtomicU64 = AtomicU64::new(0);

/// Mappings made so far (successful map and resize calls).
pub static MAPPED: AtomicU64 = AtomicU64::new(0);

/// Successful `mmap_ffi_move` calls so far.
pub static MOVED: AtomicU64 = AtomicU64::new(0);

/// `mmap_ffi_move` calls refused as the model expects (a pair that is not a resize's, or not
/// live).
pub static MOVES_REFUSED: AtomicU64 = AtomicU64::new(0);

/// Moves of a resize's pair that failed with an errno and changed nothing.
pub static MOVES_FAILED: AtomicU64 = AtomicU64::new(0);

/// Map and resize calls that failed, each checked to leave the run's files and shared-memory
/// objects as they were.
pub static FAILED_MAPS: AtomicU64 = AtomicU64::new(0);

/// Calls given a descriptor the driver opened for them (`mmap_ffi_map_file`, and resizes with
/// `SOURCE_DESCRIPTOR`).
pub static DESCRIPTOR_CALLS: AtomicU64 = AtomicU64::new(0);

/// Calls whose status the model predicted exactly (a refusal, or a mapping of the length and
/// file size it expects).
pub static PREDICTED: AtomicU64 = AtomicU64::new(0);

/// Reads an input as a stream of choices; past its end every read is 0.
struct Input<'a> {
    data: &'a [u8],
    at: usize,
    /// This step draws plausible arguments only (three steps in four), so calls get past the
    /// argument checks often enough to reach the system calls.
    sane: bool,
}

impl Input<'_> {
    fn u8(&mut self) -> u8 {
        let byte = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        byte
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::from(self.u8()) % n
    }
    fn done(&self) -> bool {
        self.at >= self.data.len()
    }
    /// A byte count: mostly small or page-sized, sometimes hostile.
    fn count(&mut self, page: u64) -> u64 {
        if self.sane {
            return match self.below(4) {
                0 => 0,
                1 => u64::from(self.u32() % (3 * page as u32)),
                _ => page * u64::from(1 + self.u8() % 3),
            };
        }
        match self.below(10) {
            0 | 1 => 0,
            2..=4 => u64::from(self.u32() % 4096),
            5 | 6 => page * u64::from(self.u8() % 6),
            7 => page * u64::from(self.u8() % 6) + u64::from(self.u8()),
            8 => [
                1 << 53,
                (1 << 53) + 1,
                1 << 46,
                1 << 35,
                u64::MAX,
                u64::MAX - page + 1,
            ][self.below(6)],
            _ => self.u64(),
        }
    }
    /// An offset: mostly 0 or page-aligned, sometimes unaligned or hostile.
    fn offset(&mut self, page: u64) -> u64 {
        if self.sane {
            return page * u64::from(self.u8() % 3) * u64::from(self.u8() % 2);
        }
        match self.below(10) {
            0..=4 => 0,
            5 | 6 => page * u64::from(self.u8() % 4),
            7 => u64::from(self.u32() % (4 * page as u32)),
            8 => [1 << 53, u64::MAX, u64::MAX - page + 1, 1 << 63][self.below(4)],
            _ => self.u64(),
        }
    }
    fn prot(&mut self) -> i32 {
        const CHOICES: [i32; 6] = [
            libc::PROT_READ,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::PROT_NONE,
            libc::PROT_READ | libc::PROT_EXEC,
            libc::PROT_WRITE,
            libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
        ];
        if self.sane {
            CHOICES[self.below(2)]
        } else if self.below(8) == 0 {
            self.u32() as i32
        } else {
            CHOICES[self.below(CHOICES.len())]
        }
    }
    fn map_flags(&mut self) -> i32 {
        const CHOICES: [i32; 7] = [
            libc::MAP_SHARED,
            libc::MAP_PRIVATE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            libc::MAP_PRIVATE | libc::MAP_NORESERVE,
            libc::MAP_SHARED | libc::MAP_POPULATE,
            libc::MAP_SHARED | libc::MAP_PRIVATE,
        ];
        if self.sane {
            return CHOICES[self.below(2)];
        }
        match self.below(10) {
            0 => self.u32() as i32,
            1 => libc::MAP_SHARED | libc::MAP_FIXED,
            _ => CHOICES[self.below(CHOICES.len())],
        }
    }
}

/// A mapping the library handed out and has not unmapped yet (live or retired), as the driver
/// knows it.
#[derive(Clone, Debug)]
struct Mapping {
    address: usize,
    id: u64,
    length: usize,
    /// The `PROT_*` bits, as the registry records them and the pages have them.
    prot: i32,
    /// The `mmap` flags it was made with (a resize keeps them).
    flags: i32,
    /// False for the one mapping the library cannot check: a shared mapping of a device
    /// (/dev/zero here) at a non-zero offset, whose pages past what the device provides raise
    /// SIGBUS (README: "What the OS makes unavoidable").
    touchable: bool,
    /// Holds the library keeps for it; the range goes with the last.
    holds: u32,
    /// Its pages were replaced by zero pages; only unmap and release take it now.
    retired: bool,
    /// Retired, and reads zeros except at `mark`.
    zeroed: bool,
    /// A byte the driver wrote (offset, value) and must read back, kept only while nothing
    /// else can change it: a private, anonymous or retired mapping, and no advice since.
    mark: Option<(usize, u8)>,
    /// The new mapping of a resize that waits for a move: the old mapping's pair.
    origin: Option<(usize, u64)>,
    /// A lock or advice may have split its range, so mremap cannot move it and a move copies.
    split: bool,
    /// What the pages come from (a resize keeps it).
    backing: Backing,
}

/// What a mapping's pages come from, as a resize must name and the library checks it.
#[derive(Clone, Debug)]
struct Backing {
    /// What a resize names as its source.
    source: SourceOf,
    /// Where the mapping starts in its file (0 for anonymous memory).
    offset: u64,
    /// The file's device and inode, as the library records them (`None` for anonymous memory).
    identity: Option<(u64, u64)>,
    /// The file is not a regular file (a device such as /dev/zero): its shared pages are not in
    /// a file a new mapping would find again.
    device: bool,
}

impl Backing {
    fn anonymous() -> Backing {
        Backing {
            source: SourceOf::Anonymous,
            offset: 0,
            identity: None,
            device: false,
        }
    }

    /// A mapping of the file open as `fd` (probed before the call) from `offset`.
    fn of(source: SourceOf, offset: u64, probe: Option<Probe>) -> Backing {
        Backing {
            source,
            offset,
            identity: probe.map(|probe| probe.identity),
            device: probe.is_some_and(|probe| !probe.regular),
        }
    }
}

/// Where a mapping's pages come from, by a name a resize can give (or open itself).
#[derive(Clone, Debug, PartialEq, Eq)]
enum SourceOf {
    Anonymous,
    /// A file by path: mapped by path, or through a descriptor the driver opened from it.
    File(Vec<u8>),
    /// A shared-memory object by name.
    Shm(Vec<u8>),
    /// A descriptor of a file the driver knows no name for.
    Unnamed,
}

impl Mapping {
    fn pair(&self) -> (usize, u64) {
        (self.address, self.id)
    }
    fn readable(&self) -> bool {
        self.touchable && self.length > 0 && self.prot & READ_WRITE != 0
    }
}

/// Whether resizing a mapping with these flags is finished by `mmap_ffi_move` (all but a shared
/// mapping of a file or shared-memory object), as the library decides.
fn moves_pages(flags: i32) -> bool {
    flags & libc::MAP_SHARED == 0 || flags & libc::MAP_ANONYMOUS != 0
}

/// `/proc/self/maps` (a shared-memory name may not be UTF-8).
fn proc_maps() -> String {
    let maps = std::fs::read("/proc/self/maps").expect("/proc/self/maps");
    String::from_utf8_lossy(&maps).into_owned()
}

/// The lines of `/proc/self/maps` around `length` bytes from `address` (for messages).
fn maps_lines(address: usize, length: usize, page: usize) -> String {
    let (start, end) = (address.saturating_sub(page), address + length + page);
    let maps = proc_maps();
    maps.lines()
        .filter(|line| {
            let range = line.split_whitespace().next().unwrap_or("");
            let (low, high) = range.split_once('-').unwrap_or(("0", "0"));
            let low = usize::from_str_radix(low, 16).unwrap_or(0);
            let high = usize::from_str_radix(high, 16).unwrap_or(0);
            high > start && low < end
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The protection of the pages `length` bytes from `address` span, from `/proc/self/maps`;
/// `None` if they are not all mapped alike.
fn actual_prot(address: usize, length: usize, page: usize) -> Option<i32> {
    let start = address - address % page;
    let end = (address + length.max(1)).div_ceil(page) * page;
    let maps = proc_maps();
    let mut found = None;
    let mut covered = start;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((low, high)) = range.split_once('-') else {
            continue;
        };
        let (Ok(low), Ok(high)) = (
            usize::from_str_radix(low, 16),
            usize::from_str_radix(high, 16),
        ) else {
            continue;
        };
        if high <= start || low >= end {
            continue;
        }
        let perms = perms.as_bytes();
        let mut prot = libc::PROT_NONE;
        for (at, (letter, bit)) in [
            (b'r', libc::PROT_READ),
            (b'w', libc::PROT_WRITE),
            (b'x', libc::PROT_EXEC),
        ]
        .into_iter()
        .enumerate()
        {
            if perms.get(at) == Some(&letter) {
                prot |= bit;
            }
        }
        if low > covered || found.is_some_and(|found| found != prot) {
            return None;
        }
        found = Some(prot);
        covered = high;
    }
    found.filter(|_| covered >= end)
}

/// What `fstat` and `fcntl(F_GETFL)` say about a descriptor just before a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Probe {
    regular: bool,
    directory: bool,
    size: u64,
    readable: bool,
    writable: bool,
    identity: (u64, u64),
}

/// Probes `fd`; `None` if it is not open.
fn probe(fd: i32) -> Option<Probe> {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a `stat` or fails (EBADF for a number that is not open).
    if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstat succeeded.
    let stat = unsafe { stat.assume_init() };
    // SAFETY: F_GETFL only reads the descriptor's flags.
    let access = unsafe { libc::fcntl(fd, libc::F_GETFL) } & libc::O_ACCMODE;
    Some(Probe {
        regular: stat.st_mode & libc::S_IFMT == libc::S_IFREG,
        directory: stat.st_mode & libc::S_IFMT == libc::S_IFDIR,
        size: stat.st_size as u64,
        readable: access != libc::O_WRONLY,
        writable: access != libc::O_RDONLY,
        identity: (stat.st_dev, stat.st_ino),
    })
}

/// Probes the file at `path` as an open with write access `writable` would find it, or the
/// errno `stat` gives (the one an open without O_CREAT gives too).
fn probe_path(path: &Path, writable: bool) -> Result<Probe, i32> {
    let meta = std::fs::metadata(path).map_err(|error| error.raw_os_error().unwrap_or(0))?;
    Ok(Probe {
        regular: meta.is_file(),
        directory: meta.is_dir(),
        size: meta.len(),
        readable: true,
        writable,
        identity: (meta.dev(), meta.ino()),
    })
}

/// Whether `open`/`shm_open` with write access `writable` is allowed by the permission bits of
/// an existing file (always for root).
fn permitted(path: &Path, writable: bool) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    let mode = std::fs::metadata(path).map_or(0, |meta| meta.mode());
    mode & 0o400 != 0 && (!writable || mode & 0o200 != 0)
}

/// A path from its bytes.
fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(bytes))
}

/// Where a shared-memory object lives in the file system (Linux: `/dev/shm`), if its name is
/// one `shm_open` takes (no `/` after the leading ones).
fn shm_path(name: &[u8]) -> Option<PathBuf> {
    let rest = &name[name.iter().take_while(|byte| **byte == b'/').count()..];
    if rest.is_empty() || rest.contains(&b'/') || rest.len() > 255 {
        return None;
    }
    Some(Path::new("/dev/shm").join(OsStr::from_bytes(rest)))
}

/// The system call `mmap_ffi_describe` names for a number written to `out[OUT_SYSCALL]`.
fn syscall_name(number: f64) -> String {
    let mut buf = [0u8; 256];
    let len = unsafe { mmap_ffi_describe(libc::EIO, number as i32, buf.as_mut_ptr(), buf.len()) };
    let text = String::from_utf8_lossy(&buf[..(len as usize).min(buf.len())]).into_owned();
    text.split('\t').nth(1).unwrap_or("").to_string()
}

/// A descriptor handed to a call: one the driver opened (closed when this is dropped), one of
/// the fixture's, or a number that is not open.
struct Descriptor {
    fd: i32,
    _owned: Option<OwnedFd>,
    /// What a resize may name as the source of a mapping of it.
    source: SourceOf,
}

impl Descriptor {
    /// Opens a file (never blocking: a FIFO too) or shared-memory object with `access`
    /// (`O_RDWR`, `O_RDONLY` or `O_WRONLY`); a closed number if that fails.
    fn open(source: SourceOf, access: i32) -> Descriptor {
        let fd = match &source {
            SourceOf::File(path) => CString::new(path.clone()).map_or(-1, |path| {
                let how = access | libc::O_CLOEXEC | libc::O_NONBLOCK;
                unsafe { libc::open(path.as_ptr(), how) }
            }),
            SourceOf::Shm(name) => CString::new(name.clone()).map_or(-1, |name| unsafe {
                libc::shm_open(name.as_ptr(), access, 0)
            }),
            _ => -1,
        };
        if fd < 0 {
            return Descriptor::closed();
        }
        Descriptor {
            fd,
            // SAFETY: just opened, and owned by nothing else.
            _owned: Some(unsafe { OwnedFd::from_raw_fd(fd) }),
            source,
        }
    }

    /// A number that was open a moment ago and is not now.
    fn closed() -> Descriptor {
        let file = std::fs::File::open("/dev/null").expect("/dev/null");
        let fd = file.as_raw_fd();
        drop(file);
        Descriptor::number(fd)
    }

    fn number(fd: i32) -> Descriptor {
        Descriptor {
            fd,
            _owned: None,
            source: SourceOf::Unnamed,
        }
    }

    /// After a call: the descriptor is still open on the same file (the caller's), or still
    /// not open.
    fn check_kept(&self, before: Option<Probe>, what: &str) {
        let after = probe(self.fd);
        assert_eq!(
            after.map(|file| file.identity),
            before.map(|file| file.identity),
            "{what} closed or replaced descriptor {} (open before: {})",
            self.fd,
            before.is_some()
        );
    }
}

/// What the model expects of a map or resize call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Exactly this library refusal.
    Refused(i32),
    /// A refusal about the size of the file: the status, and the size in `out[OUT_FILE_SIZE]`.
    Size(i32, u64),
    /// This errno, from this system call.
    Os(i32, &'static str),
    /// Some errno.
    Errno,
    /// A mapping of `length` bytes, which leaves a regular file `size` bytes long; or, when
    /// memory or the kernel says no, an errno or the mapping limit.
    Maps { length: usize, size: Option<u64> },
    /// Not predicted: any known status.
    Unknown,
}

/// The library's `check_request`.
fn request_valid(length: usize, prot: i32, flags: i32, offset: u64) -> bool {
    let sharing = [libc::MAP_SHARED, libc::MAP_PRIVATE]
        .iter()
        .filter(|flag| flags & **flag == **flag)
        .count();
    flags & !ALLOWED_MAP_FLAGS == 0
        && sharing == 1
        && prot & !ALLOWED_PROT == 0
        && length as u64 <= MAX_EXACT
        && offset <= MAX_EXACT
}

/// Mapping `length` bytes (0: to the end) from `offset` of a regular file of `size` bytes: past
/// the end is refused, also for length 0 (an offset exactly at the end with length 0 is an
/// empty file).
fn fitted(length: usize, offset: u64, size: u64) -> Expect {
    if offset > size {
        return Expect::Size(PAST_END_OF_FILE, size);
    }
    if length == 0 {
        if offset == size {
            return Expect::Size(EMPTY_FILE, size);
        }
        let rest = size - offset;
        if rest > MAX_EXACT {
            return Expect::Size(INVALID_ARGUMENT, size);
        }
        return Expect::Maps {
            length: rest as usize,
            size: Some(size),
        };
    }
    if offset + length as u64 > size {
        return Expect::Size(PAST_END_OF_FILE, size);
    }
    Expect::Maps {
        length,
        size: Some(size),
    }
}

/// Growing the regular file `opened` to `grow_to` bytes (0: never) if that is larger, then
/// mapping it: the size it has then, or the errno growing it fails with.
fn grown(opened: Probe, grow_to: u64) -> Result<u64, Expect> {
    if !opened.regular || grow_to <= opened.size {
        return Ok(opened.size);
    }
    if !opened.writable || grow_to > i64::MAX as u64 {
        return Err(Expect::Errno);
    }
    if grow_to > 1 << 40 {
        return Err(Expect::Unknown);
    }
    Ok(grow_to)
}

/// Whether a map by name that creates a file or object and finds it empty (`EMPTY_FILE`: length
/// 0 at offset 0, or at the size it was grown to) leaves it created, empty, as src/mapping.rs
/// `map_opened` now does on purpose ("the caller may take it as an empty mapping"). Every other
/// failure must leave the run's files exactly as they were. `false` holds the library to that for
/// `EMPTY_FILE` too.
const EMPTY_CREATION_KEPT: bool = true;

/// Whether resizing a shared mapping of a device (/dev/zero) carries its bytes over. It does not
/// (yet): the library maps the device anew as it would a file and says the new mapping is
/// complete (status 0, `out[OUT_COUNT]` 0), but each shared mapping of /dev/zero is new zero
/// memory, so what was written is lost. `true` holds the library to carrying the bytes.
const SHARED_DEVICE_RESIZE_KEEPS_DATA: bool = false;

/// Whether map by path is offered a dangling symbolic link (`fd-link` to `link-target` in the
/// run's directory). Off: with `OPEN_CREATE` (not exclusive) the library's last open creates the
/// target without knowing it did, so a failure leaves it behind (reported). `true` holds the
/// library to the rule on failures there too.
const DANGLING_LINK: bool = false;

/// The run's files (the temp directory) and shared-memory objects, by path: kind, size, inode.
type Snapshot = BTreeMap<PathBuf, (u32, u64, (u64, u64))>;

/// What a successful call may change in the run's files.
#[derive(Clone, Copy, Debug)]
enum Allowed<'a> {
    Nothing,
    /// This path may be created (a regular file) or grown.
    Path(&'a Path),
    /// The file with this identity may grow.
    Identity(Option<(u64, u64)>),
}

/// Files and descriptors every input shares, made once.
struct Fixture {
    dir: PathBuf,
    /// Descriptors `map_fd` and `map_file` may be given: a read/write file, a read-only file,
    /// the directory, a pipe's read end, /dev/zero.
    fds: Vec<i32>,
    /// The name of each of `fds`, where a resize may name it.
    fd_sources: Vec<SourceOf>,
    /// A FIFO in the directory (`fd-fifo`), which a map by name must refuse without blocking.
    fifo: PathBuf,
    page: u64,
    shm_prefix: String,
}

/// The size of the fixture's files `fd-rw` and `fd-ro` (put back before every input).
fn fixture_sizes(page: usize) -> [(&'static str, usize, u8); 2] {
    [("fd-rw", 3 * page + 17, 1), ("fd-ro", page, 2)]
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mmap-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // libFuzzer ends the process with exit(), so remove the directory then too.
        // SAFETY: registers a plain function with no arguments.
        unsafe { libc::atexit(remove_dir) };
        check_statuses();
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
        let open = |path: &std::path::Path, write: bool| -> i32 {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(write)
                .open(path)
                .unwrap();
            OwnedFd::from(file).into_raw_fd()
        };
        for (name, size, byte) in fixture_sizes(page as usize) {
            std::fs::write(dir.join(name), vec![byte; size]).unwrap();
        }
        std::os::unix::fs::symlink(dir.join("link-target"), dir.join("fd-link")).unwrap();
        let fifo = dir.join("fd-fifo");
        let fifo_c = CString::new(fifo.as_os_str().as_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo_c.as_ptr(), 0o600) }, 0, "mkfifo");
        let mut pipe = [0; 2];
        assert_eq!(
            unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) },
            0
        );
        let named = |path: &Path| SourceOf::File(path.as_os_str().as_bytes().to_vec());
        let fds = vec![
            open(&dir.join("fd-rw"), true),
            open(&dir.join("fd-ro"), false),
            open(&dir, false),
            pipe[0],
            open(std::path::Path::new("/dev/zero"), true),
        ];
        let fd_sources = vec![
            named(&dir.join("fd-rw")),
            named(&dir.join("fd-ro")),
            named(&dir),
            SourceOf::Unnamed,
            named(Path::new("/dev/zero")),
        ];
        Fixture {
            dir,
            fds,
            fd_sources,
            fifo,
            page,
            shm_prefix: format!("/mmap-fuzz-{}-", std::process::id()),
        }
    })
}

extern "C" fn remove_dir() {
    let dir = std::env::temp_dir().join(format!("mmap-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(dir);
}

/// The statuses and constants this driver names must be the library's.
fn check_statuses() {
    for (status, name) in [
        (INVALID_ARGUMENT, "ERR_MMAP_INVALID_ARGUMENT\t"),
        (PAST_END_OF_FILE, "ERR_MMAP_PAST_END_OF_FILE\t"),
        (EMPTY_FILE, "ERR_MMAP_EMPTY_FILE\t"),
        (NOT_LIVE, "ERR_MMAP_NOT_LIVE\t"),
        (SIZE_UNKNOWN, "ERR_MMAP_SIZE_UNKNOWN\t"),
        (ADDRESS_TOO_HIGH, "ERR_MMAP_ADDRESS_TOO_HIGH\t"),
        (CANNOT_GROW, "ERR_MMAP_CANNOT_GROW\t"),
        (SOURCE_REPLACED, "ERR_MMAP_SOURCE_REPLACED\t"),
        (DEVICE_CANNOT_GROW, "ERR_MMAP_DEVICE_CANNOT_GROW\t"),
        (MAPPING_LIMIT, "ENOMEM\t"),
        (NOT_A_FILE, "ERR_MMAP_NOT_A_FILE\t"),
    ] {
        assert!(describe(status).starts_with(name), "status {status}");
    }
    // The system calls a failure names, by the numbers the library writes (src/status.rs).
    let calls = [
        "",
        "open",
        "fstat",
        "ftruncate",
        "mmap",
        "munmap",
        "msync",
        "shm_open",
        "shm_unlink",
        "madvise",
        "mlock",
        "munlock",
        "mprotect",
        "mincore",
        "mremap",
        "unlink",
        "fcntl",
    ];
    for (number, name) in calls.iter().enumerate() {
        assert_eq!(syscall_name(number as f64), *name, "system call {number}");
    }
    assert_eq!(
        syscall_name(calls.len() as f64),
        "",
        "no system call past fcntl"
    );
    let constants = constants();
    let value = |name: &str| {
        constants
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| *value)
            .unwrap_or_else(|| panic!("mmap_ffi_constants has no {name}"))
    };
    for (name, expected) in [
        ("STATUS_OK", 0),
        ("STATUS_INVALID_ARGUMENT", INVALID_ARGUMENT.into()),
        ("STATUS_NOT_LIVE", NOT_LIVE.into()),
        ("STATUS_MAPPING_LIMIT", MAPPING_LIMIT.into()),
        ("STATUS_PAST_END_OF_FILE", PAST_END_OF_FILE.into()),
        ("STATUS_EMPTY_FILE", EMPTY_FILE.into()),
        ("STATUS_SIZE_UNKNOWN", SIZE_UNKNOWN.into()),
        ("STATUS_ADDRESS_TOO_HIGH", ADDRESS_TOO_HIGH.into()),
        ("STATUS_CANNOT_GROW", CANNOT_GROW.into()),
        ("STATUS_SOURCE_REPLACED", SOURCE_REPLACED.into()),
        ("STATUS_DEVICE_CANNOT_GROW", DEVICE_CANNOT_GROW.into()),
        ("STATUS_NOT_A_FILE", NOT_A_FILE.into()),
        ("OUT_ADDRESS", OUT_ADDRESS as i64),
        ("OUT_LENGTH", OUT_LENGTH as i64),
        ("OUT_ID", OUT_ID as i64),
        ("OUT_FILE_SIZE", OUT_FILE_SIZE as i64),
        ("OUT_SYSCALL", OUT_SYSCALL as i64),
        ("OUT_COUNT", OUT_COUNT as i64),
        ("OUT_SLOTS", OUT_SLOTS as i64),
        ("SOURCE_ANONYMOUS", SOURCE_ANONYMOUS.into()),
        ("SOURCE_FILE", SOURCE_FILE.into()),
        ("SOURCE_SHM", SOURCE_SHM.into()),
        ("SOURCE_DESCRIPTOR", SOURCE_DESCRIPTOR.into()),
        ("OPEN_WRITE", OPEN_WRITE.into()),
        ("OPEN_CREATE", OPEN_CREATE.into()),
        ("OPEN_EXCLUSIVE", OPEN_EXCLUSIVE.into()),
        ("ERRNO_ENOMEM", libc::ENOMEM.into()),
        ("ERRNO_ENOSYS", libc::ENOSYS.into()),
    ] {
        assert_eq!(value(name), expected, "{name}");
    }
    assert!(value("MAPPING_LIMIT") > 0, "MAPPING_LIMIT");
    for code in LIBRARY_CODES {
        assert!(
            constants
                .iter()
                .any(|(name, value)| name.starts_with("STATUS_") && *value == i64::from(code)),
            "library code {code} has no STATUS_ constant"
        );
    }
    for (name, code) in &constants {
        if name.starts_with("STATUS_") && name != "STATUS_OK" {
            let status = i32::try_from(*code).expect("a status fits in i32");
            assert!(LIBRARY_CODES.contains(&status), "{name}={code}");
            check_status(status);
        }
    }
}

/// `mmap_ffi_constants` as (name, value) pairs.
fn constants() -> Vec<(String, i64)> {
    let len = unsafe { mmap_ffi_constants(std::ptr::null_mut(), 0) } as usize;
    let mut buf = vec![0u8; len];
    let written = unsafe { mmap_ffi_constants(buf.as_mut_ptr(), buf.len()) } as usize;
    assert_eq!(written, len);
    let text = String::from_utf8(buf).expect("constants are UTF-8");
    text.lines()
        .map(|line| {
            let (name, value) = line.split_once('=').expect("NAME=value");
            (name.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

fn describe(status: i32) -> String {
    let mut buf = vec![0u8; 512];
    let len = unsafe { mmap_ffi_describe(status, 0, buf.as_mut_ptr(), buf.len()) } as usize;
    String::from_utf8_lossy(&buf[..len.min(buf.len())]).into_owned()
}

/// A status must be success, an errno, or a library code.
fn check_status(status: i32) {
    assert!(
        status >= 0 || LIBRARY_CODES.contains(&status),
        "unknown status {status}"
    );
    if status < 0 {
        let text = describe(status);
        let named = if status == MAPPING_LIMIT {
            text.starts_with("ENOMEM\t")
        } else {
            text.starts_with("ERR_MMAP_") && !text.starts_with("ERR_MMAP_UNKNOWN")
        };
        assert!(named, "status {status} is described as {text:?}");
    }
}

/// One sequence: the state a single input runs against.
struct Run<'a> {
    input: Input<'a>,
    fixture: &'static Fixture,
    /// Every mapping in the registry, live or retired.
    maps: Vec<Mapping>,
    /// (address, id) pairs removed from the registry earlier: stale, must be refused.
    stale: Vec<(usize, u64)>,
    /// (old, new) pairs moved earlier: a second move must be refused.
    moved: Vec<((usize, u64), (usize, u64))>,
    shm_names: HashSet<Vec<u8>>,
    out: [f64; OUT_SLOTS + 2],
}

/// How a call picks the mapping it acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// A mapping in the registry (live or retired), by index in the model.
    Entry(usize),
    /// An (address, id) the library did not hand out or already unmapped.
    Foreign(usize, u64),
}

impl Run<'_> {
    fn page(&self) -> usize {
        self.fixture.page as usize
    }

    /// A path: mostly one of the run's files (or one to create), sometimes the FIFO, /dev/zero or
    /// the directory (which a map must refuse as not a regular file), a random name, or none.
    fn file(&mut self) -> Vec<u8> {
        let dir = self.fixture.dir.as_os_str().as_encoded_bytes().to_vec();
        let mut name = dir.clone();
        let choice = if self.input.sane {
            match self.input.below(8) {
                7 if DANGLING_LINK => [3, 6, 7, 8][self.input.below(4)],
                7 => [3, 6, 7][self.input.below(3)],
                n => n % 3,
            }
        } else {
            self.input.below(if DANGLING_LINK { 9 } else { 8 })
        };
        match choice {
            0 => name.extend_from_slice(b"/file0"),
            1 => name.extend_from_slice(b"/file1"),
            2 => name.extend_from_slice(b"/missing"),
            3 => {}
            4 => return Vec::new(),
            5 => {
                name.extend_from_slice(b"/x");
                for _ in 0..self.input.below(12) {
                    name.push(self.input.u8());
                }
            }
            6 => return self.fixture.fifo.as_os_str().as_bytes().to_vec(),
            7 => return b"/dev/zero".to_vec(),
            _ => name.extend_from_slice(b"/fd-link"),
        }
        name
    }

    fn shm_name(&mut self) -> Vec<u8> {
        let mut name = self.fixture.shm_prefix.as_bytes().to_vec();
        let choice = if self.input.sane {
            self.input.below(2)
        } else {
            self.input.below(4)
        };
        match choice {
            0 => name.push(b'a'),
            1 => name.push(b'b'),
            2 => {
                for _ in 0..1 + self.input.below(8) {
                    name.push(self.input.u8());
                }
            }
            _ => name = Vec::new(),
        }
        self.shm_names.insert(name.clone());
        name
    }

    fn target(&mut self) -> Target {
        let choice = self.input.below(6);
        if !self.maps.is_empty() && choice < 2 {
            return Target::Entry(self.input.below(self.maps.len()));
        }
        let pick = |run: &mut Self| run.maps[run.input.below(run.maps.len())].pair();
        let (address, id) = match choice {
            2 if !self.maps.is_empty() => {
                let (address, id) = pick(self);
                (address, id.wrapping_add(1 + u64::from(self.input.u8())))
            }
            3 if !self.maps.is_empty() => {
                let (address, id) = pick(self);
                let delta = 1 + self.input.u32() as usize % (2 * self.page());
                (address.wrapping_add(delta), id)
            }
            4 if !self.stale.is_empty() => self.stale[self.input.below(self.stale.len())],
            _ => (self.input.u64() as usize, self.input.u64() % 1000),
        };
        assert!(
            self.find((address, id)).is_none(),
            "a foreign pair names a mapping"
        );
        Target::Foreign(address, id)
    }

    /// A mapping to act on (registered or foreign), its address and id, and a range in it.
    fn ranged_target(&mut self, page: u64) -> (Target, usize, u64, usize, usize) {
        let target = self.target();
        let (address, id) = self.pair(target);
        let offset = self.input.offset(page) as usize;
        let length = self.input.count(page) as usize;
        (target, address, id, offset, length)
    }

    fn pair(&self, target: Target) -> (usize, u64) {
        match target {
            Target::Entry(index) => self.maps[index].pair(),
            Target::Foreign(address, id) => (address, id),
        }
    }

    /// The index of the mapping with this pair, live or retired.
    fn find(&self, pair: (usize, u64)) -> Option<usize> {
        self.maps.iter().position(|map| map.pair() == pair)
    }

    /// The target for a pair: a mapping of the model, or foreign.
    fn target_of(&self, pair: (usize, u64)) -> Target {
        self.find(pair)
            .map_or(Target::Foreign(pair.0, pair.1), Target::Entry)
    }

    /// The out buffer: usually the right size, sometimes short or null.
    fn out_buffer(&mut self) -> (*mut f64, usize) {
        self.out.fill(f64::from(CANARY));
        if self.input.sane {
            return (self.out.as_mut_ptr(), OUT_SLOTS);
        }
        match self.input.below(12) {
            0 => (std::ptr::null_mut(), OUT_SLOTS),
            1 => (self.out.as_mut_ptr(), self.input.below(OUT_SLOTS)),
            _ => (self.out.as_mut_ptr(), OUT_SLOTS),
        }
    }

    fn check_out_canary(&self) {
        for slot in &self.out[OUT_SLOTS..] {
            assert_eq!(*slot, f64::from(CANARY), "a write past the out slots");
        }
    }

    /// The checks every call gets: a known status, nothing written past the out slots.
    fn checked(&self, what: &str, target: Target, status: i32) {
        if trace() {
            eprintln!("  {what} {target:?} -> {status}");
        }
        check_status(status);
        self.check_out_canary();
    }

    /// A refused call: `NOT_LIVE` (or `INVALID_ARGUMENT` for a bad argument checked first), and
    /// the registry unchanged.
    fn refused(&self, what: &str, target: Target, status: i32, before: u32) {
        assert!(
            status == NOT_LIVE || status == INVALID_ARGUMENT,
            "{what} on {target:?} ({:?}), which is not a live mapping, gave {status}",
            self.pair(target)
        );
        assert_eq!(
            mmap_ffi_live_count(),
            before,
            "a refused {what} changed the registry"
        );
    }

    /// Checks a call that takes live mappings only: for a retired or foreign target it must
    /// have been refused; for a live one, returns its index.
    fn live_call(&self, what: &str, target: Target, status: i32, before: u32) -> Option<usize> {
        self.checked(what, target, status);
        match target {
            Target::Entry(index) if !self.maps[index].retired => Some(index),
            _ => {
                self.refused(what, target, status, before);
                None
            }
        }
    }

    /// Records a mapping a map or resize call reported; returns its index.
    fn adopt(
        &mut self,
        status: i32,
        out: *mut f64,
        out_len: usize,
        template: Mapping,
    ) -> Option<usize> {
        if trace() {
            eprintln!("  map -> {status} {:?}", &self.out[..OUT_SLOTS]);
        }
        if status != 0 {
            return None;
        }
        MAPPED.fetch_add(1, Ordering::Relaxed);
        assert!(
            !out.is_null() && out_len >= OUT_SLOTS,
            "mapped without out slots"
        );
        let map = Mapping {
            address: self.out[OUT_ADDRESS] as usize,
            length: self.out[OUT_LENGTH] as usize,
            id: self.out[OUT_ID] as u64,
            ..template
        };
        assert!(map.address != 0 && map.id != 0);
        assert!(
            self.maps.iter().all(|other| other.id != map.id),
            "an id handed out twice"
        );
        self.maps.push(map);
        Some(self.maps.len() - 1)
    }

    /// A new mapping's model, before its address, length and id are known.
    fn template(&self, prot: i32, flags: i32, touchable: bool, backing: Backing) -> Mapping {
        Mapping {
            address: 0,
            id: 0,
            length: 0,
            prot,
            flags,
            touchable,
            holds: 1,
            retired: false,
            zeroed: false,
            mark: None,
            origin: None,
            split: false,
            backing,
        }
    }

    /// Opens a descriptor for a call that takes one (`map_file`, a resize by descriptor), or
    /// names a number that is not open: mostly `own` (the source of the mapping to resize) or a
    /// file of the run, opened read/write, read-only or write-only; sometimes another file, the
    /// FIFO, /dev/zero, the directory, a descriptor of the fixture, a closed number, a negative
    /// one.
    fn descriptor(&mut self, own: Option<SourceOf>) -> Descriptor {
        let access =
            [libc::O_RDWR, libc::O_RDONLY, libc::O_RDWR, libc::O_WRONLY][self.input.below(4)];
        let choice = self.input.below(if self.input.sane { 9 } else { 12 });
        let source = match choice {
            0..=3 => match own {
                Some(source @ (SourceOf::File(_) | SourceOf::Shm(_))) => source,
                _ if self.input.below(4) == 0 => SourceOf::Shm(self.shm_name()),
                _ => SourceOf::File(self.file()),
            },
            4 if self.input.below(3) == 0 => SourceOf::Shm(self.shm_name()),
            4 => SourceOf::File(self.file()),
            5 => {
                // Only for reading: a FIFO opened to write without a reader fails (ENXIO).
                let fifo = self.fixture.fifo.as_os_str().as_bytes().to_vec();
                return Descriptor::open(SourceOf::File(fifo), libc::O_RDONLY);
            }
            6 => SourceOf::File(b"/dev/zero".to_vec()),
            7 => {
                let dir = self.fixture.dir.as_os_str().as_bytes().to_vec();
                return Descriptor::open(SourceOf::File(dir), libc::O_RDONLY);
            }
            8 => {
                let at = self.input.below(self.fixture.fds.len());
                return Descriptor {
                    fd: self.fixture.fds[at],
                    _owned: None,
                    source: self.fixture.fd_sources[at].clone(),
                };
            }
            9 => return Descriptor::closed(),
            10 => {
                let fd = if self.input.below(2) == 0 {
                    -1
                } else {
                    (self.input.u32() | 0x8000_0000) as i32
                };
                return Descriptor::number(fd);
            }
            _ => {
                let fd = if self.input.below(2) == 0 {
                    1000 + i32::from(self.input.u8())
                } else {
                    (self.input.u32() | 0x0010_0000) as i32
                };
                return Descriptor::number(fd);
            }
        };
        Descriptor::open(source, access)
    }

    /// The run's files: the temp directory's entries and the run's shared-memory objects.
    fn snapshot(&self) -> Snapshot {
        let mut files = Snapshot::new();
        let shm_prefix = self.fixture.shm_prefix.trim_start_matches('/');
        let dirs = [
            (self.fixture.dir.as_path(), ""),
            (Path::new("/dev/shm"), shm_prefix),
        ];
        for (dir, prefix) in dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if !entry.file_name().as_bytes().starts_with(prefix.as_bytes()) {
                    continue;
                }
                if let Ok(meta) = entry.metadata() {
                    let kind = meta.mode() & libc::S_IFMT;
                    files.insert(entry.path(), (kind, meta.len(), (meta.dev(), meta.ino())));
                }
            }
        }
        files
    }

    /// After a map or resize call: a failed one left the run's files and shared-memory objects
    /// exactly as they were (none created, removed, replaced or resized); a successful one
    /// changed at most what it may (`allowed`), and only by creating or growing it.
    fn check_files(&self, before: &Snapshot, what: &str, status: i32, allowed: Allowed) {
        let after = self.snapshot();
        if status != 0 {
            FAILED_MAPS.fetch_add(1, Ordering::Relaxed);
        }
        let keys: std::collections::BTreeSet<&PathBuf> =
            before.keys().chain(after.keys()).collect();
        for key in keys {
            let (was, is) = (before.get(key), after.get(key));
            if was == is {
                continue;
            }
            let grew = |was: Option<&(u32, u64, (u64, u64))>, is: &(u32, u64, (u64, u64))| {
                was.is_none_or(|was| was.0 == is.0 && was.2 == is.2 && was.1 <= is.1)
            };
            let kept_empty = EMPTY_CREATION_KEPT
                && status == EMPTY_FILE
                && was.is_none()
                && matches!(allowed, Allowed::Path(path) if path == key)
                && is.is_some_and(|is| is.0 == libc::S_IFREG && is.1 == 0);
            let fine = kept_empty
                || status == 0
                    && match (allowed, is) {
                        (Allowed::Path(path), Some(is)) => {
                            path == key && is.0 == libc::S_IFREG && grew(was, is)
                        }
                        (Allowed::Identity(Some(identity)), Some(is)) => {
                            is.2 == identity && was.is_some() && grew(was, is)
                        }
                        _ => false,
                    };
            assert!(
                fine,
                "{what} ({status}) changed {}: {was:?} (kind, size, identity) before, {is:?} \
                 after; allowed: {allowed:?}",
                key.display()
            );
        }
    }

    /// The size a file of the run (or shared-memory object) with this identity has now.
    fn size_of(&self, identity: (u64, u64)) -> Option<u64> {
        self.snapshot()
            .values()
            .find(|(_, _, known)| *known == identity)
            .map(|(_, size, _)| *size)
    }

    /// Checks a map or resize call's status against the model's expectation.
    fn check_expect(&self, what: &str, expect: Expect, status: i32) {
        if trace() {
            eprintln!("  {what}: expected {expect:?}, got {status}");
        }
        let out = &self.out;
        let fine = match expect {
            Expect::Refused(refusal) => status == refusal,
            Expect::Size(refusal, size) => status == refusal && out[OUT_FILE_SIZE] == size as f64,
            Expect::Os(errno, call) => status == errno && syscall_name(out[OUT_SYSCALL]) == call,
            Expect::Errno => status > 0,
            Expect::Maps { length, .. } => {
                if status == 0 {
                    out[OUT_LENGTH] == length as f64
                } else {
                    status > 0 || status == MAPPING_LIMIT || status == ADDRESS_TOO_HIGH
                }
            }
            Expect::Unknown => true,
        };
        assert!(
            fine,
            "{what} gave {status} (out {:?}, {}); the model expects {expect:?}",
            &out[..OUT_SLOTS],
            describe(status)
        );
        let exact = matches!(
            expect,
            Expect::Refused(_) | Expect::Size(..) | Expect::Os(..)
        ) || (status == 0 && matches!(expect, Expect::Maps { .. }));
        if exact {
            PREDICTED.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What `mmap_ffi_map_fd` must do with the descriptor `fd` (probed now).
    fn expect_map_fd(fd: i32, length: usize, prot: i32, flags: i32, offset: u64) -> Expect {
        let anonymous = flags & libc::MAP_ANONYMOUS != 0;
        if !request_valid(length, prot, flags, offset) || anonymous != (fd == -1) {
            return Expect::Refused(INVALID_ARGUMENT);
        }
        if anonymous {
            if length == 0 || offset != 0 {
                return Expect::Refused(INVALID_ARGUMENT);
            }
            return Expect::Maps { length, size: None };
        }
        match probe(fd) {
            None => Expect::Os(libc::EBADF, "fstat"),
            Some(file) if !file.regular => {
                if length == 0 {
                    Expect::Refused(SIZE_UNKNOWN)
                } else {
                    Expect::Maps { length, size: None }
                }
            }
            Some(file) => fitted(length, offset, file.size),
        }
    }

    /// What `mmap_ffi_map_file` must do with the descriptor `fd` (probed now).
    fn expect_map_file(
        fd: i32,
        length: usize,
        prot: i32,
        flags: i32,
        offset: u64,
        grow_to: u64,
    ) -> Expect {
        if !request_valid(length, prot, flags, offset) || flags & libc::MAP_ANONYMOUS != 0 {
            return Expect::Refused(INVALID_ARGUMENT);
        }
        match probe(fd) {
            None => Expect::Os(libc::EBADF, "fstat"),
            Some(file) if !file.regular => Expect::Refused(NOT_A_FILE),
            Some(file) => match grown(file, grow_to) {
                Ok(size) => fitted(length, offset, size),
                Err(expect) => expect,
            },
        }
    }

    /// What `mmap_ffi_map_path` or (`shm`) `mmap_ffi_map_shm` must do, from the state of the
    /// file or object now.
    #[allow(clippy::too_many_arguments)]
    fn expect_map_named(
        &self,
        shm: bool,
        name: &[u8],
        length: usize,
        prot: i32,
        flags: i32,
        offset: u64,
        open_flags: u32,
        grow_to: u64,
    ) -> Expect {
        let write = open_flags & OPEN_WRITE != 0;
        let create = open_flags & OPEN_CREATE != 0;
        let exclusive = open_flags & OPEN_EXCLUSIVE != 0;
        if name.is_empty()
            || name.contains(&0)
            || open_flags & !(OPEN_WRITE | OPEN_CREATE | OPEN_EXCLUSIVE) != 0
            || !request_valid(length, prot, flags, offset)
            || flags & libc::MAP_ANONYMOUS != 0
            || (grow_to > 0 && !write)
        {
            return Expect::Refused(INVALID_ARGUMENT);
        }
        let call = if shm { "shm_open" } else { "open" };
        let path = if shm {
            match shm_path(name) {
                Some(path) => path,
                None => return Expect::Errno,
            }
        } else {
            path_of(name)
        };
        if create && exclusive && std::fs::symlink_metadata(&path).is_ok() {
            // O_EXCL fails on any name that exists, a dangling symbolic link too.
            return Expect::Os(libc::EEXIST, call);
        }
        let opened = match probe_path(&path, write) {
            Ok(file) if file.directory && write => return Expect::Os(libc::EISDIR, call),
            Ok(_) if !permitted(&path, write) => return Expect::Unknown,
            Ok(file) => file,
            Err(libc::ENOENT) if create => {
                // Created, if its directory is there: the run's directory, or /dev/shm.
                let dir = if shm {
                    Path::new("/dev/shm")
                } else {
                    self.fixture.dir.as_path()
                };
                let rest = &name[dir.as_os_str().len().min(name.len())..];
                let direct = shm
                    || (name.starts_with(dir.as_os_str().as_bytes())
                        && rest.len() > 1
                        && rest[0] == b'/'
                        && !rest[1..].contains(&b'/'));
                if !direct {
                    return Expect::Errno;
                }
                Probe {
                    regular: true,
                    directory: false,
                    size: 0,
                    readable: true,
                    writable: write,
                    identity: (0, 0),
                }
            }
            Err(errno) if !create && errno > 0 => return Expect::Os(errno, call),
            Err(_) => return Expect::Errno,
        };
        if !shm && !opened.regular {
            return Expect::Refused(NOT_A_FILE);
        }
        match grown(opened, grow_to) {
            Ok(size) => fitted(length, offset, size),
            Err(expect) => expect,
        }
    }

    /// What `mmap_ffi_resize` of `target` must do with these arguments, from the model and the
    /// state of the source now.
    #[allow(clippy::too_many_arguments)]
    fn expect_resize(
        &self,
        target: Target,
        new_length: usize,
        source: u32,
        name: &[u8],
        fd: i32,
        grow_to: u64,
        out_valid: bool,
    ) -> Expect {
        let named = !name.is_empty() && !name.contains(&0);
        let decoded = match source {
            SOURCE_ANONYMOUS => true,
            SOURCE_FILE | SOURCE_SHM => named,
            SOURCE_DESCRIPTOR => fd >= 0,
            _ => false,
        };
        if !out_valid || !decoded {
            return Expect::Refused(INVALID_ARGUMENT);
        }
        let map = match target {
            Target::Entry(index) if !self.maps[index].retired => &self.maps[index],
            _ => return Expect::Refused(NOT_LIVE),
        };
        let anonymous = map.flags & libc::MAP_ANONYMOUS != 0;
        if new_length == 0
            || new_length as u64 > MAX_EXACT
            || anonymous != (source == SOURCE_ANONYMOUS)
        {
            return Expect::Refused(INVALID_ARGUMENT);
        }
        let shared = map.flags & libc::MAP_SHARED != 0;
        let grows = new_length > map.length;
        if anonymous && shared && grows {
            return Expect::Refused(CANNOT_GROW);
        }
        if anonymous {
            return Expect::Maps {
                length: new_length,
                size: None,
            };
        }
        // The library opens a name for writing when it grows it or maps it shared and writable.
        let write = grow_to > 0 || (shared && map.prot & libc::PROT_WRITE != 0);
        let opened = match source {
            SOURCE_DESCRIPTOR => probe(fd).ok_or(Expect::Os(libc::EBADF, "fcntl")),
            SOURCE_FILE => match probe_path(&path_of(name), write) {
                Ok(file) if file.directory && write => Err(Expect::Os(libc::EISDIR, "open")),
                Ok(_) if !permitted(&path_of(name), write) => Err(Expect::Unknown),
                Ok(file) => Ok(file),
                Err(errno) if errno > 0 => Err(Expect::Os(errno, "open")),
                Err(_) => Err(Expect::Errno),
            },
            _ => match shm_path(name).map(|path| (probe_path(&path, write), path)) {
                None => Err(Expect::Errno),
                Some((Ok(_), path)) if !permitted(&path, write) => Err(Expect::Unknown),
                Some((Ok(file), _)) => Ok(file),
                Some((Err(errno), _)) if errno > 0 => Err(Expect::Os(errno, "shm_open")),
                Some((Err(_), _)) => Err(Expect::Errno),
            },
        };
        let opened = match opened {
            Ok(opened) => opened,
            Err(expect) => return expect,
        };
        if map.backing.identity != Some(opened.identity) {
            return Expect::Refused(SOURCE_REPLACED);
        }
        let size = match grown(opened, grow_to) {
            Ok(size) => size,
            Err(expect) => return expect,
        };
        if !opened.regular && grows {
            return Expect::Refused(DEVICE_CANNOT_GROW);
        }
        let end = map.backing.offset.saturating_add(new_length as u64);
        if opened.regular && end > size {
            return Expect::Size(PAST_END_OF_FILE, size);
        }
        Expect::Maps {
            length: new_length,
            size: opened.regular.then_some(size),
        }
    }

    /// Touches the first and the last byte, as a runtime making a view would.
    fn touch_ends(&mut self, index: Option<usize>) {
        if let Some(index) = index {
            let last = self.maps[index].length.saturating_sub(1);
            self.touch(index, 0);
            self.touch(index, last);
        }
    }

    /// Reads (and, if writable, writes) one byte of a mapping, as a runtime's view would, and
    /// checks what it reads against what the driver knows.
    fn touch(&mut self, index: usize, offset: usize) {
        let writes = !self.awaits_move(index);
        let map = &mut self.maps[index];
        if !map.readable() {
            return;
        }
        let offset = offset % map.length;
        let at = (map.address + offset) as *mut u8;
        // SAFETY: the registry holds this range and the protection allows the access; the
        // library refuses every mapping that reaches past the end of its file, and a retired
        // range holds zero pages.
        let byte = unsafe { std::ptr::read_volatile(at) };
        match map.mark {
            Some((marked, value)) if marked == offset => assert_eq!(
                byte,
                value,
                "byte {offset} of {:?} changed under the driver",
                map.pair()
            ),
            _ if map.zeroed => assert_eq!(
                byte,
                0,
                "byte {offset} of the retired {:?} is not zero",
                map.pair()
            ),
            _ => {}
        }
        if map.prot & libc::PROT_WRITE == 0 || !writes {
            return;
        }
        let new = byte.wrapping_add(1);
        // SAFETY: as above, and the protection allows writing.
        unsafe { std::ptr::write_volatile(at, new) };
        let private = map.retired || moves_pages(map.flags);
        match map.mark {
            Some((marked, _)) if marked == offset => map.mark = Some((offset, new)),
            None if private => map.mark = Some((offset, new)),
            _ => map.zeroed = false,
        }
    }

    /// Writes a byte the driver will look for after a resize (when the mapping is writable).
    fn write_mark(&mut self, index: usize) {
        let (offset, value) = (self.input.u32() as usize, self.input.u8());
        let awaits_move = self.awaits_move(index);
        let map = &mut self.maps[index];
        if map.retired || awaits_move || !map.readable() || map.prot & libc::PROT_WRITE == 0 {
            return;
        }
        let offset = offset % map.length;
        // SAFETY: a live mapping of the registry, writable, inside its length.
        unsafe { std::ptr::write_volatile((map.address + offset) as *mut u8, value) };
        map.mark = Some((offset, value));
    }

    /// Checks that mapping `index` holds `mark` (when it can be read there).
    fn check_mark(&self, index: usize, mark: Option<(usize, u8)>, what: &str) {
        let map = &self.maps[index];
        let Some((offset, value)) = mark else {
            return;
        };
        if !map.readable() || offset >= map.length {
            return;
        }
        // SAFETY: as for `touch`.
        let byte = unsafe { std::ptr::read_volatile((map.address + offset) as *const u8) };
        assert_eq!(
            byte,
            value,
            "byte {offset} the driver wrote is not in {:?} {what}",
            map.pair()
        );
    }

    /// The model of a retired mapping: zero pages, readable and writable.
    fn retire_model(&mut self, index: usize) {
        let map = &mut self.maps[index];
        map.retired = true;
        map.prot = READ_WRITE;
        map.touchable = true;
        map.zeroed = true;
        map.mark = None;
        map.origin = None;
    }

    /// The model of dropping one hold: the mapping goes with the last.
    fn drop_hold_model(&mut self, index: usize) {
        let map = &mut self.maps[index];
        map.holds -= 1;
        if map.holds == 0 {
            let pair = map.pair();
            self.maps.swap_remove(index);
            self.stale.push(pair);
        }
    }

    /// Drops a hold with `mmap_ffi_unmap` or the release callback.
    fn drop_hold(&mut self, target: Target, release: bool) {
        let before = mmap_ffi_live_count();
        let (address, id) = self.pair(target);
        let status = if release {
            self.out.fill(f64::from(CANARY));
            mmap_ffi_release(address as *mut _, id as usize as *mut _);
            if let Target::Foreign(..) = target {
                NOT_LIVE
            } else {
                0
            }
        } else {
            let (out, out_len) = self.out_buffer();
            unsafe { mmap_ffi_unmap(address, id, out, out_len) }
        };
        self.checked(if release { "release" } else { "unmap" }, target, status);
        match target {
            Target::Entry(index) => {
                assert_eq!(
                    status, 0,
                    "a hold of a registered mapping could not be dropped"
                );
                self.drop_hold_model(index);
            }
            Target::Foreign(..) => self.refused("unmap", target, status, before),
        }
    }

    /// Changes the protection of `target` with `mmap_ffi_protect` and checks it.
    fn protect(&mut self, target: Target, prot: i32) {
        let before = mmap_ffi_live_count();
        let (address, id) = self.pair(target);
        let (out, out_len) = self.out_buffer();
        let status = unsafe { mmap_ffi_protect(address, id, prot, out, out_len) };
        if let (Some(index), 0) = (self.live_call("protect", target, status, before), status) {
            self.maps[index].prot = prot;
            self.check_prot(index, "after protect");
        }
    }

    /// Gives `advice` about a range of `target` with `mmap_ffi_advise` and checks it.
    fn advise(&mut self, target: Target, offset: usize, length: usize, advice: i32) {
        let before = mmap_ffi_live_count();
        let (address, id) = self.pair(target);
        let (out, out_len) = self.out_buffer();
        let status = unsafe { mmap_ffi_advise(address, id, offset, length, advice, out, out_len) };
        if let Some(index) = self.live_call("advise", target, status, before) {
            // MADV_DONTNEED, MADV_FREE, MADV_REMOVE... may drop what was written; in shared
            // anonymous memory only MADV_REMOVE does (MADV_DONTNEED drops the page-table
            // entries, the data stays in the object).
            let map = &mut self.maps[index];
            let shared_anonymous =
                map.flags & libc::MAP_SHARED != 0 && map.flags & libc::MAP_ANONYMOUS != 0;
            if !shared_anonymous || advice == libc::MADV_REMOVE {
                map.mark = None;
            }
            map.split = true;
        }
    }

    /// A plausible protection to set between a resize and its move (`PROT_NONE` often: the
    /// move must then carry it over, and a copy has to open both ranges for itself).
    fn move_prot(&mut self) -> i32 {
        [
            libc::PROT_NONE,
            libc::PROT_READ,
            READ_WRITE,
            libc::PROT_NONE,
            libc::PROT_WRITE,
            libc::PROT_READ | libc::PROT_EXEC,
        ][self.input.below(6)]
    }

    /// Between a resize and its move, sometimes changes the protection of the old mapping (or,
    /// less often, of the new one), or advises the kernel about all of the old one (which may
    /// drop its page-table entries, not always its data).
    fn maybe_prepare_pair(&mut self, old: (usize, u64), new: (usize, u64)) {
        let side = match self.input.below(8) {
            0 | 1 => old,
            2 => new,
            3 => {
                CALLS.fetch_add(1, Ordering::Relaxed);
                let advice = [
                    libc::MADV_DONTNEED,
                    libc::MADV_DONTNEED,
                    libc::MADV_PAGEOUT,
                    libc::MADV_COLD,
                    libc::MADV_REMOVE,
                    libc::MADV_FREE,
                ][self.input.below(6)];
                let length = self.find(old).map_or(0, |index| self.maps[index].length);
                return self.advise(self.target_of(old), 0, length, advice);
            }
            _ => return,
        };
        CALLS.fetch_add(1, Ordering::Relaxed);
        let prot = self.move_prot();
        self.protect(self.target_of(side), prot);
    }

    /// What `mmap_ffi_move(from, to)` must do: move the pair of a resize (the indices of its old
    /// and new mapping), or refuse with a status. The library checks in this order: the old
    /// side live, the new side live, then that the new side is the one a resize of the old made
    /// and that has not been moved into yet.
    fn move_expected(&self, from: (usize, u64), to: (usize, u64)) -> Result<(usize, usize), i32> {
        let live = |pair| self.find(pair).filter(|index| !self.maps[*index].retired);
        let old = live(from).ok_or(NOT_LIVE)?;
        let new = live(to).ok_or(NOT_LIVE)?;
        if self.maps[new].origin != Some(from) {
            return Err(INVALID_ARGUMENT);
        }
        Ok((old, new))
    }

    /// Whether moving the pair (`old`, `new`) may copy more than [`COPY_LIMIT`] bytes: when the
    /// old mapping is held by more than the resize, or mremap cannot move it.
    fn copies_too_much(&self, old: usize, new: usize) -> bool {
        let (old, new) = (&self.maps[old], &self.maps[new]);
        old.length.min(new.length) > COPY_LIMIT && (old.holds > 1 || old.split)
    }

    /// Whether mapping `index` is the new mapping of a resize whose old mapping is still live:
    /// it waits for its move, so the driver reads it but does not write it.
    fn awaits_move(&self, index: usize) -> bool {
        self.maps[index]
            .origin
            .and_then(|origin| self.find(origin))
            .is_some_and(|old| !self.maps[old].retired)
    }

    /// Bytes of mapping `old` that a move into `new` must carry over, read now: the first and
    /// the last of the length they share, and one more. Not in the page of the mark, which is
    /// checked on its own: reading a page maps it, and the move must find the data of a page
    /// that is not mapped too.
    fn sample(&mut self, old: usize, new: usize) -> Vec<(usize, u8)> {
        let pick = self.input.u32() as usize;
        let page = self.page();
        let map = &self.maps[old];
        let common = map.length.min(self.maps[new].length);
        if !map.readable() || common == 0 {
            return Vec::new();
        }
        let page_of = |offset: usize| (map.address + offset) / page;
        let marked = map.mark.map(|(offset, _)| page_of(offset));
        [0, common - 1, pick % common]
            .into_iter()
            .filter(|offset| Some(page_of(*offset)) != marked)
            .map(|offset| {
                // SAFETY: as for `touch`.
                let byte = unsafe { std::ptr::read_volatile((map.address + offset) as *const u8) };
                (offset, byte)
            })
            .collect()
    }

    /// Calls `mmap_ffi_move(from, to)` and checks it against the model.
    fn move_pages(&mut self, from: (usize, u64), to: (usize, u64)) {
        let before = mmap_ffi_live_count();
        let expected = self.move_expected(from, to);
        if let Ok((old, new)) = expected
            && self.copies_too_much(old, new)
        {
            if trace() {
                eprintln!("  move {from:?} -> {to:?}: not made, it may copy too much");
            }
            return;
        }
        let samples = match expected {
            Ok((old, new)) => self.sample(old, new),
            Err(_) => Vec::new(),
        };
        let (out, out_len) = self.out_buffer();
        let status = unsafe { mmap_ffi_move(from.0, from.1, to.0, to.1, out, out_len) };
        if trace() {
            eprintln!("  move {from:?} -> {to:?} (expected {expected:?}) -> {status}");
        }
        check_status(status);
        self.check_out_canary();
        let (old_index, new_index) = match expected {
            Ok(pair) if status == 0 => pair,
            _ => {
                match expected {
                    Err(refusal) => {
                        assert_eq!(
                            status,
                            refusal,
                            "move {from:?} -> {to:?} ({:?} -> {:?}) must be refused",
                            self.target_of(from),
                            self.target_of(to)
                        );
                        MOVES_REFUSED.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {
                        // Copying needs the old pages readable and the new ones writable; making
                        // a huge private mapping writable can fail (ENOMEM).
                        assert!(
                            status > 0,
                            "a move of a resize's pair {from:?} -> {to:?} gave {status}"
                        );
                        MOVES_FAILED.fetch_add(1, Ordering::Relaxed);
                    }
                }
                assert_eq!(
                    mmap_ffi_live_count(),
                    before,
                    "a move that failed or was refused changed the registry"
                );
                for pair in [from, to] {
                    if let Some(index) = self.find(pair) {
                        self.check_prot(index, "after a move that failed or was refused");
                        let mark = self.maps[index].mark;
                        self.check_mark(index, mark, "after a move that failed or was refused");
                    }
                }
                return;
            }
        };
        MOVED.fetch_add(1, Ordering::Relaxed);
        self.moved.push((from, to));
        let old = self.maps[old_index].clone();
        let new = &mut self.maps[new_index];
        new.prot = old.prot;
        new.origin = None;
        new.mark = old.mark.filter(|(offset, _)| *offset < new.length);
        // The pages are the old mapping's (mremap) or the new one's (a copy).
        new.split |= old.split;
        // The old mapping goes (its last hold was the resize's) or is retired with one fewer.
        if old.holds > 1 {
            self.retire_model(old_index);
        }
        self.drop_hold_model(old_index);
        if let Some(old_index) = self.find(from) {
            self.check_prot(old_index, "after a move retired it");
        }
        let new_index = self.find(to).expect("the new mapping of a move stays");
        self.check_prot(new_index, "after a move");
        let map = &self.maps[new_index];
        if map.readable() {
            for (offset, value) in samples {
                // SAFETY: as for `touch`.
                let byte = unsafe { std::ptr::read_volatile((map.address + offset) as *const u8) };
                assert_eq!(
                    byte, value,
                    "byte {offset} of {from:?} is not in {to:?} after the move"
                );
            }
        }
        self.check_mark(new_index, self.maps[new_index].mark, "after the move");
    }

    /// The pages of mapping `index` must have the protection the model (and so the registry)
    /// records.
    fn check_prot(&self, index: usize, what: &str) {
        let page = self.page();
        let map = &self.maps[index];
        let actual = actual_prot(map.address, map.length, page);
        assert!(
            actual == Some(map.prot),
            "{what}, the pages of {:?} have protection {actual:?}; the model records {:#x}\n{}",
            map.pair(),
            map.prot,
            maps_lines(map.address, map.length, page)
        );
    }

    /// Resizes `target`, and for a private or anonymous mapping follows the protocol (drop the
    /// old hold and move, move while holding it, either after changing a protection, or leave
    /// the pair for later).
    fn resize(&mut self, before: u32) {
        let page = self.fixture.page;
        // Mostly a mapping of the registry, so the resize gets past the lookup.
        let target = if self.input.sane && !self.maps.is_empty() && self.input.below(2) == 0 {
            Target::Entry(self.input.below(self.maps.len()))
        } else {
            self.target()
        };
        let (address, id) = self.pair(target);
        let new_length = match target {
            // A page or two more or less, as a growing or shrinking buffer would.
            Target::Entry(index) if self.input.sane && self.input.below(3) == 0 => {
                let length = self.maps[index].length;
                let pages = page as usize * (1 + self.input.below(2));
                if self.input.below(2) == 0 {
                    length.saturating_add(pages)
                } else {
                    length.saturating_sub(pages).max(1)
                }
            }
            _ => self.input.count(page) as usize,
        };
        let recorded = match target {
            Target::Entry(index) if self.input.sane && self.input.below(4) != 0 => {
                Some(self.maps[index].backing.source.clone())
            }
            _ => None,
        };
        // The source: mostly the one recorded (by name, or a descriptor the driver opens of it,
        // or of something else), else any kind with any name or descriptor.
        let (source, name, descriptor) = match recorded {
            Some(SourceOf::Anonymous) => (SOURCE_ANONYMOUS, Vec::new(), None),
            Some(SourceOf::File(path)) if self.input.below(3) != 0 => (SOURCE_FILE, path, None),
            Some(SourceOf::Shm(name)) if self.input.below(3) != 0 => (SOURCE_SHM, name, None),
            Some(own) => (
                SOURCE_DESCRIPTOR,
                Vec::new(),
                Some(self.descriptor(Some(own))),
            ),
            None => {
                let source = self.input.u8() as u32 % 5;
                let name = if self.input.below(2) == 0 {
                    self.file()
                } else {
                    self.shm_name()
                };
                let descriptor = (source == SOURCE_DESCRIPTOR).then(|| self.descriptor(None));
                (source, name, descriptor)
            }
        };
        // The library ignores `fd` for the other kinds: give it one of the fixture's now and then.
        let fd = match &descriptor {
            Some(descriptor) => descriptor.fd,
            None => match self.input.below(3) {
                0 => -1,
                1 => self.fixture.fds[self.input.below(self.fixture.fds.len())],
                _ => self.input.u32() as i32,
            },
        };
        if descriptor.is_some() {
            DESCRIPTOR_CALLS.fetch_add(1, Ordering::Relaxed);
        }
        let grow_to = match self.input.below(3) {
            0 => 0,
            1 if !self.input.sane => u64::MAX,
            _ => u64::from(self.input.u32() % (8 * page as u32)),
        };
        if let Target::Entry(index) = target {
            self.write_mark(index);
        }
        let (out, out_len) = self.out_buffer();
        let expect = self.expect_resize(
            target,
            new_length,
            source,
            &name,
            fd,
            grow_to,
            out_valid(out, out_len),
        );
        let file = probe(fd);
        let files = self.snapshot();
        if trace() {
            eprintln!(
                "  resize({target:?}, {new_length}, source {source} {:?}, fd {fd} {file:?}, grow \
                 to {grow_to})",
                String::from_utf8_lossy(&name)
            );
        }
        let status = unsafe {
            mmap_ffi_resize(
                address,
                id,
                new_length,
                source,
                ptr_or_null(&name),
                name.len(),
                fd,
                grow_to,
                out,
                out_len,
            )
        };
        self.checked("resize", target, status);
        self.check_expect("resize", expect, status);
        if let Some(descriptor) = &descriptor {
            descriptor.check_kept(file, "resize");
        }
        let identity = match target {
            Target::Entry(index) => self.maps[index].backing.identity,
            Target::Foreign(..) => None,
        };
        self.check_files(&files, "resize", status, Allowed::Identity(identity));
        if let (
            0,
            Expect::Maps {
                size: Some(size), ..
            },
            Some(identity),
        ) = (status, expect, identity)
        {
            let now = self.size_of(identity);
            assert!(
                now.is_none_or(|now| now == size),
                "resize left its source {now:?} bytes long"
            );
        }
        let Some(old_index) = self.live_call("resize", target, status, before) else {
            return;
        };
        let old = self.maps[old_index].clone();
        if !moves_pages(old.flags) {
            // Shared: other mappings of the file may write the marked byte later.
            self.maps[old_index].mark = None;
        }
        let moves = self.out[OUT_COUNT] == 1.0;
        let template = Mapping {
            origin: moves.then_some((address, id)),
            split: false,
            ..self.template(old.prot, old.flags, old.touchable, old.backing.clone())
        };
        let Some(new_index) = self.adopt(status, out, out_len, template) else {
            assert_eq!(
                mmap_ffi_live_count(),
                before,
                "a failed resize changed the registry"
            );
            return;
        };
        assert_eq!(
            moves,
            moves_pages(old.flags),
            "out[OUT_COUNT] says whether a move must follow"
        );
        self.check_prot(new_index, "after a resize");
        let new_pair = self.maps[new_index].pair();
        if !moves {
            // A shared file or shared memory: the new mapping is complete at once.
            if SHARED_DEVICE_RESIZE_KEEPS_DATA || !old.backing.device {
                self.check_mark(new_index, old.mark, "right after the resize");
            }
            self.touch_ends(Some(new_index));
            return;
        }
        self.maps[old_index].holds += 1;
        // Reads only: the new mapping waits for its move.
        self.touch_ends(Some(new_index));
        let old_pair = (address, id);
        match self.input.below(5) {
            0 | 1 => {
                CALLS.fetch_add(2, Ordering::Relaxed);
                let release = self.input.below(3) == 0;
                self.drop_hold(self.target_of(old_pair), release);
                self.maybe_prepare_pair(old_pair, new_pair);
                self.move_pages(old_pair, new_pair);
            }
            2 => {
                CALLS.fetch_add(1, Ordering::Relaxed);
                self.maybe_prepare_pair(old_pair, new_pair);
                self.move_pages(old_pair, new_pair);
            }
            3 => {
                CALLS.fetch_add(1, Ordering::Relaxed);
                self.drop_hold(self.target_of(old_pair), false);
            }
            _ => {}
        }
    }

    /// Resizes waiting for their move, both sides live: (old, new) pairs.
    fn pending_pairs(&self) -> Vec<((usize, u64), (usize, u64))> {
        (0..self.maps.len())
            .filter(|index| !self.maps[*index].retired && self.awaits_move(*index))
            .filter_map(|index| {
                let map = &self.maps[index];
                map.origin.map(|origin| (origin, map.pair()))
            })
            .collect()
    }

    /// A move: mostly a pending resize's pair (sometimes after dropping the old hold or changing
    /// a protection), else one it must refuse: the pair the wrong way round, a mapping with
    /// itself, a pair already moved, two unrelated mappings (mostly of one kind), one side of a
    /// pair with a foreign one, or two foreign ones.
    fn choose_move(&mut self) {
        let pending = self.pending_pairs();
        let (from, to) = match self.input.below(11) {
            0..=3 if !pending.is_empty() => {
                let (old, new) = pending[self.input.below(pending.len())];
                match self.input.below(4) {
                    0 => {
                        CALLS.fetch_add(1, Ordering::Relaxed);
                        let release = self.input.below(3) == 0;
                        self.drop_hold(self.target_of(old), release);
                    }
                    1 => self.maybe_prepare_pair(old, new),
                    _ => {}
                }
                (old, new)
            }
            4 if !pending.is_empty() => {
                let (old, new) = pending[self.input.below(pending.len())];
                (new, old)
            }
            5 if !self.maps.is_empty() => {
                let pair = self.maps[self.input.below(self.maps.len())].pair();
                (pair, pair)
            }
            6 if !self.moved.is_empty() => self.moved[self.input.below(self.moved.len())],
            7 | 8 if !self.maps.is_empty() => {
                let from = self.input.below(self.maps.len());
                // Of one kind, unless any will do.
                let any = self.input.below(4) == 0;
                let flags = self.maps[from].flags;
                let alike: Vec<usize> = (0..self.maps.len())
                    .filter(|index| any || self.maps[*index].flags == flags)
                    .collect();
                let to = alike[self.input.below(alike.len())];
                (self.maps[from].pair(), self.maps[to].pair())
            }
            9 if !pending.is_empty() => {
                let (old, new) = pending[self.input.below(pending.len())];
                let other = self.target();
                let other = self.pair(other);
                if self.input.below(2) == 0 {
                    (old, other)
                } else {
                    (other, new)
                }
            }
            _ => {
                let (from, to) = (self.target(), self.target());
                (self.pair(from), self.pair(to))
            }
        };
        self.move_pages(from, to);
    }

    /// `mmap_ffi_map_fd`: anonymous memory, a descriptor of the fixture, or a number that is not
    /// open.
    fn map_fd(&mut self) {
        let page = self.fixture.page;
        let fds = self.fixture.fds.clone();
        let (fd, source) = match self.input.below(8) {
            0 | 1 => (-1, SourceOf::Anonymous),
            2 => (1000 + self.input.u8() as i32, SourceOf::Unnamed), // not open
            3 => (self.input.u32() as i32, SourceOf::Unnamed),
            n => {
                let at = (n + self.input.below(fds.len())) % fds.len();
                (fds[at], self.fixture.fd_sources[at].clone())
            }
        };
        let (length, prot, flags, offset) = (
            self.input.count(page) as usize,
            self.input.prot(),
            self.input.map_flags(),
            self.input.offset(page),
        );
        // Mostly, anonymous flags go with fd -1 and file flags with a descriptor.
        let flags = match (fd == -1, self.input.below(4)) {
            (_, 0) => flags,
            (true, _) => flags | libc::MAP_ANONYMOUS,
            (false, _) => flags & !libc::MAP_ANONYMOUS,
        };
        let (out, out_len) = self.out_buffer();
        let expect = if out_valid(out, out_len) {
            Self::expect_map_fd(fd, length, prot, flags, offset)
        } else {
            Expect::Refused(INVALID_ARGUMENT)
        };
        let file = probe(fd);
        let files = self.snapshot();
        if trace() {
            eprintln!("  map_fd({length}, {prot}, {flags:#x}, {fd}, {offset})");
        }
        let status = unsafe { mmap_ffi_map_fd(length, prot, flags, fd, offset, out, out_len) };
        check_status(status);
        self.check_out_canary();
        self.check_expect("map_fd", expect, status);
        self.check_files(&files, "map_fd", status, Allowed::Nothing);
        let backing = if flags & libc::MAP_ANONYMOUS != 0 {
            Backing::anonymous()
        } else {
            Backing::of(source, offset, file)
        };
        let touchable = touchable(&backing, flags, page);
        let template = self.template(prot, flags, touchable, backing);
        let index = self.adopt(status, out, out_len, template);
        self.touch_ends(index);
    }

    /// `mmap_ffi_map_path` (a file of the run, one to create, the FIFO, /dev/zero, the
    /// directory, a random name) or (`shm`) `mmap_ffi_map_shm`.
    fn map_named(&mut self, shm: bool) {
        let page = self.fixture.page;
        let what = if shm { "map_shm" } else { "map_path" };
        let name = if shm { self.shm_name() } else { self.file() };
        let (length, prot, flags, offset) = (
            self.input.count(page) as usize,
            self.input.prot(),
            self.input.map_flags(),
            self.input.offset(page),
        );
        let mut open_flags = self.input.u8() as u32 % 9;
        let mode = if shm { self.input.u32() } else { 0 };
        let grow_to = match self.input.below(if shm { 3 } else { 4 }) {
            0 => 0,
            1 if !self.input.sane => u64::MAX,
            _ => u64::from(self.input.u32() % (8 * page as u32)),
        };
        if self.input.sane {
            if shm {
                open_flags = (open_flags & 3) | OPEN_WRITE;
            } else {
                // Plausible: write (and create) when writable or growing.
                open_flags &= 7;
                if grow_to > 0 || prot & libc::PROT_WRITE != 0 {
                    open_flags |= OPEN_WRITE;
                }
            }
        }
        let (out, out_len) = self.out_buffer();
        let expect = if out_valid(out, out_len) {
            self.expect_map_named(shm, &name, length, prot, flags, offset, open_flags, grow_to)
        } else {
            Expect::Refused(INVALID_ARGUMENT)
        };
        let files = self.snapshot();
        if trace() {
            eprintln!(
                "  {what}({:?}, {length}, {prot}, {flags:#x}, {offset}, open {open_flags}, \
                 grow to {grow_to})",
                String::from_utf8_lossy(&name)
            );
        }
        let status = unsafe {
            if shm {
                mmap_ffi_map_shm(
                    ptr_or_null(&name),
                    name.len(),
                    length,
                    prot,
                    flags,
                    offset,
                    open_flags,
                    mode,
                    grow_to,
                    out,
                    out_len,
                )
            } else {
                mmap_ffi_map_path(
                    ptr_or_null(&name),
                    name.len(),
                    length,
                    prot,
                    flags,
                    offset,
                    open_flags,
                    grow_to,
                    out,
                    out_len,
                )
            }
        };
        check_status(status);
        self.check_out_canary();
        self.check_expect(what, expect, status);
        let path = if shm {
            shm_path(&name)
        } else {
            Some(path_of(&name))
        };
        // What a map by path may create or grow: the file, or a symbolic link's target.
        let created = path.as_deref().map(|path| match std::fs::read_link(path) {
            Ok(target) => self.fixture.dir.join(target),
            Err(_) => path.to_path_buf(),
        });
        let allowed = created.as_deref().map_or(Allowed::Nothing, Allowed::Path);
        self.check_files(&files, what, status, allowed);
        let file = match (&path, status) {
            (Some(path), 0) => probe_path(path, false).ok(),
            _ => None,
        };
        if let (
            Expect::Maps {
                size: Some(size), ..
            },
            Some(file),
        ) = (expect, file)
        {
            assert_eq!(
                file.size, size,
                "{what} left the file {} bytes long",
                file.size
            );
        }
        let source = if shm {
            SourceOf::Shm(name)
        } else {
            SourceOf::File(name)
        };
        let template = self.template(prot, flags, true, Backing::of(source, offset, file));
        let index = self.adopt(status, out, out_len, template);
        self.touch_ends(index);
    }

    /// `mmap_ffi_map_file` of a descriptor the driver opened (a file of the run, read/write,
    /// read-only or write-only; a shared-memory object; the FIFO; /dev/zero; the directory), one
    /// of the fixture's, or a closed or negative number.
    fn map_file(&mut self) {
        DESCRIPTOR_CALLS.fetch_add(1, Ordering::Relaxed);
        let page = self.fixture.page;
        let descriptor = self.descriptor(None);
        let (length, prot, flags, offset) = (
            self.input.count(page) as usize,
            self.input.prot(),
            self.input.map_flags(),
            self.input.offset(page),
        );
        let flags = if self.input.below(8) == 0 {
            flags
        } else {
            flags & !libc::MAP_ANONYMOUS
        };
        let grow_to = match self.input.below(4) {
            0 | 1 => 0,
            2 if !self.input.sane => u64::MAX,
            _ => u64::from(self.input.u32() % (8 * page as u32)),
        };
        let fd = descriptor.fd;
        let (out, out_len) = self.out_buffer();
        let expect = if out_valid(out, out_len) {
            Self::expect_map_file(fd, length, prot, flags, offset, grow_to)
        } else {
            Expect::Refused(INVALID_ARGUMENT)
        };
        let file = probe(fd);
        let files = self.snapshot();
        if trace() {
            eprintln!(
                "  map_file({fd} {:?} {file:?}, {length}, {prot}, {flags:#x}, {offset}, grow to \
                 {grow_to})",
                descriptor.source
            );
        }
        let status =
            unsafe { mmap_ffi_map_file(fd, length, prot, flags, offset, grow_to, out, out_len) };
        check_status(status);
        self.check_out_canary();
        self.check_expect("map_file", expect, status);
        descriptor.check_kept(file, "map_file");
        let identity = file.map(|file| file.identity);
        self.check_files(&files, "map_file", status, Allowed::Identity(identity));
        if let (
            0,
            Expect::Maps {
                size: Some(size), ..
            },
        ) = (status, expect)
        {
            let now = probe(fd).map(|file| file.size);
            assert_eq!(now, Some(size), "map_file left the file {now:?} bytes long");
        }
        let backing = Backing::of(descriptor.source.clone(), offset, file);
        let touchable = touchable(&backing, flags, page);
        let template = self.template(prot, flags, touchable, backing);
        let index = self.adopt(status, out, out_len, template);
        self.touch_ends(index);
    }

    fn step(&mut self) {
        CALLS.fetch_add(1, Ordering::Relaxed);
        let page = self.fixture.page;
        let before = mmap_ffi_live_count();
        self.input.sane = false;
        let op = self.input.below(21);
        self.input.sane = self.input.below(4) != 0;
        if trace() {
            eprintln!("op {op} maps {:?}", self.maps);
        }
        match op {
            0 => self.map_fd(),
            1 => self.map_named(false),
            2 => self.map_named(true),
            19 => self.map_file(),
            3 | 4 => {
                let target = self.target();
                self.drop_hold(target, false);
            }
            5 => {
                let (target, address, id, offset, length) = self.ranged_target(page);
                let flags =
                    [libc::MS_SYNC, libc::MS_ASYNC, libc::MS_INVALIDATE, -1][self.input.below(4)];
                let (out, out_len) = self.out_buffer();
                let status =
                    unsafe { mmap_ffi_sync(address, id, offset, length, flags, out, out_len) };
                self.live_call("sync", target, status, before);
            }
            6 => {
                let (target, _, _, offset, length) = self.ranged_target(page);
                let advice = if self.input.below(4) == 0 {
                    self.input.u32() as i32
                } else {
                    i32::from(self.input.u8() % 26)
                };
                self.advise(target, offset, length, advice);
            }
            7 => {
                let (target, address, id, offset, length) = self.ranged_target(page);
                let lock = i32::from(self.input.u8() % 3);
                let (out, out_len) = self.out_buffer();
                let status =
                    unsafe { mmap_ffi_lock(address, id, offset, length, lock, out, out_len) };
                if let Some(index) = self.live_call("lock", target, status, before) {
                    self.maps[index].split = true;
                }
            }
            8 => {
                let target = self.target();
                let prot = self.input.prot();
                self.protect(target, prot);
            }
            9 => {
                let (target, address, id, offset, length) = self.ranged_target(page);
                let pages_len = self.input.below(16);
                let mut pages = vec![CANARY; pages_len + CANARY_LEN];
                let pages_ptr = if self.input.below(8) == 0 {
                    std::ptr::null_mut()
                } else {
                    pages.as_mut_ptr()
                };
                let (out, out_len) = self.out_buffer();
                let status = unsafe {
                    mmap_ffi_residency(
                        address, id, offset, length, pages_ptr, pages_len, out, out_len,
                    )
                };
                self.live_call("residency", target, status, before);
                assert!(
                    pages[pages_len..].iter().all(|byte| *byte == CANARY),
                    "residency wrote past the pages buffer"
                );
            }
            10 | 18 => self.resize(before),
            11 => {
                let target = self.target();
                let (address, id) = self.pair(target);
                let (out, out_len) = self.out_buffer();
                let status = unsafe { mmap_ffi_retire(address, id, out, out_len) };
                if let (Some(index), 0) = (self.live_call("retire", target, status, before), status)
                {
                    self.retire_model(index);
                }
            }
            12 => {
                // The GC deallocator (Bun): drops a hold of a registered pair only.
                let target = self.target();
                self.drop_hold(target, true);
            }
            13 => {
                let name = self.shm_name();
                let (out, out_len) = self.out_buffer();
                let status =
                    unsafe { mmap_ffi_shm_unlink(ptr_or_null(&name), name.len(), out, out_len) };
                check_status(status);
                self.check_out_canary();
            }
            14 => {
                let len = self.input.below(600);
                let mut buf = vec![CANARY; len + CANARY_LEN];
                let (status, syscall) = (self.input.u32() as i32, i32::from(self.input.u8()));
                let ptr = if self.input.below(6) == 0 {
                    std::ptr::null_mut()
                } else {
                    buf.as_mut_ptr()
                };
                let written = if self.input.below(2) == 0 {
                    unsafe { mmap_ffi_describe(status, syscall, ptr, len) }
                } else {
                    unsafe { mmap_ffi_constants(ptr, len) }
                };
                assert!(written > 0);
                assert!(
                    buf[len..].iter().all(|byte| *byte == CANARY),
                    "wrote past the text buffer"
                );
            }
            15 => {
                if !self.maps.is_empty() {
                    let index = self.input.below(self.maps.len());
                    let offset = self.input.u32() as usize;
                    self.touch(index, offset);
                }
            }
            16 => {
                let target = self.target();
                let (address, id) = self.pair(target);
                let (out, out_len) = self.out_buffer();
                let status = unsafe { mmap_ffi_hold(address, id, out, out_len) };
                if let Some(index) = self.live_call("hold", target, status, before) {
                    assert_eq!(status, 0, "hold on a live mapping failed");
                    self.maps[index].holds += 1;
                }
            }
            _ => self.choose_move(),
        }
        assert_eq!(
            mmap_ffi_live_count() as usize,
            self.maps.len(),
            "the registry does not hold the mappings the model does"
        );
        assert_eq!(
            mmap_ffi_retired_count() as usize,
            self.maps.iter().filter(|map| map.retired).count(),
            "the registry does not count the retired mappings the model does"
        );
    }

    /// Drops every hold left, one at a time, and checks that nothing remains.
    fn finish(&mut self) {
        for map in std::mem::take(&mut self.maps) {
            for dropped in 1..=map.holds {
                let before = mmap_ffi_live_count();
                let status =
                    unsafe { mmap_ffi_unmap(map.address, map.id, std::ptr::null_mut(), 0) };
                assert_eq!(status, 0, "a hold of {:?} could not be dropped", map.pair());
                let left = if dropped == map.holds { 1 } else { 0 };
                assert_eq!(
                    mmap_ffi_live_count(),
                    before - left,
                    "{:?} ({} holds) went with hold {dropped}",
                    map.pair(),
                    map.holds
                );
            }
            let status = unsafe { mmap_ffi_unmap(map.address, map.id, std::ptr::null_mut(), 0) };
            assert_eq!(status, NOT_LIVE, "a mapping outlived its last hold");
        }
        assert_eq!(
            mmap_ffi_live_count(),
            0,
            "the registry holds mappings nobody handed out"
        );
        for name in self.shm_names.drain() {
            if let Ok(name) = CString::new(name) {
                unsafe { libc::shm_unlink(name.as_ptr()) };
            }
        }
        let dir = self.fixture.dir.to_string_lossy().into_owned();
        let maps = proc_maps();
        assert!(
            !maps.lines().any(|line| line.contains(&dir)),
            "a file of the run is still mapped"
        );
    }
}

/// MMAP_FUZZ_TRACE=1 prints every step (to find the call behind a crash).
fn trace() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("MMAP_FUZZ_TRACE").is_some())
}

/// Whether the library takes these out slots.
fn out_valid(out: *mut f64, out_len: usize) -> bool {
    !out.is_null() && out_len >= OUT_SLOTS
}

/// Whether the driver may touch a mapping: all but a shared mapping of a device at a non-zero
/// offset, whose pages past what the device provides raise SIGBUS.
fn touchable(backing: &Backing, flags: i32, page: u64) -> bool {
    !(backing.device && flags & libc::MAP_SHARED != 0 && backing.offset >= page)
}

fn ptr_or_null(bytes: &[u8]) -> *const u8 {
    if bytes.is_empty() {
        std::ptr::null()
    } else {
        bytes.as_ptr()
    }
}

/// Descriptors open now, by number.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// Runs one input: a sequence of calls, then the end-of-sequence checks.
pub fn run(data: &[u8]) {
    let fixture = fixture();
    let page = fixture.page as usize;
    for (name, size) in [("file0", 3 * page + 17), ("file1", page)] {
        std::fs::write(fixture.dir.join(name), vec![7u8; size]).unwrap();
    }
    // A resize or map_file may have grown the fixture's files (through its descriptors too): put
    // their size back (only then: truncating a file is slow on a busy disk).
    for (name, size, _) in fixture_sizes(page) {
        let path = fixture.dir.join(name);
        if std::fs::metadata(&path).map(|meta| meta.len()).ok() != Some(size as u64) {
            let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            file.set_len(size as u64).unwrap();
        }
    }
    let _ = std::fs::remove_file(fixture.dir.join("missing"));
    let fds = open_fds();
    let mut run = Run {
        input: Input {
            data,
            at: 0,
            sane: false,
        },
        fixture,
        maps: Vec::new(),
        stale: Vec::new(),
        moved: Vec::new(),
        shm_names: HashSet::new(),
        out: [0.0; OUT_SLOTS + 2],
    };
    for _ in 0..64 {
        if run.input.done() {
            break;
        }
        run.step();
    }
    run.finish();
    assert_eq!(open_fds(), fds, "a descriptor was left open");
    // Files the run created by name go, so the next input starts the same.
    if let Ok(entries) = std::fs::read_dir(&fixture.dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !name.to_string_lossy().starts_with("fd-") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Removes the run's temp directory (the stable driver calls it at the end).
pub fn clean_up() {
    let fixture = fixture();
    for fd in &fixture.fds {
        unsafe { libc::close(*fd) };
    }
    let _ = std::fs::remove_dir_all(&fixture.dir);
}
