//! The C ABI of `mmap_ffi`: memory-mapped files and POSIX shared memory for Deno and Bun.
//!
//! Every export takes explicit (pointer, length) pairs, checks them, and returns a status:
//! `0` for success, a positive `errno` when a system call failed, or a negative library code
//! (see `status.rs`). A new mapping's address, length and id are written to a caller-supplied
//! array of `f64` ("out slots"), so JavaScript reads plain numbers. No panic crosses the
//! boundary: each export runs behind [`guard`].
//!
//! Lifetime: a mapping starts with one hold, its owner's. A C caller drops it with
//! [`mmap_ffi_unmap`]; a JavaScript runtime's buffer over the mapping owns it instead and
//! drops it from its release hook ([`mmap_ffi_release`] for Bun, the Node-API module in
//! `napi.rs` for Deno and Node) once the runtime has let go of the memory. The range is
//! unmapped with the last hold; [`mmap_ffi_retire`] lets go of the file before that.
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(not(unix))]
compile_error!("mmap_ffi supports Unix-like systems (Linux, macOS) only");

#[cfg_attr(unix, path = "unix.rs")]
mod os;

mod mapping;
mod napi;
mod page;
mod registry;
mod status;

use std::ffi::{CString, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use mapping::{Failure, Mapped, Outcome, Request};
use status::Syscall;

/// Out slot: the mapping's address (where the caller's view starts).
const OUT_ADDRESS: usize = 0;
/// Out slot: the mapping's length in bytes.
const OUT_LENGTH: usize = 1;
/// Out slot: the mapping's id, needed to unmap or sync it.
const OUT_ID: usize = 2;
/// Out slot: the file's size, after a refusal about the file's size.
const OUT_FILE_SIZE: usize = 3;
/// Out slot: the failed system call's number, after an OS failure.
const OUT_SYSCALL: usize = 4;
/// Out slot: a count a call reports (resident pages, for `mmap_ffi_residency`).
const OUT_COUNT: usize = 5;
/// How many out slots a call needs.
const OUT_SLOTS: usize = 6;

/// `source` of `mmap_ffi_resize`: anonymous memory.
const SOURCE_ANONYMOUS: u32 = 0;
/// `source` of `mmap_ffi_resize`: a file, by path.
const SOURCE_FILE: u32 = 1;
/// `source` of `mmap_ffi_resize`: a POSIX shared-memory object, by name.
const SOURCE_SHM: u32 = 2;
/// `source` of `mmap_ffi_resize`: a file the caller opened, by descriptor.
const SOURCE_DESCRIPTOR: u32 = 3;

/// `open_flags` bit: open for reading and writing (else read-only).
const OPEN_WRITE: u32 = 1;
/// `open_flags` bit: create the file or object if it does not exist.
const OPEN_CREATE: u32 = 2;
/// `open_flags` bit: with [`OPEN_CREATE`], fail if it already exists.
const OPEN_EXCLUSIVE: u32 = 4;
/// Mode of files created by name: 0666 less the umask, as for any new file.
const FILE_MODE: u32 = 0o666;

/// Runs an export's body, turning a panic into [`status::INTERNAL`].
fn guard(body: impl FnOnce() -> i32) -> i32 {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(status::INTERNAL)
}

/// The out slots as a mutable slice, if the pointer is usable.
///
/// # Safety
/// `out` must be null or point to `out_len` writable `f64`s not otherwise borrowed.
unsafe fn out_slots<'a>(out: *mut f64, out_len: usize) -> Option<&'a mut [f64]> {
    if out.is_null() || out_len < OUT_SLOTS || !out.is_aligned() {
        return None;
    }
    // SAFETY: non-null, aligned, and the caller guarantees `out_len` writable f64s.
    Some(unsafe { std::slice::from_raw_parts_mut(out, OUT_SLOTS) })
}

/// The body of every export that maps: refuses unusable out slots, runs `map` (panics caught)
/// and writes its outcome there.
///
/// # Safety
/// `out` must be null or point to `out_len` writable `f64`s not otherwise borrowed.
unsafe fn map_reporting(
    out: *mut f64,
    out_len: usize,
    map: impl FnOnce() -> Outcome<Mapped>,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded from the caller.
        match unsafe { out_slots(out, out_len) } {
            Some(out) => report(out, map()),
            None => status::INVALID_ARGUMENT,
        }
    })
}

