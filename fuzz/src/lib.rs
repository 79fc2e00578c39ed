//! Fuzzing the C ABI of `mmap_ffi`: one input is a sequence of calls to the exports with
//! arbitrary lengths, flags, descriptors, offsets, names and out buffers, and arbitrary
//! addresses and ids handed to unmap, sync, advise, lock, protect, residency, resize, retire and
//! the release callback. After every call:
//!
//! - a call on an (address, id) pair this library did not hand out, or already unmapped, is
//!   refused (`ERR_MMAP_NOT_LIVE`, or `ERR_MMAP_INVALID_ARGUMENT` when another argument is bad
//!   first) and changes nothing: the registry keeps the same live mappings;
//! - the library never writes past the buffers it is given (canary bytes after each);
//! - every status is 0, a positive errno, or a library code `mmap_ffi_describe` names.
//!
//! After every input the mappings the model holds are unmapped and the registry must be empty,
//! `/proc/self/maps` must name none of the files, and no descriptor may be left open.
//!
//! Everything happens in a private temp directory; the descriptors offered to `map_fd` are ones
//! the driver opened (files, a directory, a pipe, `/dev/zero`) or numbers that are not open, so a
//! mapping never reaches a file outside it.

use std::collections::HashSet;
use std::ffi::CString;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use mmap_ffi::*;

// Library statuses (src/status.rs); checked against `mmap_ffi_describe` at start-up.
const INVALID_ARGUMENT: i32 = -1;
const NOT_LIVE: i32 = -4;
const LIBRARY_CODES: std::ops::RangeInclusive<i32> = -11..=-1;

const OUT_SLOTS: usize = 6;
const OUT_ADDRESS: usize = 0;
const OUT_LENGTH: usize = 1;
const OUT_ID: usize = 2;
const CANARY: u8 = 0xA5;
const CANARY_LEN: usize = 64;

/// Calls made into the library so far (each step is one call, or one touch of memory).
pub static CALLS: AtomicU64 = AtomicU64::new(0);

/// Mappings made so far (successful map and resize calls).
pub static MAPPED: AtomicU64 = AtomicU64::new(0);

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
                u64::MAX,
                u64::MAX - page + 1,
            ][self.below(5)],
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

/// A mapping the library handed out and has not unmapped, as the driver knows it.
#[derive(Clone, Copy, Debug)]
struct Live {
    address: usize,
    id: u64,
    length: usize,
    prot: i32,
    /// False for the one mapping the library cannot check: a shared mapping of a device
    /// (/dev/zero here) at a non-zero offset, whose pages past what the device provides raise
    /// SIGBUS (README: "What the OS makes unavoidable").
    touchable: bool,
}

/// Files and descriptors every input shares, made once.
struct Fixture {
    dir: PathBuf,
    /// Descriptors `map_fd` may be given: a read/write file, a read-only file, the directory,
    /// a pipe's read end, /dev/zero.
    fds: Vec<i32>,
    page: u64,
    shm_prefix: String,
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
        std::fs::write(dir.join("fd-rw"), vec![1u8; 3 * page as usize + 17]).unwrap();
        std::fs::write(dir.join("fd-ro"), vec![2u8; page as usize]).unwrap();
        let mut pipe = [0; 2];
        assert_eq!(
            unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) },
            0
        );
        let fds = vec![
            open(&dir.join("fd-rw"), true),
            open(&dir.join("fd-ro"), false),
            open(&dir, false),
            pipe[0],
            open(std::path::Path::new("/dev/zero"), true),
        ];
        Fixture {
            dir,
            fds,
            page,
            shm_prefix: format!("/mmap-fuzz-{}-", std::process::id()),
        }
    })
}

extern "C" fn remove_dir() {
    let dir = std::env::temp_dir().join(format!("mmap-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(dir);
}

/// The statuses this driver names must be the library's.
fn check_statuses() {
    for (status, name) in [
        (INVALID_ARGUMENT, "ERR_MMAP_INVALID_ARGUMENT"),
        (NOT_LIVE, "ERR_MMAP_NOT_LIVE"),
    ] {
        assert!(describe(status).starts_with(name), "status {status}");
    }
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
        assert!(describe(status).starts_with("ERR_MMAP_"), "status {status}");
    }
}

/// One sequence: the state a single input runs against.
struct Run<'a> {
    input: Input<'a>,
    fixture: &'static Fixture,
    live: Vec<Live>,
    /// (address, id) pairs unmapped earlier: stale, must be refused.
    stale: Vec<(usize, u64)>,
    shm_names: HashSet<Vec<u8>>,
    out: [f64; OUT_SLOTS + 2],
}

