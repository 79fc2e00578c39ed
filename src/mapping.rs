//! The mapping operations in safe Rust: what each C export does once its arguments are decoded.
//!
//! Lifetime: a mapping is made with one hold (see `registry`). [`release`] drops a hold and
//! unmaps the range when none is left; [`hold`] adds one; [`retire`] lets go of the file at
//! once (the pages become anonymous zero pages) while the range waits for its last hold. An
//! operation that runs off the caller's thread ([`sync`]) holds the range while it runs.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{LazyLock, Mutex};

use crate::os::{self, OpenOptions, OsError};
use crate::page;
use crate::registry::{self, Entry, Registry};
use crate::status;

/// Addresses and lengths travel to JavaScript as numbers, exact only below 2^53.
const MAX_EXACT: usize = 1 << 53;

/// Why an operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A system call failed.
    Os(OsError),
    /// A library refusal (a negative status from [`status`]); the file size where it matters.
    Refused { status: i32, file_size: u64 },
    /// The library already holds as many mappings as it allows (see [`mapping_limit`]).
    TooMany { limit: usize },
}

impl Failure {
    /// A library refusal with no file size to report.
    pub fn refused(status: i32) -> Failure {
        Failure::Refused {
            status,
            file_size: 0,
        }
    }

    /// The status code for the C ABI.
    pub fn status(self) -> i32 {
        match self {
            Failure::Os(error) => error.errno,
            Failure::Refused { status, .. } => status,
            Failure::TooMany { .. } => status::MAPPING_LIMIT,
        }
    }
}

impl From<OsError> for Failure {
    fn from(error: OsError) -> Failure {
        Failure::Os(error)
    }
}

pub type Outcome<T> = Result<T, Failure>;

/// What to map: `length` 0 means "from `offset` to the end of the file". `offset` may be any
/// byte offset; it is rounded down to a page for the system call.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    pub length: usize,
    pub prot: i32,
    pub flags: i32,
    pub offset: u64,
}

/// A new mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapped {
    pub address: usize,
    pub length: usize,
    pub id: u64,
}

/// How many live mappings the library keeps at most: three quarters of the kernel's per-process
/// limit on mappings, so the runtime itself (its heap, its threads) always has room. Past the
/// kernel's limit every `mmap` fails, the runtime's own included, and V8 aborts. Retired
/// mappings (zero pages waiting for the runtime to let go) count only as far as the kernel
/// counts them: side by side they merge into one kernel mapping (see [`check_limit`]).
pub static MAPPING_LIMIT: LazyLock<usize> =
    LazyLock::new(|| os::max_map_count().map_or(usize::MAX, |count| count - count / 4));

/// The limit in force; see [`MAPPING_LIMIT`].
pub fn mapping_limit() -> usize {
    *MAPPING_LIMIT
}

fn check_request(request: &Request) -> Outcome<()> {
    let sharing = os::SHARING_FLAGS
        .iter()
        .filter(|flag| request.flags & **flag == **flag)
        .count();
    let valid = request.flags & !os::ALLOWED_MAP_FLAGS == 0
        && sharing == 1
        && request.prot & !os::ALLOWED_PROT == 0
        && u64::try_from(request.length).is_ok_and(|length| length <= MAX_EXACT as u64)
        && request.offset <= MAX_EXACT as u64;
    if valid {
        Ok(())
    } else {
        Err(Failure::refused(status::INVALID_ARGUMENT))
    }
}

/// Maps `fd` (or anonymous memory when `fd` is -1 and the flags say MAP_ANONYMOUS).
pub fn map_fd(fd: RawFd, request: Request) -> Outcome<Mapped> {
    check_request(&request)?;
    let anonymous = request.flags & os::MAP_ANONYMOUS != 0;
    if anonymous != (fd == -1) {
        return Err(Failure::refused(status::INVALID_ARGUMENT));
    }
    if anonymous {
        if request.length == 0 || request.offset != 0 {
            return Err(Failure::refused(status::INVALID_ARGUMENT));
        }
        return map_range(fd, request.length, request, None);
    }
    let info = os::fstat(fd)?;
    let length = if !info.regular {
        if request.length == 0 {
            return Err(Failure::refused(status::SIZE_UNKNOWN));
        }
        request.length
    } else {
        fitted_length(request, info.size)?
    };
    map_range(fd, length, request, Some(info.identity))
}

/// The length to map from a regular file of `file_size` bytes: the request's, or the rest of
/// the file for 0. Refuses a range that reaches past the end (touching it raises SIGBUS).
fn fitted_length(request: Request, file_size: u64) -> Outcome<usize> {
    let refuse = |status| Failure::Refused { status, file_size };
    if request.offset > file_size {
        return Err(refuse(status::PAST_END_OF_FILE));
    }
    if request.length == 0 {
        if request.offset == file_size {
            return Err(refuse(status::EMPTY_FILE));
        }
        let rest = file_size - request.offset;
        return usize::try_from(rest)
            .ok()
            .filter(|rest| *rest <= MAX_EXACT)
            .ok_or(refuse(status::INVALID_ARGUMENT));
    }
    let end = request.offset.checked_add(request.length as u64);
    if end.is_none_or(|end| end > file_size) {
        return Err(refuse(status::PAST_END_OF_FILE));
    }
    Ok(request.length)
}

