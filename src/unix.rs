//! The OS layer for Unix: thin wrappers over `libc` that report failures as [`OsError`].
//!
//! Every descriptor opened here is `O_CLOEXEC` and owned by an [`OwnedFd`], so it is closed on
//! every path, including errors.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::status::Syscall;

/// A failed system call: its errno and which call it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OsError {
    pub errno: i32,
    pub syscall: Syscall,
}

pub type OsResult<T> = Result<T, OsError>;

fn last_error(syscall: Syscall) -> OsError {
    let errno = std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO);
    OsError { errno, syscall }
}

/// What `fstat` tells about an open file.
#[derive(Clone, Copy, Debug)]
pub struct FileInfo {
    pub size: u64,
    pub regular: bool,
    /// The device and inode: which file this is, whatever name it is reached by.
    pub identity: (u64, u64),
}

/// How a file or shared-memory object is opened.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenOptions {
    pub write: bool,
    pub create: bool,
    pub exclusive: bool,
    pub mode: u32,
}

impl OpenOptions {
    fn flags(self) -> libc::c_int {
        // O_NONBLOCK: opening a FIFO (or a device that waits) never blocks; a regular file or
        // shared-memory object ignores it.
        let mut flags = libc::O_CLOEXEC | libc::O_NONBLOCK;
        flags |= if self.write {
            libc::O_RDWR
        } else {
            libc::O_RDONLY
        };
        if self.create {
            flags |= libc::O_CREAT;
            if self.exclusive {
                flags |= libc::O_EXCL;
            }
        }
        flags
    }
}

fn owned(fd: libc::c_int, syscall: Syscall) -> OsResult<OwnedFd> {
    if fd < 0 {
        return Err(last_error(syscall));
    }
    // SAFETY: `fd` was just returned by a successful open call and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens a file; the descriptor is closed when the result is dropped.
pub fn open(path: &CStr, options: OpenOptions) -> OsResult<OwnedFd> {
    // SAFETY: `path` is a valid NUL-terminated string for the duration of the call.
    let fd = unsafe { libc::open(path.as_ptr(), options.flags(), options.mode as libc::c_uint) };
    owned(fd, Syscall::Open)
}

/// Opens a POSIX shared-memory object; the descriptor is closed when the result is dropped.
pub fn shm_open(name: &CStr, options: OpenOptions) -> OsResult<OwnedFd> {
    // SAFETY: `name` is a valid NUL-terminated string for the duration of the call.
    let fd =
        unsafe { libc::shm_open(name.as_ptr(), options.flags(), options.mode as libc::c_uint) };
    owned(fd, Syscall::ShmOpen)
}

/// Opens with `open` (a file or shared-memory object) and says whether this call created it, so
/// a later failure can remove it: with `create` but not `exclusive`, it first tries to create it
/// exclusively, and opens the existing one if that says it exists.
pub fn open_tracking_creation(
    open: impl Fn(OpenOptions) -> OsResult<OwnedFd>,
    options: OpenOptions,
) -> OsResult<(OwnedFd, bool)> {
    if !options.create || options.exclusive {
        return open(options).map(|fd| (fd, options.create));
    }
    // Twice at most: the file may be removed between the two opens by another process.
    for _ in 0..2 {
        match open(OpenOptions {
            exclusive: true,
            ..options
        }) {
            Ok(fd) => return Ok((fd, true)),
            Err(error) if error.errno != libc::EEXIST => return Err(error),
            Err(_) => {}
        }
        match open(OpenOptions {
            create: false,
            ..options
        }) {
            Ok(fd) => return Ok((fd, false)),
            Err(error) if error.errno != libc::ENOENT => return Err(error),
            Err(_) => {}
        }
    }
    open(options).map(|fd| (fd, false))
}

/// A close-on-exec duplicate of a descriptor the caller keeps.
pub fn duplicate(fd: RawFd) -> OsResult<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC only reads `fd` (a bad one fails with EBADF) and makes a new one.
    let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    owned(copy, Syscall::Fcntl)
}