/// Writes a map call's outcome to the out slots and returns its status.
fn report(out: &mut [f64], outcome: Outcome<Mapped>) -> i32 {
    out.fill(0.0);
    match outcome {
        Ok(mapped) => {
            // All three are below 2^53 (checked in `mapping`), so they convert exactly.
            out[OUT_ADDRESS] = mapped.address as f64;
            out[OUT_LENGTH] = mapped.length as f64;
            out[OUT_ID] = mapped.id as f64;
            status::OK
        }
        Err(failure) => {
            match failure {
                Failure::Os(error) => out[OUT_SYSCALL] = f64::from(error.syscall as u8),
                Failure::Refused { file_size, .. } => out[OUT_FILE_SIZE] = file_size as f64,
                Failure::TooMany { limit } => out[OUT_COUNT] = limit as f64,
            }
            failure.status()
        }
    }
}

/// Writes a plain call's outcome (the failed system call, if any) to the out slots when given,
/// and returns its status.
///
/// # Safety
/// `out` must be null or point to `out_len` writable `f64`s not otherwise borrowed.
unsafe fn report_status(out: *mut f64, out_len: usize, outcome: Outcome<()>) -> i32 {
    // SAFETY: forwarded from the caller.
    let slots = unsafe { out_slots(out, out_len) };
    match (outcome, slots) {
        (Ok(()), _) => status::OK,
        (Err(failure), Some(slots)) => {
            slots.fill(0.0);
            if let Failure::Os(error) = failure {
                slots[OUT_SYSCALL] = f64::from(error.syscall as u8);
            }
            failure.status()
        }
        (Err(failure), None) => failure.status(),
    }
}

/// Copies `len` bytes at `ptr` into a C string; `None` for a null pointer, an empty string or
/// an interior NUL byte.
///
/// # Safety
/// `ptr` must be null or point to `len` readable bytes.
unsafe fn c_string(ptr: *const u8, len: usize) -> Option<CString> {
    if ptr.is_null() || len == 0 {
        return None;
    }
    // SAFETY: non-null, and the caller guarantees `len` readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    CString::new(bytes).ok()
}

/// Writes `text` into `buf` if it fits and returns its length in bytes either way.
///
/// # Safety
/// `buf` must be null or point to `buf_len` writable bytes.
unsafe fn write_text(text: &str, buf: *mut u8, buf_len: usize) -> u32 {
    if !buf.is_null() && text.len() <= buf_len {
        // SAFETY: the caller guarantees `buf_len` writable bytes, and the text fits.
        unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), buf, text.len()) };
    }
    u32::try_from(text.len()).unwrap_or(u32::MAX)
}

fn open_options(open_flags: u32, mode: u32) -> Option<os::OpenOptions> {
    if open_flags & !(OPEN_WRITE | OPEN_CREATE | OPEN_EXCLUSIVE) != 0 {
        return None;
    }
    Some(os::OpenOptions {
        write: open_flags & OPEN_WRITE != 0,
        create: open_flags & OPEN_CREATE != 0,
        exclusive: open_flags & OPEN_EXCLUSIVE != 0,
        mode,
    })
}

/// Writes the OS constants and this ABI's own constants as `NAME=value` lines into `buf`.
///
/// Returns the text's length in bytes; nothing is written if that exceeds `buf_len`.
///
/// # Safety
/// `buf` must be null or point to `buf_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_constants(buf: *mut u8, buf_len: usize) -> u32 {
    let own = [
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
    ];
    let text = catch_unwind(|| {
        let limit = i64::try_from(mapping::mapping_limit()).unwrap_or(i64::MAX);
        os::constants()
            .into_iter()
            .chain(own)
            .chain(status::constants())
            .chain([("MAPPING_LIMIT", limit)])
            .map(|(name, value)| format!("{name}={value}\n"))
            .collect::<String>()
    })
    .unwrap_or_default();
    // SAFETY: forwarded from the caller.
    unsafe { write_text(&text, buf, buf_len) }
}