/// Refuses a new mapping once the library holds [`mapping_limit`] live ones, or once the
/// process holds that many kernel mappings in all while retired ones wait for the runtime.
///
/// A runtime may hold on to many retired ranges (Node lets go of a buffer only when its event
/// loop turns, so a synchronous loop of map and unmap piles them up). They are anonymous zero
/// pages alike, so neighbours merge and cost the kernel little; the kernel's own count is read
/// only then, at most once per [`RECOUNT_EVERY`] new mappings.
fn check_limit() -> Outcome<()> {
    let limit = mapping_limit();
    let registry = registry::lock();
    let entries = registry.len();
    if entries - registry.retired_len() >= limit {
        return Err(Failure::TooMany { limit });
    }
    if entries < limit {
        return Ok(());
    }
    let mut last = KERNEL_COUNT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let recent = entries.saturating_sub(last.entries);
    if last.mappings + recent + RECOUNT_EVERY >= limit || recent >= RECOUNT_EVERY {
        // Unknown on a system without a readable count: then entries are the estimate.
        let mappings = os::process_mapping_count().unwrap_or(entries);
        *last = KernelCount { entries, mappings };
    }
    if last.mappings + RECOUNT_EVERY >= limit {
        return Err(Failure::TooMany { limit });
    }
    Ok(())
}

/// How many new mappings may be made between two reads of the kernel's count.
const RECOUNT_EVERY: usize = 1024;

/// The kernel's count of this process's mappings when last read, and the registry's then.
#[derive(Default)]
struct KernelCount {
    entries: usize,
    mappings: usize,
}

static KERNEL_COUNT: Mutex<KernelCount> = Mutex::new(KernelCount {
    entries: 0,
    mappings: 0,
});

fn map_range(
    fd: RawFd,
    length: usize,
    request: Request,
    identity: Option<(u64, u64)>,
) -> Outcome<Mapped> {
    check_limit()?;
    let (aligned_offset, delta) = page::split_offset(request.offset);
    let base_length = length + delta;
    // The new range is nobody else's until it is registered, so the lock is not held while
    // the kernel maps (and, with MAP_POPULATE, reads) it.
    let base = os::mmap(base_length, request.prot, request.flags, fd, aligned_offset)?;
    let placed = Placed {
        base,
        base_length,
        delta,
    };
    register(&mut registry::lock(), placed, length, request, identity)
}

/// A range the kernel mapped, and where the caller's view starts in it.
#[derive(Clone, Copy, Debug)]
struct Placed {
    base: usize,
    base_length: usize,
    delta: usize,
}

/// Records a range just mapped for the caller (unmapping it if its address cannot travel to
/// JavaScript exactly).
fn register(
    registry: &mut Registry,
    placed: Placed,
    length: usize,
    request: Request,
    identity: Option<(u64, u64)>,
) -> Outcome<Mapped> {
    let address = placed.base + placed.delta;
    if address + length > MAX_EXACT {
        // SAFETY: the range was mapped by the caller and nothing has seen it yet.
        unsafe { os::munmap(placed.base, placed.base_length) }?;
        return Err(Failure::refused(status::ADDRESS_TOO_HIGH));
    }
    let id = registry.insert(registry::NewEntry {
        address,
        length,
        base: placed.base,
        base_length: placed.base_length,
        flags: request.flags,
        prot: request.prot,
        file_offset: request.offset,
        identity,
    });
    Ok(Mapped {
        address,
        length,
        id,
    })
}

/// Grows an open regular file to `size` bytes if it is shorter; returns its size before, if it
/// grew, so a later failure can put it back.
fn grow(fd: &OwnedFd, size: u64) -> Outcome<Option<u64>> {
    let info = os::fstat(fd.as_raw_fd())?;
    if info.regular && info.size < size {
        os::ftruncate(fd, size)?;
        return Ok(Some(info.size));
    }
    Ok(None)
}

/// Grows the regular file (or shared-memory object) behind `fd` to `grow_to` bytes if that is
/// larger (0: never), maps it, and puts the size back if the mapping fails.
fn grow_and_map(fd: &OwnedFd, request: Request, grow_to: u64) -> Outcome<Mapped> {
    let grown_from = if grow_to > 0 {
        grow(fd, grow_to)?
    } else {
        None
    };
    let mapped = map_fd(fd.as_raw_fd(), request);
    if mapped.is_err()
        && let Some(size) = grown_from
    {
        // Best effort: the call is failing anyway.
        let _ = os::ftruncate(fd, size);
    }
    mapped
}