/// Removes a file's name (to undo creating it).
pub fn unlink(path: &CStr) -> OsResult<()> {
    // SAFETY: `path` is a valid NUL-terminated string for the duration of the call.
    if unsafe { libc::unlink(path.as_ptr()) } != 0 {
        return Err(last_error(Syscall::Unlink));
    }
    Ok(())
}

/// Removes a POSIX shared-memory object's name.
pub fn shm_unlink(name: &CStr) -> OsResult<()> {
    // SAFETY: `name` is a valid NUL-terminated string for the duration of the call.
    if unsafe { libc::shm_unlink(name.as_ptr()) } != 0 {
        return Err(last_error(Syscall::ShmUnlink));
    }
    Ok(())
}

/// The size and kind of an open file.
pub fn fstat(fd: RawFd) -> OsResult<FileInfo> {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `stat` points to writable memory of the right size; a bad fd makes fstat fail
    // with EBADF rather than touch anything.
    if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } != 0 {
        return Err(last_error(Syscall::Fstat));
    }
    // SAFETY: fstat succeeded, so it filled in the whole structure.
    let stat = unsafe { stat.assume_init() };
    Ok(FileInfo {
        size: u64::try_from(stat.st_size).unwrap_or(0),
        regular: (stat.st_mode & libc::S_IFMT) == libc::S_IFREG,
        // Widened where the platform's types are narrower (macOS: i32 dev_t).
        #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
        identity: (stat.st_dev as u64, u64::from(stat.st_ino)),
    })
}

/// Sets the length of an open file.
pub fn ftruncate(fd: &OwnedFd, size: u64) -> OsResult<()> {
    let size = libc::off_t::try_from(size).map_err(|_| OsError {
        errno: libc::EFBIG,
        syscall: Syscall::Ftruncate,
    })?;
    // SAFETY: ftruncate only changes the file behind a descriptor we own.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), size) } != 0 {
        return Err(last_error(Syscall::Ftruncate));
    }
    Ok(())
}

/// Maps `length` bytes at a page-aligned `offset` of `fd` (or anonymous memory) at an address
/// the kernel chooses. `flags` must not contain `MAP_FIXED`: the caller checks this.
pub fn mmap(length: usize, prot: i32, flags: i32, fd: RawFd, offset: u64) -> OsResult<usize> {
    debug_assert_eq!(flags & libc::MAP_FIXED, 0);
    let offset = libc::off_t::try_from(offset).map_err(|_| OsError {
        errno: libc::EOVERFLOW,
        syscall: Syscall::Mmap,
    })?;
    // SAFETY: without MAP_FIXED the kernel picks an unused range, so no existing memory is
    // replaced; the new mapping is not yet visible to any Rust reference.
    let address = unsafe { libc::mmap(std::ptr::null_mut(), length, prot, flags, fd, offset) };
    if address == libc::MAP_FAILED {
        return Err(last_error(Syscall::Mmap));
    }
    Ok(address as usize)
}

/// Unmaps a range.
///
/// # Safety
/// The range must be a mapping this library made, and nothing may use it afterwards.
pub unsafe fn munmap(address: usize, length: usize) -> OsResult<()> {
    // SAFETY: the caller guarantees the range is ours and no longer used.
    if unsafe { libc::munmap(address as *mut libc::c_void, length) } != 0 {
        return Err(last_error(Syscall::Munmap));
    }
    Ok(())
}

/// Flushes a page-aligned range of a mapping to its file.
///
/// # Safety
/// `address` must be page-aligned and the range must lie within a live mapping.
pub unsafe fn msync(address: usize, length: usize, flags: i32) -> OsResult<()> {
    // SAFETY: the caller guarantees the range is mapped; msync does not change its contents.
    if unsafe { libc::msync(address as *mut libc::c_void, length, flags) } != 0 {
        return Err(last_error(Syscall::Msync));
    }
    Ok(())
}

/// Gives the kernel advice about a page-aligned range of a mapping.
///
/// # Safety
/// `address` must be page-aligned and the range must lie within a live mapping of ours; the
/// advice must be one of [`advice_names`] (destructive advice such as `MADV_DONTNEED` zeroes
/// private pages, which the caller asked for).
pub unsafe fn madvise(address: usize, length: usize, advice: i32) -> OsResult<()> {
    // SAFETY: the caller guarantees the range is ours and the advice is allowed.
    if unsafe { libc::madvise(address as *mut libc::c_void, length, advice) } != 0 {
        return Err(last_error(Syscall::Madvise));
    }
    Ok(())
}