/// How a call picks the mapping it acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// A live mapping, by index in the model.
    Live(usize),
    /// An (address, id) the library did not hand out or already unmapped.
    Foreign(usize, u64),
}

impl Run<'_> {
    fn file(&mut self) -> Vec<u8> {
        let dir = self.fixture.dir.as_os_str().as_encoded_bytes().to_vec();
        let mut name = dir.clone();
        let choice = if self.input.sane {
            self.input.below(3)
        } else {
            self.input.below(6)
        };
        match choice {
            0 => name.extend_from_slice(b"/file0"),
            1 => name.extend_from_slice(b"/file1"),
            2 => name.extend_from_slice(b"/missing"),
            3 => {}
            4 => return Vec::new(),
            _ => {
                name.extend_from_slice(b"/x");
                for _ in 0..self.input.below(12) {
                    name.push(self.input.u8());
                }
            }
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
        if !self.live.is_empty() && choice < 2 {
            return Target::Live(self.input.below(self.live.len()));
        }
        let pick = |run: &mut Self| run.live[run.input.below(run.live.len())];
        let (address, id) = match choice {
            2 if !self.live.is_empty() => {
                let live = pick(self);
                (
                    live.address,
                    live.id.wrapping_add(1 + u64::from(self.input.u8())),
                )
            }
            3 if !self.live.is_empty() => {
                let live = pick(self);
                let delta = 1 + self.input.u32() as usize % (2 * self.fixture.page as usize);
                (live.address.wrapping_add(delta), live.id)
            }
            4 if !self.stale.is_empty() => self.stale[self.input.below(self.stale.len())],
            _ => (self.input.u64() as usize, self.input.u64() % 1000),
        };
        Target::Foreign(address, id)
    }

    /// A mapping to act on (live, stale or foreign), its address and id, and a page range in it.
    fn ranged_target(&mut self, page: u64) -> (Target, usize, u64, usize, usize) {
        let target = self.target();
        let (address, id) = self.pair(target);
        let offset = self.input.offset(page) as usize;
        let length = self.input.count(page) as usize;
        (target, address, id, offset, length)
    }

    fn pair(&self, target: Target) -> (usize, u64) {
        match target {
            Target::Live(index) => (self.live[index].address, self.live[index].id),
            Target::Foreign(address, id) => (address, id),
        }
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

    /// Records a mapping a map call reported.
    fn adopt(&mut self, status: i32, out: *mut f64, out_len: usize, prot: i32, touchable: bool) {
        if trace() {
            eprintln!("  map -> {status} {:?}", &self.out[..3]);
        }
        if status != 0 {
            return;
        }
        MAPPED.fetch_add(1, Ordering::Relaxed);
        assert!(
            !out.is_null() && out_len >= OUT_SLOTS,
            "mapped without out slots"
        );
        let live = Live {
            address: self.out[OUT_ADDRESS] as usize,
            length: self.out[OUT_LENGTH] as usize,
            id: self.out[OUT_ID] as u64,
            prot,
            touchable,
        };
        assert!(live.address != 0 && live.id != 0);
        assert!(
            self.live.iter().all(|other| other.id != live.id),
            "an id handed out twice"
        );
        self.live.push(live);
        self.touch(self.live.len() - 1, 0);
        self.touch(self.live.len() - 1, live.length.saturating_sub(1));
    }

    /// Reads (and, if writable, writes) one byte of a live mapping, as a runtime's view would.
    fn touch(&mut self, index: usize, offset: usize) {
        let live = self.live[index];
        if !live.touchable
            || live.length == 0
            || live.prot & (libc::PROT_READ | libc::PROT_WRITE) == 0
        {
            return;
        }
        let at = (live.address + offset % live.length) as *mut u8;
        // SAFETY: the registry handed out this range and the protection allows the access; the
        // library refuses every mapping that reaches past the end of its file.
        unsafe {
            let byte = std::ptr::read_volatile(at);
            if live.prot & libc::PROT_WRITE != 0 {
                std::ptr::write_volatile(at, byte.wrapping_add(1));
            }
        }
    }

    /// Runs a call on `target`: for a live one, `on_live` updates the model on success; for a
    /// foreign one, the call must be refused and change nothing.
    fn on_target(&mut self, target: Target, status: i32, before: u32) {
        if trace() {
            eprintln!("  {target:?} -> {status}");
        }
        check_status(status);
        self.check_out_canary();
        if let Target::Foreign(address, id) = target {
            assert!(
                status == NOT_LIVE || status == INVALID_ARGUMENT,
                "a call on ({address:#x}, {id}), which the library did not hand out, gave {status}"
            );
            assert_eq!(
                mmap_ffi_live_count(),
                before,
                "a refused call changed the registry"
            );
        }
    }

    fn step(&mut self) {
        CALLS.fetch_add(1, Ordering::Relaxed);
        let page = self.fixture.page;
        let before = mmap_ffi_live_count();
        self.input.sane = false;
        let op = self.input.below(16);
        self.input.sane = self.input.below(4) != 0;
        if trace() {
            eprintln!("op {op} live {:?}", self.live);
        }
        match op {
            0 => {
                let fds = self.fixture.fds.clone();
                let fd = match self.input.below(8) {
                    0 | 1 => -1,
                    2 => 1000 + self.input.u8() as i32, // not open
                    3 => self.input.u32() as i32,
                    n => fds[(n + self.input.below(fds.len())) % fds.len()],
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
                if trace() {
                    eprintln!("  map_fd({length}, {prot}, {flags:#x}, {fd}, {offset})");
                }
                let status =
                    unsafe { mmap_ffi_map_fd(length, prot, flags, fd, offset, out, out_len) };
                check_status(status);
                self.check_out_canary();
                let device = fd == *fds.last().unwrap() && flags & libc::MAP_SHARED != 0;
                self.adopt(status, out, out_len, prot, !(device && offset >= page));
            }
            1 => {
                let name = self.file();
                let (length, prot, flags, offset) = (
                    self.input.count(page) as usize,
                    self.input.prot(),
                    self.input.map_flags(),
                    self.input.offset(page),
                );
                let mut open_flags = self.input.u8() as u32 % 9;
                let grow_to = match self.input.below(4) {
                    0 => 0,
                    1 if !self.input.sane => u64::MAX,
                    _ => u64::from(self.input.u32() % (8 * page as u32)),
                };
                if self.input.sane {
                    // Plausible: write (and create) when writable or growing.
                    open_flags &= 7;
                    if grow_to > 0 || prot & libc::PROT_WRITE != 0 {
                        open_flags |= 1;
                    }
                }
                let (out, out_len) = self.out_buffer();
                let status = unsafe {
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
                };
                check_status(status);
                self.check_out_canary();
                self.adopt(status, out, out_len, prot, true);
            }
            2 => {
                let name = self.shm_name();
                let (length, prot, flags, offset) = (
                    self.input.count(page) as usize,
                    self.input.prot(),
                    self.input.map_flags(),
                    self.input.offset(page),
                );
                let mut open_flags = self.input.u8() as u32 % 9;
                let mode = self.input.u32();
                let grow_to = match self.input.below(3) {
                    0 => 0,
                    1 if !self.input.sane => u64::MAX,
                    _ => u64::from(self.input.u32() % (8 * page as u32)),
                };
                if self.input.sane {
                    open_flags = (open_flags & 3) | 1;
                }
                let (out, out_len) = self.out_buffer();
                let status = unsafe {
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
                };
                check_status(status);
                self.check_out_canary();
                self.adopt(status, out, out_len, prot, true);
            }
            3 | 4 => {
                let target = self.target();
                let (address, id) = self.pair(target);
                let (out, out_len) = self.out_buffer();
                let status = unsafe { mmap_ffi_unmap(address, id, out, out_len) };
                self.on_target(target, status, before);
                if let (Target::Live(index), 0) = (target, status) {
                    self.live.swap_remove(index);
                    self.stale.push((address, id));
                }
            }
            5 => {
                let (target, address, id, offset, length) = self.ranged_target(page);
                let flags =
                    [libc::MS_SYNC, libc::MS_ASYNC, libc::MS_INVALIDATE, -1][self.input.below(4)];
                let (out, out_len) = self.out_buffer();
                let status =
                    unsafe { mmap_ffi_sync(address, id, offset, length, flags, out, out_len) };
                self.on_target(target, status, before);
            }
            6 => {
                let (target, address, id, offset, length) = self.ranged_target(page);
                let advice = if self.input.below(4) == 0 {
                    self.input.u32() as i32
                } else {
                    i32::from(self.input.u8() % 26)
                };
                let (out, out_len) = self.out_buffer();
                let status =
                    unsafe { mmap_ffi_advise(address, id, offset, length, advice, out, out_len) };
                self.on_target(target, status, before);
            }
            7 => {
                let (target, address, id, offset, length) = self.ranged_target(page);
                let lock = i32::from(self.input.u8() % 3);
                let (out, out_len) = self.out_buffer();
                let status =
                    unsafe { mmap_ffi_lock(address, id, offset, length, lock, out, out_len) };
                self.on_target(target, status, before);
            }
            8 => {
                let target = self.target();
                let (address, id) = self.pair(target);
                let prot = self.input.prot();
                let (out, out_len) = self.out_buffer();
                let status = unsafe { mmap_ffi_protect(address, id, prot, out, out_len) };
                self.on_target(target, status, before);
                if let (Target::Live(index), 0) = (target, status) {
                    self.live[index].prot = prot;
                }
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
                self.on_target(target, status, before);
                assert!(
                    pages[pages_len..].iter().all(|byte| *byte == CANARY),
                    "residency wrote past the pages buffer"
                );
            }
            10 => {
                let target = self.target();
                let (address, id) = self.pair(target);
                let new_length = self.input.count(page) as usize;
                let source = self.input.u8() as u32 % 4;
                let name = if self.input.below(2) == 0 {
                    self.file()
                } else {
                    self.shm_name()
                };
                let grow_to = match self.input.below(3) {
                    0 => 0,
                    1 => u64::MAX,
                    _ => u64::from(self.input.u32() % (8 * page as u32)),
                };
                let (out, out_len) = self.out_buffer();
                let status = unsafe {
                    mmap_ffi_resize(
                        address,
                        id,
                        new_length,
                        source,
                        ptr_or_null(&name),
                        name.len(),
                        grow_to,
                        out,
                        out_len,
                    )
                };
                self.on_target(target, status, before);
                if let (Target::Live(index), 0) = (target, status) {
                    let Live {
                        prot, touchable, ..
                    } = self.live[index];
                    self.live.swap_remove(index);
                    self.stale.push((address, id));
                    self.adopt(status, out, out_len, prot, touchable);
                }
            }
            11 => {
                let target = self.target();
                let (address, id) = self.pair(target);
                let (out, out_len) = self.out_buffer();
                let status = unsafe { mmap_ffi_retire(address, id, out, out_len) };
                self.on_target(target, status, before);
                if let (Target::Live(index), 0) = (target, status) {
                    self.live[index].prot = libc::PROT_READ; // zero pages, read-only
                }
            }
            12 => {
                // The GC deallocator (Bun): only the live pair with the right id is unmapped.
                let target = self.target();
                let (address, id) = self.pair(target);
                mmap_ffi_release(address as *mut _, id as usize as *mut _);
                match target {
                    Target::Live(index) => {
                        self.live.swap_remove(index);
                        self.stale.push((address, id));
                        assert_eq!(mmap_ffi_live_count(), before - 1);
                    }
                    Target::Foreign(..) => assert_eq!(mmap_ffi_live_count(), before),
                }
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
            _ => {
                if !self.live.is_empty() {
                    let index = self.input.below(self.live.len());
                    let offset = self.input.u32() as usize;
                    self.touch(index, offset);
                }
            }
        }
    }

    /// Unmaps what is left and checks that nothing remains.
    fn finish(&mut self) {
        for live in self.live.drain(..) {
            let status = unsafe { mmap_ffi_unmap(live.address, live.id, std::ptr::null_mut(), 0) };
            assert_eq!(status, 0, "a live mapping could not be unmapped");
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
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
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
    let _ = std::fs::remove_file(fixture.dir.join("missing"));
    let fds = open_fds();
    let mut run = Run {
        input: Input {
            data,
            at: 0,
            sane: false,
        },
        fixture,
        live: Vec::new(),
        stale: Vec::new(),
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