/// Maps the regular file open as `fd` (a descriptor the caller opened by name, through its
/// runtime's own file API and sandbox), growing it to `grow_to` bytes first if that is larger (0:
/// never); a failure puts the size back. Anything but a regular file is refused (`NOT_A_FILE`):
/// a FIFO or device named by a path is not what a file mapping means, and its size is unknown.
pub fn map_file(fd: RawFd, request: Request, grow_to: u64) -> Outcome<Mapped> {
    check_request(&request)?;
    if request.flags & os::MAP_ANONYMOUS != 0 {
        return Err(Failure::refused(status::INVALID_ARGUMENT));
    }
    if !os::fstat(fd)?.regular {
        return Err(Failure::refused(status::NOT_A_FILE));
    }
    // SAFETY: the descriptor is the caller's; ManuallyDrop keeps it open after this call.
    let borrowed = std::mem::ManuallyDrop::new(unsafe { OwnedFd::from_raw_fd(fd) });
    grow_and_map(&borrowed, request, grow_to)
}

/// Opens a file or shared-memory object with `open`, grows it to `grow_to` bytes if that is
/// larger (0: never; needs `write`), maps it, and closes the descriptor. A failure after the
/// open leaves nothing behind: the size is put back, and what this call created is removed
/// with `remove`.
fn map_opened(
    open: impl Fn(OpenOptions) -> os::OsResult<OwnedFd>,
    remove: impl FnOnce() -> os::OsResult<()>,
    options: OpenOptions,
    request: Request,
    grow_to: u64,
    regular_only: bool,
) -> Outcome<Mapped> {
    check_request(&request)?;
    if request.flags & os::MAP_ANONYMOUS != 0 || (grow_to > 0 && !options.write) {
        return Err(Failure::refused(status::INVALID_ARGUMENT));
    }
    let (fd, created) = os::open_tracking_creation(open, options)?;
    let mapped = (|| {
        if regular_only && !os::fstat(fd.as_raw_fd())?.regular {
            return Err(Failure::refused(status::NOT_A_FILE));
        }
        grow_and_map(&fd, request, grow_to)
    })();
    // An empty file or object with nothing to map is not a failure to undo: the caller may
    // take it as an empty mapping (and asked to create it).
    let empty =
        matches!(mapped, Err(Failure::Refused { status, .. }) if status == status::EMPTY_FILE);
    if mapped.is_err() && created && !empty {
        let _ = remove(); // best effort: the call is failing anyway
    }
    mapped
}

/// Opens `path` (never blocking: a FIFO opens at once, and is refused as not a regular file),
/// grows it to `grow_to` bytes if that is larger than the file (0: never), maps it, and closes
/// the descriptor. A failure removes a file this call created and puts a grown one back.
pub fn map_path(
    path: &CStr,
    request: Request,
    options: OpenOptions,
    grow_to: u64,
) -> Outcome<Mapped> {
    map_opened(
        |options| os::open(path, options),
        || os::unlink(path),
        options,
        request,
        grow_to,
        true,
    )
}

/// Opens (or creates) the shared-memory object `name`, grows it to `grow_to` bytes if that is
/// larger (0: never), maps it, and closes the descriptor. A failure removes an object this call
/// created and puts a grown one back.
pub fn map_shm(
    name: &CStr,
    request: Request,
    options: OpenOptions,
    grow_to: u64,
) -> Outcome<Mapped> {
    map_opened(
        |options| os::shm_open(name, options),
        || os::shm_unlink(name),
        options,
        request,
        grow_to,
        false,
    )
}

/// Removes a shared-memory object's name.
pub fn unlink_shm(name: &CStr) -> Outcome<()> {
    os::shm_unlink(name)?;
    Ok(())
}

/// Adds a hold on the live mapping at `address`: its range stays reserved until the hold is
/// dropped with [`release`].
pub fn hold(address: usize, id: u64) -> Outcome<()> {
    let mut registry = registry::lock();
    let entry = registry
        .live(address, id)
        .ok_or(Failure::refused(status::NOT_LIVE))?;
    entry.holds = entry
        .holds
        .checked_add(1)
        .ok_or(Failure::refused(status::INVALID_ARGUMENT))?;
    Ok(())
}

/// Drops a hold on the mapping at `address` (live or retired) and unmaps its range when it was
/// the last: the caller's own hold, a runtime buffer's (from its release hook), or a hold added
/// with [`hold`].
pub fn release(address: usize, id: u64) -> Outcome<()> {
    let mut registry = registry::lock();
    let entry = registry
        .get_mut(address, id)
        .ok_or(Failure::refused(status::NOT_LIVE))?;
    if entry.holds > 1 {
        entry.holds -= 1;
        return Ok(());
    }
    // SAFETY: the registry held this range with no other hold left, so this library mapped it,
    // nothing it handed the range to uses it any more, and the lock keeps other threads from
    // seeing the entry without the range.
    unsafe { os::munmap(entry.base, entry.base_length) }?;
    registry.remove(address);
    Ok(())
}

/// Lets go of the file (or shared memory) behind the live mapping at `address` at once: its
/// pages become anonymous zero pages that whatever still uses the range may read and write
/// harmlessly. The range itself stays reserved until the last hold is dropped.
pub fn retire(address: usize, id: u64) -> Outcome<()> {
    let mut registry = registry::lock();
    let entry = registry
        .live(address, id)
        .ok_or(Failure::refused(status::NOT_LIVE))?;
    // SAFETY: the registry holds this range, so replacing it affects only our own pages; the
    // lock keeps a release on another thread from unmapping it meanwhile.
    unsafe { os::replace_with_zero_pages(entry.base, entry.base_length) }?;
    registry.retire(address, id);
    Ok(())
}