/// How [`mlock`] treats a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locking {
    /// `munlock`.
    Unlock,
    /// `mlock`: fault every page in and keep it in memory. A private writable mapping's pages
    /// are faulted in for writing, so each becomes a private copy.
    Lock,
    /// Lock the pages as they are read (`MLOCK_ONFAULT`), then read them in: a private writable
    /// mapping that only reads (`open()`'s `"r"`) keeps the file's pages, shared with the page
    /// cache, instead of copying every one.
    LockReading,
}

/// Locks or unlocks a page-aligned range of a mapping in memory.
///
/// # Safety
/// `address` must be page-aligned and the range must lie within a live mapping of ours.
pub unsafe fn mlock(address: usize, length: usize, how: Locking) -> OsResult<()> {
    let pointer = address as *const libc::c_void;
    // SAFETY: the caller guarantees the range is ours; locking changes no contents.
    let (result, call) = unsafe {
        match how {
            Locking::Unlock => (libc::munlock(pointer, length), Syscall::Munlock),
            Locking::Lock => (libc::mlock(pointer, length), Syscall::Mlock),
            Locking::LockReading => return lock_reading(address, length),
        }
    };
    if result != 0 {
        return Err(last_error(call));
    }
    Ok(())
}

/// [`Locking::LockReading`] on Linux: `mlock2(MLOCK_ONFAULT)`, then read faults.
///
/// # Safety
/// As for [`mlock`].
#[cfg(target_os = "linux")]
unsafe fn lock_reading(address: usize, length: usize) -> OsResult<()> {
    const MLOCK_ONFAULT: libc::c_long = 1;
    // SAFETY: the caller guarantees the range is ours; mlock2 changes no contents. Called
    // through syscall() since not every libc exports mlock2.
    if unsafe { libc::syscall(libc::SYS_mlock2, address, length, MLOCK_ONFAULT) } != 0 {
        return Err(last_error(Syscall::Mlock));
    }
    // SAFETY: as above; MADV_POPULATE_READ only faults pages in for reading.
    unsafe { populate_read(address, length) }
}

/// Without `MLOCK_ONFAULT`, a plain `mlock` (which does not copy pages on these systems'
/// read-only faults the way Linux's write faults do).
///
/// # Safety
/// As for [`mlock`].
#[cfg(not(target_os = "linux"))]
unsafe fn lock_reading(address: usize, length: usize) -> OsResult<()> {
    // SAFETY: forwarded from the caller.
    unsafe { mlock(address, length, Locking::Lock) }
}

/// Faults a page-aligned range of a mapping in for reading (`MADV_POPULATE_READ`, Linux 5.14;
/// before that, one read a page), so a private mapping keeps sharing the file's pages.
///
/// # Safety
/// `address` must be page-aligned and the range must lie within a live, readable mapping of
/// ours.
#[cfg(target_os = "linux")]
pub unsafe fn populate_read(address: usize, length: usize) -> OsResult<()> {
    // SAFETY: the caller guarantees the range is ours; reading pages in changes no contents.
    if unsafe {
        libc::madvise(
            address as *mut libc::c_void,
            length,
            libc::MADV_POPULATE_READ,
        )
    } == 0
    {
        return Ok(());
    }
    let error = last_error(Syscall::Madvise);
    if error.errno != libc::EINVAL {
        return Err(error);
    }
    for page in (address..address + length).step_by(crate::page::size()) {
        // SAFETY: the page lies within a readable mapping of ours; a volatile read is not
        // optimised away, so it faults the page in.
        unsafe { std::ptr::read_volatile(page as *const u8) };
    }
    Ok(())
}

/// Changes the protection of a page-aligned range of a mapping.
///
/// # Safety
/// The range must be a live mapping of ours. Removing access makes later accesses fault, which
/// the caller has asked for.
pub unsafe fn mprotect(address: usize, length: usize, prot: i32) -> OsResult<()> {
    // SAFETY: the caller guarantees the range is ours.
    if unsafe { libc::mprotect(address as *mut libc::c_void, length, prot) } != 0 {
        return Err(last_error(Syscall::Mprotect));
    }
    Ok(())
}