/// Describes a status as `code\tsyscall\tmessage` (UTF-8) in `buf`; `syscall` is the number a
/// map call wrote to its out slots (0 if none).
///
/// Returns the text's length in bytes; nothing is written if that exceeds `buf_len`.
///
/// # Safety
/// `buf` must be null or point to `buf_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_describe(
    status: i32,
    syscall: i32,
    buf: *mut u8,
    buf_len: usize,
) -> u32 {
    let text = catch_unwind(|| status::describe(status, Syscall::from_number(syscall)))
        .unwrap_or_default();
    // SAFETY: forwarded from the caller.
    unsafe { write_text(&text, buf, buf_len) }
}

/// Maps `length` bytes of the open descriptor `fd` from byte `offset` (any offset; the view
/// starts at that byte). `length` 0 maps to the end of the file. With `MAP_ANONYMOUS` in
/// `flags`, `fd` must be -1 and `offset` 0. The descriptor stays open and the caller's.
///
/// # Safety
/// `out` must be null or point to `out_len` writable `f64`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_map_fd(
    length: usize,
    prot: i32,
    flags: i32,
    fd: i32,
    offset: u64,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    let request = Request {
        length,
        prot,
        flags,
        offset,
    };
    // SAFETY: forwarded from the caller.
    unsafe { map_reporting(out, out_len, || mapping::map_fd(fd, request)) }
}

/// Maps `length` bytes (0: to the end) from byte `offset` of the regular file open as `fd`,
/// growing it to `grow_to` bytes first if it is shorter (0: never; `fd` must be open for writing
/// then); a failure puts the size back. For a file a caller opened by name through its own
/// sandbox (a runtime's file API): anything but a regular file is refused (`NOT_A_FILE`). The
/// descriptor stays open and the caller's.
///
/// # Safety
/// `out` must be null or point to `out_len` writable `f64`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_map_file(
    fd: i32,
    length: usize,
    prot: i32,
    flags: i32,
    offset: u64,
    grow_to: u64,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    let request = Request {
        length,
        prot,
        flags,
        offset,
    };
    // SAFETY: forwarded from the caller.
    unsafe { map_reporting(out, out_len, || mapping::map_file(fd, request, grow_to)) }
}

/// Opens the file at `path` (`path_len` bytes, no NUL; never blocking on a FIFO), grows it to
/// `grow_to` bytes if it is shorter (0: never; needs [`OPEN_WRITE`]), maps it as
/// [`mmap_ffi_map_fd`] does, and closes the descriptor. `open_flags` is an OR of `OPEN_WRITE`,
/// `OPEN_CREATE` and `OPEN_EXCLUSIVE`. Anything but a regular file is refused (`NOT_A_FILE`). A
/// failure after the open removes a file this call created and puts a grown one's size back.
///
/// # Safety
/// `path` must be null or point to `path_len` readable bytes; `out` as for
/// [`mmap_ffi_map_fd`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_map_path(
    path: *const u8,
    path_len: usize,
    length: usize,
    prot: i32,
    flags: i32,
    offset: u64,
    open_flags: u32,
    grow_to: u64,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    let request = Request {
        length,
        prot,
        flags,
        offset,
    };
    let map = || {
        // SAFETY: forwarded from the caller.
        let path = unsafe { c_string(path, path_len) };
        let (Some(path), Some(options)) = (path, open_options(open_flags, FILE_MODE)) else {
            return Err(Failure::refused(status::INVALID_ARGUMENT));
        };
        mapping::map_path(&path, request, options, grow_to)
    };
    // SAFETY: forwarded from the caller.
    unsafe { map_reporting(out, out_len, map) }
}