/// Marks the live mapping at `address` as wrapped by a runtime buffer, which from now on owns
/// the first hold; refuses a second wrap (two buffers could not share one hold).
///
/// A nonzero `owner` names the runtime context the buffer can never leave (see
/// [`abandon_owned_by`]).
pub fn mark_wrapped(address: usize, id: u64, length: usize, owner: usize) -> Outcome<()> {
    let mut registry = registry::lock();
    let entry = registry
        .live(address, id)
        .filter(|entry| entry.length == length && !entry.wrapped)
        .ok_or(Failure::refused(status::NOT_LIVE))?;
    entry.wrapped = true;
    entry.owner = owner;
    Ok(())
}

/// Unmaps every mapping whose buffer belonged to the runtime context `owner`, which has ended:
/// nothing can use those buffers any more, and a runtime that ends a context without calling
/// their release hooks (Node, when a Worker thread stops) would otherwise leave them mapped for
/// the life of the process. Returns how many were unmapped.
pub fn abandon_owned_by(owner: usize) -> usize {
    if owner == 0 {
        return 0;
    }
    let mut registry = registry::lock();
    let mut unmapped = 0;
    for address in registry.owned_by(owner) {
        let Some(entry) = registry.remove(address) else {
            continue;
        };
        // SAFETY: the registry held this range for a buffer of the context that ended, the only
        // place such a buffer could be used; the lock keeps other threads from seeing the entry
        // without the range.
        if unsafe { os::munmap(entry.base, entry.base_length) }.is_ok() {
            unmapped += 1;
        }
    }
    unmapped
}

/// The page-aligned range covering `length` bytes at `offset` of `entry`, mapped at `address`.
/// The start is rounded down to its page; that page belongs to the same mapping, which itself
/// starts on a page boundary.
fn page_range(
    entry: &Entry,
    address: usize,
    offset: usize,
    length: usize,
) -> Outcome<(usize, usize)> {
    let end = offset.checked_add(length);
    if end.is_none_or(|end| end > entry.length) {
        return Err(Failure::refused(status::OUT_OF_RANGE));
    }
    let (start, delta) = page::align_address(address + offset);
    Ok((start, length + delta))
}

/// Runs `call` on the page range of `length` bytes at `offset` of the live mapping at `address`,
/// with the registry locked (so the range cannot be unmapped meanwhile).
fn with_live_range<T>(
    address: usize,
    id: u64,
    offset: usize,
    length: usize,
    call: impl FnOnce(&mut Entry, usize, usize) -> Outcome<T>,
) -> Outcome<T> {
    let mut registry = registry::lock();
    let entry = registry
        .live(address, id)
        .ok_or(Failure::refused(status::NOT_LIVE))?;
    let (start, length) = page_range(entry, address, offset, length)?;
    call(entry, start, length)
}

/// Flushes `length` bytes at `offset` within the live mapping at `address` to its file; the
/// start is rounded down to a page for the system call. The range is held, not locked, while
/// `msync` runs (it may wait for the disk, and may run on a thread of its own): a release
/// meanwhile leaves the unmapping to the end of the flush.
pub fn sync(address: usize, id: u64, offset: usize, length: usize, flags: i32) -> Outcome<()> {
    if flags & !os::ALLOWED_MSYNC != 0 || flags & os::MSYNC_EXCLUSIVE == os::MSYNC_EXCLUSIVE {
        return Err(Failure::refused(status::INVALID_ARGUMENT));
    }
    let (start, length) = with_live_range(address, id, offset, length, |entry, start, length| {
        entry.holds = entry
            .holds
            .checked_add(1)
            .ok_or(Failure::refused(status::INVALID_ARGUMENT))?;
        Ok((start, length))
    })?;
    // SAFETY: the hold keeps the range mapped (by us: the file's pages, or zero pages once
    // retired) until it is released below; msync changes no contents.
    let flushed = unsafe { os::msync(start, length, flags) };
    release(address, id)?;
    flushed?;
    Ok(())
}

/// Gives the kernel `advice` (one of [`os::advice_names`]) about a range of a live mapping.
pub fn advise(address: usize, id: u64, offset: usize, length: usize, advice: i32) -> Outcome<()> {
    if !os::advice_allowed(advice) {
        return Err(Failure::refused(status::INVALID_ARGUMENT));
    }
    with_live_range(address, id, offset, length, |_, start, length| {
        // SAFETY: the range lies within a live mapping of ours and the advice is allowed.
        unsafe { os::madvise(start, length, advice) }?;
        Ok(())
    })
}

