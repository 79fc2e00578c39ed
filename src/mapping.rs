//! The mapping operations in safe Rust: what each C export does once its arguments are decoded.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::os::{self, OpenOptions, OsError};
use crate::status;
use crate::{page, registry};

/// Addresses and lengths travel to JavaScript as numbers, exact only below 2^53.
const MAX_EXACT: usize = 1 << 53;

/// Why an operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A system call failed.
    Os(OsError),
    /// A library refusal (a negative status from [`status`]); the file size where it matters.
    Refused { status: i32, file_size: u64 },
}

impl Failure {
    fn refused(status: i32) -> Failure {
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

/// A new live mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapped {
    pub address: usize,
    pub length: usize,
    pub id: u64,
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
    if request.length == 0 {
        if request.offset >= file_size {
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

fn map_range(
    fd: RawFd,
    length: usize,
    request: Request,
    identity: Option<(u64, u64)>,
) -> Outcome<Mapped> {
    let (aligned_offset, delta) = page::split_offset(request.offset);
    let base_length = length + delta;
    let base = os::mmap(base_length, request.prot, request.flags, fd, aligned_offset)?;
    let address = base + delta;
    if address + length > MAX_EXACT {
        // SAFETY: the range was mapped just above and nothing has seen it yet.
        unsafe { os::munmap(base, base_length) }?;
        return Err(Failure::refused(status::ADDRESS_TOO_HIGH));
    }
    let id = registry::insert(registry::NewEntry {
        address,
        length,
        base,
        base_length,
        flags: request.flags,
        file_offset: request.offset,
        identity,
    });
    Ok(Mapped {
        address,
        length,
        id,
    })
}

/// Grows an open regular file to `size` bytes if it is shorter.
fn grow(fd: &OwnedFd, size: u64) -> Outcome<()> {
    let info = os::fstat(fd.as_raw_fd())?;
    if info.regular && info.size < size {
        os::ftruncate(fd, size)?;
    }
    Ok(())
}

/// Opens a file or shared-memory object with `open`, grows it to `grow_to` bytes if that is
/// larger (0: never; needs `write`), maps it, and closes the descriptor.
fn map_opened(
    open: impl FnOnce() -> os::OsResult<OwnedFd>,
    request: Request,
    write: bool,
    grow_to: u64,
) -> Outcome<Mapped> {
    check_request(&request)?;
    if request.flags & os::MAP_ANONYMOUS != 0 || (grow_to > 0 && !write) {
        return Err(Failure::refused(status::INVALID_ARGUMENT));
    }
    let fd = open()?;
    if grow_to > 0 {
        grow(&fd, grow_to)?;
    }
    map_fd(fd.as_raw_fd(), request)
}

/// Opens `path`, grows it to `grow_to` bytes if that is larger than the file (0: never), maps
/// it, and closes the descriptor.
pub fn map_path(
    path: &CStr,
    request: Request,
    options: OpenOptions,
    grow_to: u64,
) -> Outcome<Mapped> {
    map_opened(|| os::open(path, options), request, options.write, grow_to)
}

/// Opens (or creates) the shared-memory object `name`, grows it to `grow_to` bytes if that is
/// larger (0: never), maps it, and closes the descriptor.
pub fn map_shm(
    name: &CStr,
    request: Request,
    options: OpenOptions,
    grow_to: u64,
) -> Outcome<Mapped> {
    map_opened(
        || os::shm_open(name, options),
        request,
        options.write,
        grow_to,
    )
}

/// Removes a shared-memory object's name.
pub fn unlink_shm(name: &CStr) -> Outcome<()> {
    os::shm_unlink(name)?;
    Ok(())
}

/// Unmaps the live mapping at `address` with this `id`.
pub fn unmap(address: usize, id: u64) -> Outcome<()> {
    let entry = registry::take(address, id).ok_or(Failure::refused(status::NOT_LIVE))?;
    // SAFETY: the registry held this range, so this library mapped it and has not unmapped it;
    // the caller (the TypeScript side) detached every view before asking.
    if let Err(error) = unsafe { os::munmap(entry.base, entry.base_length) } {
        registry::restore(address, entry);
        return Err(error.into());
    }
    Ok(())
}

/// The page-aligned range covering `length` bytes at `offset` of the live mapping at `address`.
/// The start is rounded down to its page; that page belongs to the same mapping, which itself
/// starts on a page boundary.
fn page_range(address: usize, id: u64, offset: usize, length: usize) -> Outcome<(usize, usize)> {
    let entry = registry::get(address, id).ok_or(Failure::refused(status::NOT_LIVE))?;
    let end = offset.checked_add(length);
    if end.is_none_or(|end| end > entry.length) {
        return Err(Failure::refused(status::OUT_OF_RANGE));
    }
    let (start, delta) = page::align_address(address + offset);
    Ok((start, length + delta))
}

/// Flushes `length` bytes at `offset` within the live mapping at `address` to its file; the
/// start is rounded down to a page for the system call.
pub fn sync(address: usize, id: u64, offset: usize, length: usize, flags: i32) -> Outcome<()> {
    if flags & !os::ALLOWED_MSYNC != 0 || flags & os::MSYNC_EXCLUSIVE == os::MSYNC_EXCLUSIVE {
        return Err(Failure::refused(status::INVALID_ARGUMENT));
    }
    let (start, length) = page_range(address, id, offset, length)?;
    // SAFETY: the range lies within a live mapping of ours and starts on a page boundary.
    unsafe { os::msync(start, length, flags) }?;
    Ok(())
}

/// Gives the kernel `advice` (one of [`os::advice_names`]) about a range of a live mapping.
pub fn advise(address: usize, id: u64, offset: usize, length: usize, advice: i32) -> Outcome<()> {
    if !os::advice_allowed(advice) {
        return Err(Failure::refused(status::INVALID_ARGUMENT));
    }
    let (start, length) = page_range(address, id, offset, length)?;
    // SAFETY: the range lies within a live mapping of ours and the advice is allowed.
    unsafe { os::madvise(start, length, advice) }?;
    Ok(())
}

/// Locks (`lock`) or unlocks a range of a live mapping in memory.
pub fn lock(address: usize, id: u64, offset: usize, length: usize, lock: bool) -> Outcome<()> {
    let (start, length) = page_range(address, id, offset, length)?;
    // SAFETY: the range lies within a live mapping of ours.
    unsafe { os::mlock(start, length, lock) }?;
    Ok(())
}

/// Changes the protection of a whole live mapping.
pub fn protect(address: usize, id: u64, prot: i32) -> Outcome<()> {
    if prot & !os::ALLOWED_PROT != 0 {
        return Err(Failure::refused(status::INVALID_ARGUMENT));
    }
    let entry = registry::get(address, id).ok_or(Failure::refused(status::NOT_LIVE))?;
    // SAFETY: the registry holds this range, so it is ours.
    unsafe { os::mprotect(entry.base, entry.base_length, prot) }?;
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
    let (start, length) = page_range(address, id, offset, length)?;
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
}

/// Where a mapping's pages come from, for [`resize`]: resizing a file or shared-memory mapping
/// reopens it to check (and, if asked, grow) its size, so no page reaches past its end.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    Anonymous,
    File(&'a CStr),
    SharedMemory(&'a CStr),
}

/// Checks that the source is still the file or object mapped (`identity`, when known) and that
/// `file_offset + length` bytes fit in it, growing it to `grow_to` first if that is larger (0:
/// never). A name that now leads elsewhere (a file replaced by rename, an object unlinked and
/// made again) is refused: its size says nothing about the mapped one, and pages past the end
/// of that one would raise SIGBUS. So is growing a mapping of something that is not a regular
/// file (a device such as /dev/zero, whose shared pages past the mapped length raise SIGBUS):
/// its size is unknown.
fn fit_source(
    source: Source,
    identity: Option<(u64, u64)>,
    write: bool,
    grow_to: u64,
    end: u64,
    grows: bool,
) -> Outcome<()> {
    let options = OpenOptions {
        write,
        ..OpenOptions::default()
    };
    let fd = match source {
        Source::Anonymous => return Ok(()),
        Source::File(path) => os::open(path, options)?,
        Source::SharedMemory(name) => os::shm_open(name, options)?,
    };
    if let Some(identity) = identity
        && os::fstat(fd.as_raw_fd())?.identity != identity
    {
        return Err(Failure::refused(status::SOURCE_REPLACED));
    }
    if grow_to > 0 {
        grow(&fd, grow_to)?;
    }
    let info = os::fstat(fd.as_raw_fd())?;
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
}

/// Resizes the live mapping at `address` to `new_length` bytes (the kernel may move it) and
/// returns it under a new id; the old address and id are no longer live. A file or
/// shared-memory source is grown to `grow_to` bytes first if that is larger (0: never).
pub fn resize(
    address: usize,
    id: u64,
    new_length: usize,
    source: Source,
    grow_to: u64,
) -> Outcome<Mapped> {
    let entry = registry::get(address, id).ok_or(Failure::refused(status::NOT_LIVE))?;
    let anonymous = entry.flags & os::MAP_ANONYMOUS != 0;
    if new_length == 0 || new_length > MAX_EXACT || anonymous != matches!(source, Source::Anonymous)
    {
        return Err(Failure::refused(status::INVALID_ARGUMENT));
    }
    let shared = entry.flags & os::SHARING_FLAGS[0] != 0;
    if anonymous && shared && new_length > entry.length {
        return Err(Failure::refused(status::CANNOT_GROW));
    }
    let end = entry.file_offset.saturating_add(new_length as u64);
    let grows = new_length > entry.length;
    fit_source(source, entry.identity, grow_to > 0, grow_to, end, grows)?;
    let delta = address - entry.base;
    let entry = registry::take(address, id).ok_or(Failure::refused(status::NOT_LIVE))?;
    // SAFETY: the registry held this range, so it is ours; the caller detaches every view of
    // the old range once this returns.
    let base = match unsafe { os::mremap(entry.base, entry.base_length, new_length + delta) } {
        Ok(base) => base,
        Err(error) => {
            registry::restore(address, entry);
            return Err(error.into());
        }
    };
    let address = base + delta;
    let id = registry::insert(registry::NewEntry {
        address,
        length: new_length,
        base,
        base_length: new_length + delta,
        flags: entry.flags,
        file_offset: entry.file_offset,
        identity: entry.identity,
    });
    Ok(Mapped {
        address,
        length: new_length,
        id,
    })
}

/// Lets go of the pages of the live mapping at `address` but keeps its address range, filled
/// with zero pages that may only be read, until [`unmap`] frees it. For buffers that cannot be
/// detached (immutable ArrayBuffers): views over them then read zeros instead of faulting.
pub fn retire(address: usize, id: u64) -> Outcome<()> {
    let entry = registry::get(address, id).ok_or(Failure::refused(status::NOT_LIVE))?;
    // SAFETY: the registry holds this range, so replacing it affects only our own pages.
    unsafe { os::replace_with_zero_pages(entry.base, entry.base_length) }?;
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
        assert!(registry::get(mapped.address, mapped.id).is_some());
        unmap(mapped.address, mapped.id).unwrap();
        assert_eq!(
            unmap(mapped.address, mapped.id),
            Err(Failure::refused(status::NOT_LIVE))
        );
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
        unmap(mapped.address, mapped.id).unwrap();
    }
}