/// Opens the POSIX shared-memory object `name` (`name_len` bytes) with `open_flags` and, when
/// created, permission bits `mode`; grows it to `grow_to` bytes if it is smaller (0: never),
/// maps it as [`mmap_ffi_map_fd`] does, and closes the descriptor. A failure after the open
/// removes an object this call created and puts a grown one's size back.
///
/// # Safety
/// `name` must be null or point to `name_len` readable bytes; `out` as for
/// [`mmap_ffi_map_fd`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_map_shm(
    name: *const u8,
    name_len: usize,
    length: usize,
    prot: i32,
    flags: i32,
    offset: u64,
    open_flags: u32,
    mode: u32,
    grow_to: u64,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    let request = Request {
        length,
        prot,
        flags,
        offset,
    };
    let map = || {
        // SAFETY: forwarded from the caller.
        let name = unsafe { c_string(name, name_len) };
        let (Some(name), Some(options)) = (name, open_options(open_flags, mode & 0o7777)) else {
            return Err(Failure::refused(status::INVALID_ARGUMENT));
        };
        mapping::map_shm(&name, request, options, grow_to)
    };
    // SAFETY: forwarded from the caller.
    unsafe { map_reporting(out, out_len, map) }
}

/// Removes the name of the POSIX shared-memory object `name` (`name_len` bytes). On failure
/// the system call is written to `out` (which may be null).
///
/// # Safety
/// `name` must be null or point to `name_len` readable bytes; `out` must be null or point to
/// `out_len` writable `f64`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_shm_unlink(
    name: *const u8,
    name_len: usize,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded from the caller.
        let outcome = match unsafe { c_string(name, name_len) } {
            Some(name) => mapping::unlink_shm(&name),
            None => Err(Failure::refused(status::INVALID_ARGUMENT)),
        };
        // SAFETY: forwarded from the caller.
        unsafe { report_status(out, out_len, outcome) }
    })
}

/// Drops the caller's hold on the mapping at `address` with this `id` (the hold it was made
/// with, or one added by [`mmap_ffi_hold`]) and unmaps it if that was the last. An address or
/// id this library did not hand out, or one already unmapped, is refused with `NOT_LIVE`;
/// nothing changes then. On failure the system call is written to `out` (which may be null).
///
/// # Safety
/// `out` must be null or point to `out_len` writable `f64`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_unmap(
    address: usize,
    id: u64,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        let outcome = mapping::release(address, id);
        // SAFETY: forwarded from the caller.
        unsafe { report_status(out, out_len, outcome) }
    })
}

/// Adds a hold on the live mapping at `address`: its range stays reserved until the hold is
/// dropped with [`mmap_ffi_unmap`]. For a runtime whose built-ins keep using memory after its
/// buffer is gone (Node: they keep the JavaScript object, not the memory), the library holds
/// the range until the object is collected too.
///
/// # Safety
/// `out` must be null or point to `out_len` writable `f64`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_hold(
    address: usize,
    id: u64,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        let outcome = mapping::hold(address, id);
        // SAFETY: forwarded from the caller.
        unsafe { report_status(out, out_len, outcome) }
    })
}

/// Flushes `length` bytes from `offset` of the live mapping at `address` (with this `id`) to
/// its file with `msync(flags)`; the start is rounded down to a page boundary. Safe to call
/// from another thread (Deno's `nonblocking`): the mapping is held while `msync` runs, so a
/// release meanwhile unmaps it only afterwards. Pass an `out` no other call uses meanwhile, or
/// null; on failure the system call is written to it.
///
/// # Safety
/// `out` must be null or point to `out_len` writable `f64`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_sync(
    address: usize,
    id: u64,
    offset: usize,
    length: usize,
    flags: i32,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        let outcome = mapping::sync(address, id, offset, length, flags);
        // SAFETY: forwarded from the caller.
        unsafe { report_status(out, out_len, outcome) }
    })
}

/// Gives the kernel `advice` (an `MADV_*` value from [`mmap_ffi_constants`]) about `length`
/// bytes from `offset` of the live mapping at `address`.
///
/// # Safety
/// `out` must be null or point to `out_len` writable `f64`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_advise(
    address: usize,
    id: u64,
    offset: usize,
    length: usize,
    advice: i32,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        let outcome = mapping::advise(address, id, offset, length, advice);
        // SAFETY: forwarded from the caller.
        unsafe { report_status(out, out_len, outcome) }
    })
}