/// Locks or unlocks a range of a live mapping in memory.
pub fn lock(
    address: usize,
    id: u64,
    offset: usize,
    length: usize,
    how: os::Locking,
) -> Outcome<()> {
    with_live_range(address, id, offset, length, |entry, start, length| {
        if how == os::Locking::LockReading && entry.prot & libc::PROT_READ == 0 {
            return Err(Failure::refused(status::INVALID_ARGUMENT));
        }
        // SAFETY: the range lies within a live mapping of ours (readable, to lock it reading).
        unsafe { os::mlock(start, length, how) }?;
        Ok(())
    })
}

/// Changes the protection of a whole live mapping.
pub fn protect(address: usize, id: u64, prot: i32) -> Outcome<()> {
    if prot & !os::ALLOWED_PROT != 0 {
        return Err(Failure::refused(status::INVALID_ARGUMENT));
    }
    let mut registry = registry::lock();
    let entry = registry
        .live(address, id)
        .ok_or(Failure::refused(status::NOT_LIVE))?;
    // SAFETY: the registry holds this range, so it is ours.
    unsafe { os::mprotect(entry.base, entry.base_length, prot) }?;
    entry.prot = prot;
    Ok(())
}

/// Which pages of a range of a live mapping are resident: fills `pages` (one byte a page, 1
/// if resident) and returns (pages in the range, resident pages).
pub fn residency(
    address: usize,
    id: u64,
    offset: usize,
    length: usize,
    pages: &mut [u8],
) -> Outcome<(usize, usize)> {
    with_live_range(address, id, offset, length, |_, start, length| {
        let count = length.div_ceil(page::size());
        let Some(pages) = pages.get_mut(..count) else {
            return Err(Failure::refused(status::INVALID_ARGUMENT));
        };
        if count > 0 {
            // SAFETY: the range lies within a live mapping of ours; `pages` has a byte a page.
            unsafe { os::mincore(start, length, pages) }?;
        }
        for page in pages.iter_mut() {
            *page &= 1;
        }
        let resident = pages.iter().filter(|page| **page == 1).count();
        Ok((count, resident))
    })
}