/// Fills `pages` with one byte per page of a page-aligned range: bit 0 set if resident.
///
/// # Safety
/// `address` must be page-aligned, the range must lie within a live mapping of ours, and
/// `pages` must have one byte for each page of the range.
pub unsafe fn mincore(address: usize, length: usize, pages: &mut [u8]) -> OsResult<()> {
    // SAFETY: the caller guarantees the range and that `pages` is long enough.
    let result = unsafe {
        libc::mincore(
            address as *mut libc::c_void,
            length,
            pages.as_mut_ptr().cast(),
        )
    };
    if result != 0 {
        return Err(last_error(Syscall::Mincore));
    }
    Ok(())
}

/// Moves the pages of a mapping of ours (`length` bytes at `address`) to `target`, resized to
/// `new_length` bytes, replacing the range there (`MREMAP_FIXED`). The old range is unmapped.
///
/// # Safety
/// Both ranges must be ours: nothing may use the old one any more, and `target` must be a
/// range of `new_length` bytes that nothing else uses.
#[cfg(target_os = "linux")]
pub unsafe fn mremap_fixed(
    address: usize,
    length: usize,
    new_length: usize,
    target: usize,
) -> OsResult<()> {
    let flags = libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED;
    // SAFETY: the caller guarantees both ranges are ours, so MREMAP_FIXED replaces only our own
    // target range, and nothing uses the old one.
    let moved = unsafe {
        libc::mremap(
            address as *mut libc::c_void,
            length,
            new_length,
            flags,
            target as *mut libc::c_void,
        )
    };
    if moved == libc::MAP_FAILED {
        return Err(last_error(Syscall::Mremap));
    }
    Ok(())
}

/// Without `mremap` the caller copies instead.
///
/// # Safety
/// None needed: this never touches memory.
#[cfg(not(target_os = "linux"))]
pub unsafe fn mremap_fixed(
    _address: usize,
    _length: usize,
    _new_length: usize,
    _target: usize,
) -> OsResult<()> {
    Err(OsError {
        errno: libc::ENOSYS,
        syscall: Syscall::Mremap,
    })
}

/// Replaces a mapping of ours with private anonymous zero pages at the same address: the file
/// (or shared memory) is let go at once, and whatever still uses the range reads zeros and
/// writes to pages of its own instead of faulting. The range stays reserved until unmapped.
///
/// # Safety
/// The range must be a mapping of ours (MAP_FIXED replaces whatever is there).
pub unsafe fn replace_with_zero_pages(address: usize, length: usize) -> OsResult<()> {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANON | libc::MAP_FIXED | libc::MAP_NORESERVE;
    let prot = libc::PROT_READ | libc::PROT_WRITE;
    // SAFETY: the caller guarantees the range is ours, so MAP_FIXED replaces only our pages.
    let placed = unsafe { libc::mmap(address as *mut libc::c_void, length, prot, flags, -1, 0) };
    if placed == libc::MAP_FAILED {
        return Err(last_error(Syscall::Mmap));
    }
    Ok(())
}

/// Copies `length` bytes between two mappings of ours.
///
/// # Safety
/// Both ranges must be mapped, `from` readable and `to` writable, and they must not overlap.
pub unsafe fn copy(from: usize, to: usize, length: usize) {
    // SAFETY: the caller guarantees both ranges are valid and distinct.
    unsafe { std::ptr::copy_nonoverlapping(from as *const u8, to as *mut u8, length) };
}