/// Locks or unlocks `length` bytes from `offset` of the live mapping at `address` in memory:
/// `lock` 0 `munlock`, 1 `mlock`, 2 lock the pages as they are read (`MLOCK_ONFAULT`, then
/// read faults), so a private mapping that only reads keeps sharing the file's pages instead of
/// copying each one.
///
/// # Safety
/// `out` must be null or point to `out_len` writable `f64`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_lock(
    address: usize,
    id: u64,
    offset: usize,
    length: usize,
    lock: i32,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        let how = match lock {
            0 => os::Locking::Unlock,
            1 => os::Locking::Lock,
            2 => os::Locking::LockReading,
            _ => {
                // SAFETY: forwarded from the caller.
                return unsafe {
                    report_status(
                        out,
                        out_len,
                        Err(Failure::refused(status::INVALID_ARGUMENT)),
                    )
                };
            }
        };
        let outcome = mapping::lock(address, id, offset, length, how);
        // SAFETY: forwarded from the caller.
        unsafe { report_status(out, out_len, outcome) }
    })
}

/// Changes the protection of the whole live mapping at `address` (`mprotect`).
///
/// # Safety
/// `out` must be null or point to `out_len` writable `f64`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_protect(
    address: usize,
    id: u64,
    prot: i32,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        let outcome = mapping::protect(address, id, prot);
        // SAFETY: forwarded from the caller.
        unsafe { report_status(out, out_len, outcome) }
    })
}

/// Reports which pages of `length` bytes from `offset` of the live mapping at `address` are
/// resident (`mincore`): one byte a page in `pages` (1 resident, 0 not), the page count in
/// `out[OUT_LENGTH]` and the resident count in `out[OUT_COUNT]`. `pages_len` must cover every
/// page of the range (`length / PAGESIZE + 2` always does).
///
/// # Safety
/// `pages` must be null or point to `pages_len` writable bytes; `out` to `out_len` `f64`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_residency(
    address: usize,
    id: u64,
    offset: usize,
    length: usize,
    pages: *mut u8,
    pages_len: usize,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded from the caller.
        let Some(out) = (unsafe { out_slots(out, out_len) }) else {
            return status::INVALID_ARGUMENT;
        };
        out.fill(0.0);
        if pages.is_null() {
            return status::INVALID_ARGUMENT;
        }
        // SAFETY: non-null, and the caller guarantees `pages_len` writable bytes.
        let pages = unsafe { std::slice::from_raw_parts_mut(pages, pages_len) };
        match mapping::residency(address, id, offset, length, pages) {
            Ok((count, resident)) => {
                out[OUT_LENGTH] = count as f64;
                out[OUT_COUNT] = resident as f64;
                status::OK
            }
            Err(failure) => {
                if let Failure::Os(error) = failure {
                    out[OUT_SYSCALL] = f64::from(error.syscall as u8);
                }
                failure.status()
            }
        }
    })
}

/// Starts resizing the live mapping at `address` to `new_length` bytes and writes the new
/// mapping's address, length and id as a map call does. Everything that can fail happens here,
/// with the old mapping untouched; a failure after growing the file puts its size back.
/// `source` (`SOURCE_*`) and `name` or `fd` say where the pages come from: a file (by path, or
/// by a descriptor of the caller's, open for writing if it is to grow) or a shared-memory object
/// (by name) is checked to be still the one mapped, and grown to `grow_to` bytes if that is
/// larger (0: never); its size must hold the new length.
///
/// A shared file or shared-memory mapping is mapped anew and is complete: release the old one
/// as usual. For any other (private, or anonymous) the status is 0 and `out[OUT_COUNT]` is 1:
/// the new mapping has no data yet and the old one has an extra hold. Let go of the old
/// mapping (drop your hold, or your buffer's), then call [`mmap_ffi_move`].
///
/// # Safety
/// `name` must be null or point to `name_len` readable bytes; `out` to `out_len` `f64`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_resize(
    address: usize,
    id: u64,
    new_length: usize,
    source: u32,
    name: *const u8,
    name_len: usize,
    fd: i32,
    grow_to: u64,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded from the caller.
        let Some(out) = (unsafe { out_slots(out, out_len) }) else {
            return status::INVALID_ARGUMENT;
        };
        // SAFETY: forwarded from the caller.
        let name = unsafe { c_string(name, name_len) };
        let source = match (source, name.as_deref()) {
            (SOURCE_ANONYMOUS, _) => mapping::Source::Anonymous,
            (SOURCE_FILE, Some(path)) => mapping::Source::File(path),
            (SOURCE_DESCRIPTOR, _) if fd >= 0 => mapping::Source::Descriptor(fd),
            (SOURCE_SHM, Some(name)) => mapping::Source::SharedMemory(name),
            _ => {
                return report(out, Err(Failure::refused(status::INVALID_ARGUMENT)));
            }
        };
        let resized = mapping::resize(address, id, new_length, source, grow_to);
        let moves = matches!(resized, Ok((_, true)));
        let status = report(out, resized.map(|(mapped, _)| mapped));
        if moves {
            out[OUT_COUNT] = 1.0;
        }
        status
    })
}