/// Where a mapping's pages come from, for [`resize`]: resizing a file or shared-memory mapping
/// reopens it to check (and, if asked, grow) its size, so no page reaches past its end.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    Anonymous,
    /// A file by path (opened here).
    File(&'a CStr),
    /// A file the caller opened (through its runtime's sandbox), by descriptor.
    Descriptor(RawFd),
    SharedMemory(&'a CStr),
}

/// The source of a mapping being resized, open and checked.
struct Fitted {
    fd: OwnedFd,
    /// The file's size before it was grown for the resize, to put back if a later step fails.
    grown_from: Option<u64>,
}

impl Fitted {
    /// Undoes the growth (best effort: the resize is failing anyway).
    fn undo(&self) {
        if let Some(size) = self.grown_from {
            let _ = os::ftruncate(&self.fd, size);
        }
    }
}

/// Reopens the source and checks that it is still the file or object mapped (`identity`, when
/// known) and that `end` bytes fit in it, growing it to `grow_to` first if that is larger (0:
/// never). A name that now leads elsewhere (a file replaced by rename, an object unlinked and
/// made again) is refused: its size says nothing about the mapped one, and pages past the end
/// of that one would raise SIGBUS. So is growing a mapping of something that is not a regular
/// file (a device such as /dev/zero, whose shared pages past the mapped length raise SIGBUS):
/// its size is unknown. Returns `None` for anonymous memory.
fn fit_source(
    source: Source,
    entry: &Entry,
    grow_to: u64,
    end: u64,
    grows: bool,
) -> Outcome<Option<Fitted>> {
    // Mapping a shared source writable again needs it open for writing, as growing it does.
    let shared_write =
        entry.flags & os::SHARING_FLAGS[0] != 0 && entry.prot & libc::PROT_WRITE != 0;
    let options = OpenOptions {
        write: grow_to > 0 || shared_write,
        ..OpenOptions::default()
    };
    let identity = entry.identity;
    let fd = match source {
        Source::Anonymous => return Ok(None),
        Source::File(path) => os::open(path, options)?,
        // The caller keeps its descriptor; this one closes only the duplicate.
        Source::Descriptor(fd) => os::duplicate(fd)?,
        Source::SharedMemory(name) => os::shm_open(name, options)?,
    };
    if let Some(identity) = identity
        && os::fstat(fd.as_raw_fd())?.identity != identity
    {
        return Err(Failure::refused(status::SOURCE_REPLACED));
    }
    let grown_from = if grow_to > 0 {
        grow(&fd, grow_to)?
    } else {
        None
    };
    let fitted = Fitted { fd, grown_from };
    let checked = (|| {
        let info = os::fstat(fitted.fd.as_raw_fd())?;
        if !info.regular && grows {
            return Err(Failure::refused(status::DEVICE_CANNOT_GROW));
        }
        if info.regular && end > info.size {
            return Err(Failure::Refused {
                status: status::PAST_END_OF_FILE,
                file_size: info.size,
            });
        }
        Ok(())
    })();
    match checked {
        Ok(()) => Ok(Some(fitted)),
        Err(failure) => {
            fitted.undo();
            Err(failure)
        }
    }
}

/// Starts resizing the live mapping at `address` to `new_length` bytes: everything that can
/// fail happens here, while the old mapping is untouched, and a failure puts back what was
/// done (a grown file's size). Returns the new mapping.
///
/// A shared file or shared-memory mapping maps its source anew: the data is in the source, so
/// the new mapping is complete and the caller unmaps the old one as any other. Every other
/// mapping (private, or anonymous) gets a new range of the right kind and size, and a hold on
/// the old one; the caller then lets go of the old mapping's buffer and calls [`move_pages`],
/// which carries the bytes over. A file or shared-memory source is reopened to check (and grow
/// to `grow_to` bytes if that is larger; 0: never) its size. The flag says whether
/// [`move_pages`] must follow.
pub fn resize(
    address: usize,
    id: u64,
    new_length: usize,
    source: Source,
    grow_to: u64,
) -> Outcome<(Mapped, bool)> {
    let entry = *registry::lock()
        .live(address, id)
        .ok_or(Failure::refused(status::NOT_LIVE))?;
    let anonymous = entry.flags & os::MAP_ANONYMOUS != 0;
    if new_length == 0 || new_length > MAX_EXACT || anonymous != matches!(source, Source::Anonymous)
    {
        return Err(Failure::refused(status::INVALID_ARGUMENT));
    }
    let shared = entry.flags & os::SHARING_FLAGS[0] != 0;
    let grows = new_length > entry.length;
    if anonymous && shared && grows {
        return Err(Failure::refused(status::CANNOT_GROW));
    }
    let end = entry.file_offset.saturating_add(new_length as u64);
    let fitted = fit_source(source, &entry, grow_to, end, grows)?;
    let fd = fitted.as_ref().map_or(-1, |fitted| fitted.fd.as_raw_fd());
    let request = Request {
        length: new_length,
        prot: entry.prot,
        flags: entry.flags,
        offset: entry.file_offset,
    };
    let moves = moves_pages(&entry);
    let made = map_range(fd, new_length, request, entry.identity).and_then(|mapped| {
        if moves {
            // The old range must outlive its buffer until `move_pages` has carried it over, and
            // only these two may be paired for it.
            if let Err(failure) = hold(address, id) {
                let _ = release(mapped.address, mapped.id);
                return Err(failure);
            }
            if let Some(fresh) = registry::lock().live(mapped.address, mapped.id) {
                fresh.resized_from = Some((address, id));
            }
        }
        Ok((mapped, moves))
    });
    if made.is_err()
        && let Some(fitted) = &fitted
    {
        fitted.undo();
    }
    made
}

/// Whether resizing this mapping carries its pages over with [`move_pages`]: all but shared
/// mappings of a file or shared-memory object, whose data is in their source.
fn moves_pages(entry: &Entry) -> bool {
    let shared = entry.flags & os::SHARING_FLAGS[0] != 0;
    let anonymous = entry.flags & os::MAP_ANONYMOUS != 0;
    !shared || anonymous
}

/// Finishes a [`resize`] of a private or anonymous mapping: carries the bytes of the old
/// mapping (`address`, `id`) over to the new one (`to`, `to_id`) that resize made for it, and
/// drops the hold `resize` took; any other pair is refused. If that hold was the old range's
/// last (nothing else uses it: its buffer was let go and no operation holds it), the kernel moves
/// the pages themselves into the new range (`mremap`), and the old range is gone. Otherwise the
/// pages that hold data of their own are copied, and the old mapping is retired (its range
/// stays, as zero pages, until its last hold goes). Either way the new mapping ends up with the
/// old one's protection. On failure nothing has changed.
pub fn move_pages(address: usize, id: u64, to: usize, to_id: u64) -> Outcome<()> {
    let mut registry = registry::lock();
    let old = *registry
        .live(address, id)
        .ok_or(Failure::refused(status::NOT_LIVE))?;
    let new = *registry
        .live(to, to_id)
        .ok_or(Failure::refused(status::NOT_LIVE))?;
    if new.resized_from != Some((address, id)) {
        return Err(Failure::refused(status::INVALID_ARGUMENT));
    }
    let moved = old.holds == 1
        // SAFETY: the registry holds both ranges, nothing uses the old one (this was its last
        // hold) and nothing has seen the new one; MREMAP_FIXED replaces only the new range.
        && unsafe { os::mremap_fixed(old.base, old.base_length, new.base_length, new.base) }
            .is_ok();
    if !moved {
        // SAFETY: both ranges are live mappings of ours (the lock keeps them so) and distinct.
        unsafe { copy_pages(&old, &new) }?;
        // SAFETY: the registry holds the old range, so replacing it affects only our own pages.
        unsafe { os::replace_with_zero_pages(old.base, old.base_length) }?;
    }
    let fresh = registry
        .live(to, to_id)
        .ok_or(Failure::refused(status::NOT_LIVE))?;
    fresh.resized_from = None;
    fresh.prot = old.prot;
    if moved {
        registry.remove(address);
        return Ok(());
    }
    registry.retire(address, id);
    drop(registry);
    release(address, id)
}

/// Restores the protection of ranges made accessible for a copy, on every path out.
struct Restore<'a> {
    ranges: Vec<(&'a Entry, i32)>,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        for (entry, prot) in &self.ranges {
            // SAFETY: the caller of `copy_pages` guarantees the range is ours; this puts back
            // the protection it had. Best effort: there is nothing else to do on failure.
            let _ = unsafe { os::mprotect(entry.base, entry.base_length, *prot) };
        }
    }
}