/// Whether each page of a page-aligned range may hold data of its own, from
/// `/proc/self/pagemap`, read a chunk at a time: present and anonymous (for a private file
/// mapping: copied on write), or swapped out; `anonymous` counts every present page. A page the
/// kernel does not describe (no pagemap, a failed read) may hold data. Not for shared anonymous
/// memory, whose pages keep their data in shmem when not mapped (after `MADV_DONTNEED`, or
/// swapped out): pagemap cannot see those.
pub fn pages_with_data(address: usize, length: usize, anonymous: bool) -> PagesWithData {
    use std::io::{Seek, SeekFrom};
    let page = crate::page::size();
    let pagemap = std::fs::File::open("/proc/self/pagemap")
        .ok()
        .and_then(|mut file| {
            file.seek(SeekFrom::Start((address / page * 8) as u64))
                .ok()
                .map(|_| file)
        });
    PagesWithData {
        pagemap,
        anonymous,
        remaining: length.div_ceil(page),
        chunk: Vec::new(),
        next: 0,
    }
}

/// The iterator of [`pages_with_data`]: one `bool` a page.
pub struct PagesWithData {
    pagemap: Option<std::fs::File>,
    anonymous: bool,
    /// Pages not yet yielded.
    remaining: usize,
    /// Pagemap entries read and not yet yielded (8 bytes each), from `next`.
    chunk: Vec<u8>,
    next: usize,
}

impl Iterator for PagesWithData {
    type Item = bool;

    fn next(&mut self) -> Option<bool> {
        use std::io::Read;
        const PRESENT: u64 = 1 << 63;
        const SWAPPED: u64 = 1 << 62;
        const FILE_OR_SHARED: u64 = 1 << 61;
        const CHUNK_PAGES: usize = 8192;
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        if self.next == self.chunk.len() {
            self.chunk.clear();
            self.next = 0;
            let want = (self.remaining + 1).min(CHUNK_PAGES) * 8;
            self.chunk.resize(want, 0);
            let read = self
                .pagemap
                .as_mut()
                .map(|file| file.read_exact(&mut self.chunk));
            if !matches!(read, Some(Ok(()))) {
                self.pagemap = None; // from here on, every page may hold data
                self.chunk.clear();
                return Some(true);
            }
        }
        let entry = &self.chunk[self.next..self.next + 8];
        self.next += 8;
        let bits = u64::from_ne_bytes(entry.try_into().unwrap_or([0xff; 8]));
        let anonymous_page = self.anonymous || bits & FILE_OR_SHARED == 0;
        Some(bits & SWAPPED != 0 || (bits & PRESENT != 0 && anonymous_page))
    }
}

/// The kernel's limit on mappings per process (`/proc/sys/vm/max_map_count`), where it has one.
pub fn max_map_count() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/sys/vm/max_map_count").ok()?;
    text.trim().parse().ok()
}