/// Finishes [`mmap_ffi_resize`] of a private or anonymous mapping: carries the old mapping's
/// bytes (`address`, `id`) over to the new one (`to`, `to_id`) and drops the hold the resize
/// took. When nothing else holds the old range, the kernel moves its pages (`mremap`) and the
/// old mapping is gone; otherwise the pages that differ are copied, and the old mapping is
/// retired (see [`mmap_ffi_retire`]) until its last hold is dropped.
///
/// # Safety
/// `out` must be null or point to `out_len` writable `f64`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_move(
    address: usize,
    id: u64,
    to: usize,
    to_id: u64,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        let outcome = mapping::move_pages(address, id, to, to_id);
        // SAFETY: forwarded from the caller.
        unsafe { report_status(out, out_len, outcome) }
    })
}

/// Lets go of the file (or shared memory) behind the live mapping at `address` at once: its
/// pages become private anonymous zero pages, readable and writable, so whatever still uses the
/// range (a runtime's pending operation, a buffer that could not be detached) touches harmless
/// memory, never the file and never another mapping. The range stays reserved until its last
/// hold is dropped. A mapping already unmapped (its runtime let go of it) is `NOT_LIVE`.
///
/// # Safety
/// `out` must be null or point to `out_len` writable `f64`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap_ffi_retire(
    address: usize,
    id: u64,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        let outcome = mapping::retire(address, id);
        // SAFETY: forwarded from the caller.
        unsafe { report_status(out, out_len, outcome) }
    })
}

/// How many mappings made by this library still hold an address range (retired ones too).
#[unsafe(no_mangle)]
pub extern "C" fn mmap_ffi_live_count() -> u32 {
    let count = catch_unwind(|| registry::lock().len()).unwrap_or(0);
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// How many of those are retired: their file let go, their range waiting for its last hold.
#[unsafe(no_mangle)]
pub extern "C" fn mmap_ffi_retired_count() -> u32 {
    let count = catch_unwind(|| registry::lock().retired_len()).unwrap_or(0);
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// A deallocator for runtimes that call one when the garbage collector frees a buffer (Bun's
/// `toArrayBuffer`): drops the hold of the buffer over the mapping at `bytes` if `context` is
/// still its id, which unmaps it unless something else holds it. Anything else (an address
/// unmapped already, or reused since) is left alone. `bytes` is only looked up in the
/// registry, never dereferenced. Safe on any thread.
#[unsafe(no_mangle)]
pub extern "C" fn mmap_ffi_release(bytes: *mut c_void, context: *mut c_void) {
    let _ = guard(|| {
        mapping::release(bytes as usize, context as usize as u64)
            .map_or_else(Failure::status, |()| 0)
    });
}

/// The address of [`mmap_ffi_release`], for runtimes that take a deallocator as a pointer.
#[unsafe(no_mangle)]
pub extern "C" fn mmap_ffi_release_callback() -> *const c_void {
    mmap_ffi_release as *const c_void
}

#[cfg(test)]
mod tests;