/// Copies the pages of `old` into `new` that hold data of their own: for private file mappings
/// the pages written since (copies), for private anonymous memory every page touched, swapped
/// out or not (`/proc/self/pagemap`, read a chunk at a time; where it cannot be read, and for
/// shared anonymous memory, every page is compared). Pages equal to
/// what the new mapping already has (zeros, or the file's) are not written, so they stay shared
/// and unallocated. Whole pages from the start of each range, as `mremap` would move them:
/// bytes past the new length in its last page keep what they held. The new mapping ends with
/// the old one's protection; on failure both keep theirs.
///
/// # Safety
/// Both must be live mappings of ours, distinct, and kept so by the caller.
unsafe fn copy_pages(old: &Entry, new: &Entry) -> Outcome<()> {
    let page = page::size();
    let length = old
        .base_length
        .next_multiple_of(page)
        .min(new.base_length.next_multiple_of(page));
    let anonymous = old.flags & os::MAP_ANONYMOUS != 0;
    let shared = old.flags & os::SHARING_FLAGS[0] != 0;
    // Shared anonymous pages keep their data in shmem even when not mapped: compare them all.
    let mut may_hold_data =
        (!(anonymous && shared)).then(|| os::pages_with_data(old.base, length, anonymous));
    let readable = libc::PROT_READ;
    let writable = libc::PROT_READ | libc::PROT_WRITE;
    let mut restore = Restore { ranges: Vec::new() };
    for (entry, wanted) in [(old, readable), (new, writable)] {
        if entry.prot & wanted != wanted {
            // SAFETY: the caller guarantees the range is ours.
            unsafe { os::mprotect(entry.base, entry.base_length, entry.prot | wanted) }?;
            restore.ranges.push((entry, entry.prot));
        }
    }
    for at in (0..length).step_by(page) {
        if may_hold_data
            .as_mut()
            .is_some_and(|pages| pages.next() == Some(false))
        {
            continue;
        }
        // SAFETY: both ranges are mapped for whole pages up to `length` and readable (made so
        // above); the kernel maps whole pages, so the last partial page is there in full.
        let (source, target) = unsafe {
            (
                std::slice::from_raw_parts((old.base + at) as *const u8, page),
                std::slice::from_raw_parts((new.base + at) as *const u8, page),
            )
        };
        if source != target {
            // SAFETY: as above; the new range is writable and does not overlap the old one.
            unsafe { os::copy(old.base + at, new.base + at, page) };
        }
    }
    // The new mapping takes the old one's protection, as pages moved by mremap would.
    let new_opened = restore
        .ranges
        .iter()
        .any(|(entry, _)| entry.base == new.base);
    restore.ranges.retain(|(entry, _)| entry.base != new.base);
    if new_opened || new.prot != old.prot {
        // SAFETY: the caller guarantees the range is ours.
        if let Err(error) = unsafe { os::mprotect(new.base, new.base_length, old.prot) } {
            // SAFETY: as above; put back what it had.
            let _ = unsafe { os::mprotect(new.base, new.base_length, new.prot) };
            return Err(error.into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anonymous(length: usize) -> Request {
        Request {
            length,
            prot: libc::PROT_READ | libc::PROT_WRITE,
            flags: libc::MAP_PRIVATE | libc::MAP_ANON,
            offset: 0,
        }
    }

    #[test]
    fn anonymous_mapping_round_trip() {
        let mapped = map_fd(-1, anonymous(10_000)).unwrap();
        assert_eq!(mapped.length, 10_000);
        assert!(registry::lock().live(mapped.address, mapped.id).is_some());
        release(mapped.address, mapped.id).unwrap();
        assert_eq!(
            release(mapped.address, mapped.id),
            Err(Failure::refused(status::NOT_LIVE))
        );
    }

    #[test]
    fn the_range_is_unmapped_with_the_last_hold() {
        let mapped = map_fd(-1, anonymous(4096)).unwrap();
        hold(mapped.address, mapped.id).unwrap();
        release(mapped.address, mapped.id).unwrap();
        assert!(
            registry::lock().live(mapped.address, mapped.id).is_some(),
            "one hold left"
        );
        release(mapped.address, mapped.id).unwrap();
        assert!(
            registry::lock()
                .get_mut(mapped.address, mapped.id)
                .is_none()
        );
    }

    #[test]
    fn a_retired_mapping_refuses_everything_but_release() {
        let mapped = map_fd(-1, anonymous(4096)).unwrap();
        retire(mapped.address, mapped.id).unwrap();
        let not_live = Err(Failure::refused(status::NOT_LIVE));
        assert_eq!(retire(mapped.address, mapped.id), not_live);
        assert_eq!(hold(mapped.address, mapped.id), not_live);
        assert_eq!(
            sync(mapped.address, mapped.id, 0, 1, libc::MS_SYNC),
            not_live
        );
        assert_eq!(
            protect(mapped.address, mapped.id, libc::PROT_READ),
            not_live
        );
        release(mapped.address, mapped.id).unwrap();
    }

    #[test]
    fn a_mapping_is_wrapped_at_most_once() {
        let mapped = map_fd(-1, anonymous(4096)).unwrap();
        let not_live = Err(Failure::refused(status::NOT_LIVE));
        assert_eq!(
            mark_wrapped(mapped.address, mapped.id, 4095, 0),
            not_live,
            "wrong length"
        );
        mark_wrapped(mapped.address, mapped.id, 4096, 0).unwrap();
        assert_eq!(mark_wrapped(mapped.address, mapped.id, 4096, 0), not_live);
        release(mapped.address, mapped.id).unwrap();
    }

    #[test]
    fn the_end_of_an_owner_unmaps_its_mappings_and_no_others() {
        // An owner value no other test uses (real ones are Node-API environment pointers).
        let owner = 0x5eed_0001;
        let owned = map_fd(-1, anonymous(4096)).unwrap();
        let held = map_fd(-1, anonymous(8192)).unwrap();
        let other = map_fd(-1, anonymous(4096)).unwrap();
        mark_wrapped(owned.address, owned.id, 4096, owner).unwrap();
        mark_wrapped(held.address, held.id, 8192, owner).unwrap();
        hold(held.address, held.id).unwrap(); // a second hold goes too
        retire(owned.address, owned.id).unwrap(); // retired ones go too
        mark_wrapped(other.address, other.id, 4096, 0).unwrap();
        assert_eq!(abandon_owned_by(owner), 2);
        assert!(registry::lock().get_mut(owned.address, owned.id).is_none());
        assert!(registry::lock().get_mut(held.address, held.id).is_none());
        assert!(registry::lock().live(other.address, other.id).is_some());
        assert_eq!(abandon_owned_by(owner), 0, "nothing left to unmap");
        assert_eq!(abandon_owned_by(0), 0, "0 owns nothing");
        release(other.address, other.id).unwrap();
    }

    #[test]
    fn map_fixed_is_refused() {
        let mut request = anonymous(4096);
        request.flags |= libc::MAP_FIXED;
        assert_eq!(
            map_fd(-1, request),
            Err(Failure::refused(status::INVALID_ARGUMENT))
        );
    }

    #[test]
    fn shared_and_private_together_are_refused() {
        let mut request = anonymous(4096);
        request.flags |= libc::MAP_SHARED;
        assert!(map_fd(-1, request).is_err());
    }

    #[test]
    fn fitted_length_refuses_past_end() {
        let request = |length, offset| Request {
            length,
            prot: libc::PROT_READ,
            flags: libc::MAP_SHARED,
            offset,
        };
        assert_eq!(fitted_length(request(100, 0), 100), Ok(100));
        assert_eq!(fitted_length(request(0, 10), 100), Ok(90));
        assert_eq!(
            fitted_length(request(101, 0), 100),
            Err(Failure::Refused {
                status: status::PAST_END_OF_FILE,
                file_size: 100
            })
        );
        assert_eq!(
            fitted_length(request(0, 100), 100),
            Err(Failure::Refused {
                status: status::EMPTY_FILE,
                file_size: 100
            })
        );
        assert!(fitted_length(request(usize::MAX, u64::MAX), 100).is_err());
    }

    #[test]
    fn sync_checks_the_range_and_flags() {
        let mut request = anonymous(8192);
        request.flags = libc::MAP_SHARED | libc::MAP_ANON;
        let mapped = map_fd(-1, request).unwrap();
        assert_eq!(
            sync(mapped.address, mapped.id, 100, 50, libc::MS_SYNC),
            Ok(())
        );
        assert_eq!(
            sync(mapped.address, mapped.id, 8000, 193, libc::MS_SYNC),
            Err(Failure::refused(status::OUT_OF_RANGE))
        );
        assert_eq!(
            sync(
                mapped.address,
                mapped.id,
                0,
                1,
                libc::MS_SYNC | libc::MS_ASYNC
            ),
            Err(Failure::refused(status::INVALID_ARGUMENT))
        );
        assert_eq!(
            sync(mapped.address, mapped.id + 1, 0, 1, libc::MS_SYNC),
            Err(Failure::refused(status::NOT_LIVE))
        );
        assert_eq!(
            registry::lock()
                .live(mapped.address, mapped.id)
                .map(|e| e.holds),
            Some(1),
            "sync gave its hold back"
        );
        release(mapped.address, mapped.id).unwrap();
    }

    #[test]
    fn the_mapping_limit_leaves_the_kernel_room() {
        if let Some(count) = os::max_map_count() {
            assert!(mapping_limit() < count);
            assert!(mapping_limit() >= count / 2);
        }
    }
}