/// How many mappings the kernel counts for this process (the lines of `/proc/self/maps`),
/// where it says.
pub fn process_mapping_count() -> Option<usize> {
    use std::io::Read;
    let mut maps = std::fs::File::open("/proc/self/maps").ok()?;
    let mut chunk = [0u8; 64 * 1024];
    let mut lines = 0;
    loop {
        match maps.read(&mut chunk) {
            Ok(0) => return Some(lines),
            Ok(read) => lines += chunk[..read].iter().filter(|&&byte| byte == b'\n').count(),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

/// The advice `madvise` may be given, by the name the TypeScript side uses. Advice that can
/// harm the process (`MADV_HWPOISON`, `MADV_SOFT_OFFLINE`) is never offered.
pub fn advice_names() -> Vec<(&'static str, i32)> {
    #[cfg_attr(not(target_os = "linux"), allow(unused_mut))]
    let mut names = vec![
        ("MADV_NORMAL", libc::MADV_NORMAL),
        ("MADV_RANDOM", libc::MADV_RANDOM),
        ("MADV_SEQUENTIAL", libc::MADV_SEQUENTIAL),
        ("MADV_WILLNEED", libc::MADV_WILLNEED),
        ("MADV_DONTNEED", libc::MADV_DONTNEED),
        ("MADV_FREE", libc::MADV_FREE),
    ];
    #[cfg(target_os = "linux")]
    names.extend([
        ("MADV_REMOVE", libc::MADV_REMOVE),
        ("MADV_DONTFORK", libc::MADV_DONTFORK),
        ("MADV_DOFORK", libc::MADV_DOFORK),
        ("MADV_MERGEABLE", libc::MADV_MERGEABLE),
        ("MADV_UNMERGEABLE", libc::MADV_UNMERGEABLE),
        ("MADV_HUGEPAGE", libc::MADV_HUGEPAGE),
        ("MADV_NOHUGEPAGE", libc::MADV_NOHUGEPAGE),
        ("MADV_DONTDUMP", libc::MADV_DONTDUMP),
        ("MADV_DODUMP", libc::MADV_DODUMP),
        ("MADV_WIPEONFORK", libc::MADV_WIPEONFORK),
        ("MADV_KEEPONFORK", libc::MADV_KEEPONFORK),
        ("MADV_COLD", libc::MADV_COLD),
        ("MADV_PAGEOUT", libc::MADV_PAGEOUT),
        ("MADV_POPULATE_READ", libc::MADV_POPULATE_READ),
        ("MADV_POPULATE_WRITE", libc::MADV_POPULATE_WRITE),
    ]);
    names
}

/// Whether `advice` is one `madvise` may be given.
pub fn advice_allowed(advice: i32) -> bool {
    advice_names().iter().any(|(_, value)| *value == advice)
}

/// `MAP_POPULATE` (pre-fault the pages) where the OS has it, else 0.
#[cfg(target_os = "linux")]
const MAP_POPULATE: i32 = libc::MAP_POPULATE;
#[cfg(not(target_os = "linux"))]
const MAP_POPULATE: i32 = 0;

/// Extra `mmap` flags this OS offers: `MAP_NORESERVE` (no swap reserved for private
/// writable pages) and, on Linux, `MAP_POPULATE`.
const EXTRA_MAP_FLAGS: &[(&str, i32)] = if MAP_POPULATE != 0 {
    &[
        ("MAP_NORESERVE", libc::MAP_NORESERVE),
        ("MAP_POPULATE", MAP_POPULATE),
    ]
} else {
    &[("MAP_NORESERVE", libc::MAP_NORESERVE)]
};

/// The system's page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// The OS constants the TypeScript side exposes, by name.
pub fn constants() -> Vec<(&'static str, i64)> {
    vec![
        ("PROT_NONE", libc::PROT_NONE.into()),
        ("PROT_READ", libc::PROT_READ.into()),
        ("PROT_WRITE", libc::PROT_WRITE.into()),
        ("PROT_EXEC", libc::PROT_EXEC.into()),
        ("MAP_SHARED", libc::MAP_SHARED.into()),
        ("MAP_PRIVATE", libc::MAP_PRIVATE.into()),
        ("MAP_ANONYMOUS", libc::MAP_ANON.into()),
        ("MAP_ANON", libc::MAP_ANON.into()),
        ("MS_SYNC", libc::MS_SYNC.into()),
        ("MS_ASYNC", libc::MS_ASYNC.into()),
        ("MS_INVALIDATE", libc::MS_INVALIDATE.into()),
        ("PAGESIZE", crate::page::size() as i64),
    ]
    .into_iter()
    .chain(
        EXTRA_MAP_FLAGS
            .iter()
            .map(|(name, value)| (*name, i64::from(*value))),
    )
    .chain(
        advice_names()
            .into_iter()
            .map(|(name, value)| (name, i64::from(value))),
    )
    .collect()
}

/// The `mmap` flags a caller may pass; anything else (MAP_FIXED above all) is refused.
pub const ALLOWED_MAP_FLAGS: i32 =
    libc::MAP_SHARED | libc::MAP_PRIVATE | libc::MAP_ANON | libc::MAP_NORESERVE | MAP_POPULATE;
/// The `mmap` protection bits a caller may pass.
pub const ALLOWED_PROT: i32 = libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC;
/// Exactly one of these must be present in the flags.
pub const SHARING_FLAGS: [i32; 2] = [libc::MAP_SHARED, libc::MAP_PRIVATE];
/// The flag for anonymous memory.
pub const MAP_ANONYMOUS: i32 = libc::MAP_ANON;
/// The `msync` flags a caller may pass.
pub const ALLOWED_MSYNC: i32 = libc::MS_SYNC | libc::MS_ASYNC | libc::MS_INVALIDATE;
/// `msync` refuses these two together.
pub const MSYNC_EXCLUSIVE: i32 = libc::MS_SYNC | libc::MS_ASYNC;
