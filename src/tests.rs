//! Tests of the C exports, called as the TypeScript side calls them.

use super::*;
use std::io::Write;
use std::path::PathBuf;

const RW: i32 = libc::PROT_READ | libc::PROT_WRITE;

fn temp_path(tag: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("mmap_ffi_test_{}_{tag}_{n}", std::process::id()))
}

fn file_with(tag: &str, bytes: &[u8]) -> PathBuf {
    let path = temp_path(tag);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

fn map_path(
    path: &[u8],
    length: usize,
    prot: i32,
    flags: i32,
    offset: u64,
    open: u32,
    grow: u64,
) -> (i32, [f64; OUT_SLOTS]) {
    let mut out = [0.0; OUT_SLOTS];
    // SAFETY: the pointers are valid for the lengths given.
    let status = unsafe {
        mmap_ffi_map_path(
            path.as_ptr(),
            path.len(),
            length,
            prot,
            flags,
            offset,
            open,
            grow,
            out.as_mut_ptr(),
            OUT_SLOTS,
        )
    };
    (status, out)
}

fn view(out: &[f64; OUT_SLOTS]) -> &'static mut [u8] {
    // SAFETY: the test only calls this for a successful map call and stops using the slice
    // before unmapping.
    unsafe {
        std::slice::from_raw_parts_mut(
            out[OUT_ADDRESS] as usize as *mut u8,
            out[OUT_LENGTH] as usize,
        )
    }
}

fn unmap(out: &[f64; OUT_SLOTS]) -> i32 {
    unmap_raw(out[OUT_ADDRESS] as usize, out[OUT_ID] as u64)
}

fn unmap_raw(address: usize, id: u64) -> i32 {
    // SAFETY: a null out buffer is allowed.
    unsafe { mmap_ffi_unmap(address, id, std::ptr::null_mut(), 0) }
}

fn sync_raw(address: usize, id: u64, offset: usize, length: usize, flags: i32) -> i32 {
    // SAFETY: a null out buffer is allowed.
    unsafe { mmap_ffi_sync(address, id, offset, length, flags, std::ptr::null_mut(), 0) }
}

fn describe(status: i32, syscall: i32) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length.
    let len = unsafe { mmap_ffi_describe(status, syscall, buf.as_mut_ptr(), buf.len()) } as usize;
    String::from_utf8(buf[..len].to_vec()).unwrap()
}

#[test]
fn constants_are_listed_with_the_os_values() {
    let mut buf = vec![0u8; 4096];
    // SAFETY: the buffer is valid for its length.
    let len = unsafe { mmap_ffi_constants(buf.as_mut_ptr(), buf.len()) } as usize;
    let text = String::from_utf8(buf[..len].to_vec()).unwrap();
    assert!(text.contains(&format!("PROT_WRITE={}\n", libc::PROT_WRITE)));
    assert!(text.contains(&format!("MAP_SHARED={}\n", libc::MAP_SHARED)));
    assert!(text.contains(&format!("PAGESIZE={}\n", page::size())));
    assert!(text.contains(&format!("OUT_SLOTS={OUT_SLOTS}\n")));
}

#[test]
fn constants_report_their_length_without_writing_to_a_small_buffer() {
    let mut buf = [7u8; 4];
    // SAFETY: the buffer is valid for its length.
    let len = unsafe { mmap_ffi_constants(buf.as_mut_ptr(), buf.len()) };
    assert!(len > 4);
    assert_eq!(buf, [7u8; 4]);
    // SAFETY: a null buffer is allowed.
    assert_eq!(unsafe { mmap_ffi_constants(std::ptr::null_mut(), 0) }, len);
}

#[test]
fn map_by_path_reads_and_writes_the_file() {
    let path = file_with("rw", b"hello, world");
    let (status, out) = map_path(
        path.as_os_str().as_encoded_bytes(),
        0,
        RW,
        libc::MAP_SHARED,
        0,
        OPEN_WRITE,
        0,
    );
    assert_eq!(status, 0);
    assert_eq!(out[OUT_LENGTH], 12.0);
    let bytes = view(&out);
    assert_eq!(bytes, b"hello, world");
    bytes[0] = b'J';
    let sync = sync_raw(
        out[OUT_ADDRESS] as usize,
        out[OUT_ID] as u64,
        0,
        12,
        libc::MS_SYNC,
    );
    assert_eq!(sync, 0);
    assert_eq!(unmap(&out), 0);
    assert_eq!(std::fs::read(&path).unwrap(), b"Jello, world");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn map_by_path_creates_and_grows_the_file() {
    let path = temp_path("grow");
    let (status, out) = map_path(
        path.as_os_str().as_encoded_bytes(),
        5000,
        RW,
        libc::MAP_SHARED,
        0,
        OPEN_WRITE | OPEN_CREATE,
        5000,
    );
    assert_eq!(status, 0);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 5000);
    assert_eq!(unmap(&out), 0);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn unaligned_offset_starts_the_view_at_that_byte() {
    let data: Vec<u8> = (0..3 * page::size()).map(|i| (i % 251) as u8).collect();
    let path = file_with("offset", &data);
    let offset = page::size() + 7;
    let (status, out) = map_path(
        path.as_os_str().as_encoded_bytes(),
        10,
        libc::PROT_READ,
        libc::MAP_PRIVATE,
        offset as u64,
        0,
        0,
    );
    assert_eq!(status, 0);
    assert_eq!(view(&out), &data[offset..offset + 10]);
    assert_eq!(unmap(&out), 0);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn missing_file_reports_enoent_from_open() {
    let (status, out) = map_path(
        b"/nonexistent/mmap_ffi",
        0,
        libc::PROT_READ,
        libc::MAP_SHARED,
        0,
        0,
        0,
    );
    assert_eq!(status, libc::ENOENT);
    assert_eq!(
        describe(status, out[OUT_SYSCALL] as i32),
        "ENOENT\topen\tno such file or directory"
    );
}

#[test]
fn mapping_past_the_end_of_the_file_is_refused() {
    let path = file_with("short", b"abc");
    let (status, out) = map_path(
        path.as_os_str().as_encoded_bytes(),
        4,
        libc::PROT_READ,
        libc::MAP_SHARED,
        0,
        0,
        0,
    );
    assert_eq!(status, status::PAST_END_OF_FILE);
    assert_eq!(out[OUT_FILE_SIZE], 3.0);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn whole_file_of_an_empty_file_is_refused() {
    let path = file_with("empty", b"");
    let (status, _) = map_path(
        path.as_os_str().as_encoded_bytes(),
        0,
        libc::PROT_READ,
        libc::MAP_SHARED,
        0,
        0,
        0,
    );
    assert_eq!(status, status::EMPTY_FILE);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn path_with_nul_or_null_pointer_is_refused() {
    let (status, _) = map_path(b"a\0b", 0, libc::PROT_READ, libc::MAP_SHARED, 0, 0, 0);
    assert_eq!(status, status::INVALID_ARGUMENT);
    let mut out = [0.0; OUT_SLOTS];
    // SAFETY: a null path is allowed and refused.
    let status = unsafe {
        mmap_ffi_map_path(
            std::ptr::null(),
            5,
            0,
            libc::PROT_READ,
            libc::MAP_SHARED,
            0,
            0,
            0,
            out.as_mut_ptr(),
            OUT_SLOTS,
        )
    };
    assert_eq!(status, status::INVALID_ARGUMENT);
}

#[test]
fn short_or_null_out_buffer_is_refused() {
    let mut out = [0.0; 2];
    // SAFETY: the buffer is valid for its (too short) length.
    let status = unsafe {
        mmap_ffi_map_fd(
            4096,
            RW,
            libc::MAP_PRIVATE | libc::MAP_ANON,
            -1,
            0,
            out.as_mut_ptr(),
            out.len(),
        )
    };
    assert_eq!(status, status::INVALID_ARGUMENT);
    // SAFETY: a null buffer is allowed and refused.
    let status = unsafe {
        mmap_ffi_map_fd(
            4096,
            RW,
            libc::MAP_PRIVATE | libc::MAP_ANON,
            -1,
            0,
            std::ptr::null_mut(),
            9,
        )
    };
    assert_eq!(status, status::INVALID_ARGUMENT);
}

#[test]
fn bad_fd_reports_ebadf_from_fstat() {
    let mut out = [0.0; OUT_SLOTS];
    // SAFETY: the buffer is valid for its length.
    let status = unsafe {
        mmap_ffi_map_fd(
            4096,
            libc::PROT_READ,
            libc::MAP_SHARED,
            1_000_000,
            0,
            out.as_mut_ptr(),
            OUT_SLOTS,
        )
    };
    assert_eq!(status, libc::EBADF);
    assert_eq!(
        Syscall::from_number(out[OUT_SYSCALL] as i32),
        Syscall::Fstat
    );
}

#[test]
fn foreign_and_stale_addresses_are_never_unmapped() {
    let stack_value = 5u64;
    let foreign = &stack_value as *const u64 as usize;
    assert_eq!(unmap_raw(foreign, 1), status::NOT_LIVE);
    assert_eq!(sync_raw(foreign, 1, 0, 8, libc::MS_SYNC), status::NOT_LIVE);
    assert_eq!(unmap_raw(0, 0), status::NOT_LIVE);
    assert_eq!(stack_value, 5);

    let mut out = [0.0; OUT_SLOTS];
    // SAFETY: the buffer is valid for its length.
    let status = unsafe {
        mmap_ffi_map_fd(
            4096,
            RW,
            libc::MAP_PRIVATE | libc::MAP_ANON,
            -1,
            0,
            out.as_mut_ptr(),
            OUT_SLOTS,
        )
    };
    assert_eq!(status, 0);
    let address = out[OUT_ADDRESS] as usize;
    assert_eq!(
        unmap_raw(address, out[OUT_ID] as u64 + 1),
        status::NOT_LIVE,
        "wrong id"
    );
    assert_eq!(
        unmap_raw(address + 1, out[OUT_ID] as u64),
        status::NOT_LIVE,
        "inside, not the start"
    );
    assert_eq!(unmap(&out), 0);
    assert_eq!(unmap(&out), status::NOT_LIVE, "stale");
}

#[test]
fn release_callback_unmaps_only_with_the_right_context() {
    let mut out = [0.0; OUT_SLOTS];
    // SAFETY: the buffer is valid for its length.
    let status = unsafe {
        mmap_ffi_map_fd(
            4096,
            RW,
            libc::MAP_PRIVATE | libc::MAP_ANON,
            -1,
            0,
            out.as_mut_ptr(),
            OUT_SLOTS,
        )
    };
    assert_eq!(status, 0);
    let address = out[OUT_ADDRESS] as usize;
    let id = out[OUT_ID] as usize;
    mmap_ffi_release(address as *mut c_void, (id + 1) as *mut c_void);
    assert!(
        registry::lock().live(address, id as u64).is_some(),
        "a wrong context leaves it mapped"
    );
    mmap_ffi_release(address as *mut c_void, id as *mut c_void);
    assert!(registry::lock().get_mut(address, id as u64).is_none());
    assert!(!mmap_ffi_release_callback().is_null());
}

#[test]
fn shm_round_trip_and_unlink() {
    let name = format!("/mmap_ffi_test_{}", std::process::id());
    let mut out = [0.0; OUT_SLOTS];
    // SAFETY: the pointers are valid for the lengths given.
    let status = unsafe {
        mmap_ffi_map_shm(
            name.as_ptr(),
            name.len(),
            8192,
            RW,
            libc::MAP_SHARED,
            0,
            OPEN_WRITE | OPEN_CREATE,
            0o600,
            8192,
            out.as_mut_ptr(),
            OUT_SLOTS,
        )
    };
    assert_eq!(status, 0);
    view(&out)[100] = 42;
    let mut second = [0.0; OUT_SLOTS];
    // SAFETY: as above.
    let status = unsafe {
        mmap_ffi_map_shm(
            name.as_ptr(),
            name.len(),
            0,
            libc::PROT_READ,
            libc::MAP_SHARED,
            0,
            OPEN_WRITE,
            0,
            0,
            second.as_mut_ptr(),
            OUT_SLOTS,
        )
    };
    assert_eq!(status, 0);
    assert_eq!(view(&second)[100], 42);
    assert_eq!(unmap(&out), 0);
    assert_eq!(unmap(&second), 0);
    let unlink = |out: &mut [f64; OUT_SLOTS]| {
        // SAFETY: the pointers are valid for the lengths given.
        unsafe { mmap_ffi_shm_unlink(name.as_ptr(), name.len(), out.as_mut_ptr(), OUT_SLOTS) }
    };
    assert_eq!(unlink(&mut out), 0);
    assert_eq!(unlink(&mut out), libc::ENOENT);
    assert_eq!(
        Syscall::from_number(out[OUT_SYSCALL] as i32),
        Syscall::ShmUnlink
    );
}

#[test]
fn describe_names_library_statuses() {
    assert!(describe(status::NOT_LIVE, 0).starts_with("ERR_MMAP_NOT_LIVE\t\t"));
    assert_eq!(
        describe(libc::EACCES, Syscall::Mmap as i32),
        "EACCES\tmmap\tpermission denied"
    );
}

fn anonymous(length: usize, flags: i32) -> [f64; OUT_SLOTS] {
    let mut out = [0.0; OUT_SLOTS];
    // SAFETY: the buffer is valid for its length.
    let status = unsafe {
        mmap_ffi_map_fd(
            length,
            RW,
            flags | libc::MAP_ANON,
            -1,
            0,
            out.as_mut_ptr(),
            OUT_SLOTS,
        )
    };
    assert_eq!(status, 0);
    out
}

fn residency(out: &[f64; OUT_SLOTS], length: usize) -> (usize, usize) {
    let mut pages = vec![0u8; length / page::size() + 2];
    let mut result = [0.0; OUT_SLOTS];
    // SAFETY: the buffers are valid for their lengths.
    let status = unsafe {
        mmap_ffi_residency(
            out[OUT_ADDRESS] as usize,
            out[OUT_ID] as u64,
            0,
            length,
            pages.as_mut_ptr(),
            pages.len(),
            result.as_mut_ptr(),
            OUT_SLOTS,
        )
    };
    assert_eq!(status, 0);
    (result[OUT_LENGTH] as usize, result[OUT_COUNT] as usize)
}

fn advise(out: &[f64; OUT_SLOTS], length: usize, advice: i32) -> i32 {
    // SAFETY: a null out buffer is allowed.
    unsafe {
        mmap_ffi_advise(
            out[OUT_ADDRESS] as usize,
            out[OUT_ID] as u64,
            0,
            length,
            advice,
            std::ptr::null_mut(),
            0,
        )
    }
}

#[test]
fn dontneed_drops_residency_of_private_anonymous_memory() {
    let length = 16 * page::size();
    let out = anonymous(length, libc::MAP_PRIVATE);
    view(&out).fill(1);
    assert_eq!(residency(&out, length), (16, 16));
    assert_eq!(advise(&out, length, libc::MADV_DONTNEED), 0);
    assert_eq!(residency(&out, length), (16, 0));
    assert!(
        view(&out).iter().all(|byte| *byte == 0),
        "private pages read zero again"
    );
    assert_eq!(unmap(&out), 0);
}

#[test]
fn harmful_advice_is_refused() {
    let out = anonymous(page::size(), libc::MAP_PRIVATE);
    #[cfg(target_os = "linux")]
    assert_eq!(
        advise(&out, 1, libc::MADV_HWPOISON),
        status::INVALID_ARGUMENT
    );
    assert_eq!(advise(&out, 1, 0x7fff), status::INVALID_ARGUMENT);
    assert_eq!(
        advise(&out, page::size() + 1, libc::MADV_NORMAL),
        status::OUT_OF_RANGE
    );
    assert_eq!(unmap(&out), 0);
}

#[test]
fn protect_changes_and_restores_access() {
    let out = anonymous(page::size(), libc::MAP_PRIVATE);
    let protect = |prot| {
        // SAFETY: a null out buffer is allowed.
        unsafe {
            mmap_ffi_protect(
                out[OUT_ADDRESS] as usize,
                out[OUT_ID] as u64,
                prot,
                std::ptr::null_mut(),
                0,
            )
        }
    };
    assert_eq!(protect(libc::PROT_NONE), 0);
    assert_eq!(protect(RW), 0);
    view(&out)[0] = 3;
    assert_eq!(protect(0x1000), status::INVALID_ARGUMENT);
    assert_eq!(unmap(&out), 0);
}

#[test]
fn lock_and_unlock_a_range() {
    let out = anonymous(2 * page::size(), libc::MAP_PRIVATE);
    let lock = |on| {
        // SAFETY: a null out buffer is allowed.
        unsafe {
            mmap_ffi_lock(
                out[OUT_ADDRESS] as usize,
                out[OUT_ID] as u64,
                10,
                100,
                on,
                std::ptr::null_mut(),
                0,
            )
        }
    };
    let locked = lock(1);
    assert!(
        locked == 0 || locked == libc::ENOMEM || locked == libc::EPERM,
        "{locked}"
    );
    assert_eq!(lock(0), 0);
    assert_eq!(unmap(&out), 0);
}

#[test]
fn locking_reading_keeps_a_private_mapping_on_the_files_pages() {
    // mlock faults a private writable mapping's pages in for writing, copying each one; lock
    // mode 2 reads them in, so they stay the page cache's and show later writes to the file.
    let path = file_with("lock-reading", &[1u8; 8192]);
    let name = path.as_os_str().as_encoded_bytes();
    let (status, out) = map_path(name, 0, RW, libc::MAP_PRIVATE, 0, 0, 0);
    assert_eq!(status, 0);
    // SAFETY: a null out buffer is allowed.
    let locked = unsafe {
        mmap_ffi_lock(
            out[OUT_ADDRESS] as usize,
            out[OUT_ID] as u64,
            0,
            8192,
            2,
            std::ptr::null_mut(),
            0,
        )
    };
    if locked == libc::ENOMEM || locked == libc::EPERM {
        eprintln!("locked-memory limit too low here; skipped");
    } else {
        assert_eq!(locked, 0);
        assert_eq!(view(&out)[4096], 1);
        // Written in place: a truncation would discard private copies too, hiding one.
        use std::os::unix::fs::FileExt;
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(&[2u8; 8192], 0).unwrap();
        assert_eq!(view(&out)[4096], 2, "still the file's page, not a copy");
    }
    assert_eq!(unmap(&out), 0);
    std::fs::remove_file(path).unwrap();
}

fn resize(
    out: &[f64; OUT_SLOTS],
    new_length: usize,
    source: u32,
    name: &[u8],
    grow_to: u64,
) -> (i32, [f64; OUT_SLOTS]) {
    let mut moved = [0.0; OUT_SLOTS];
    // SAFETY: the buffers are valid for their lengths.
    let status = unsafe {
        mmap_ffi_resize(
            out[OUT_ADDRESS] as usize,
            out[OUT_ID] as u64,
            new_length,
            source,
            name.as_ptr(),
            name.len(),
            -1,
            grow_to,
            moved.as_mut_ptr(),
            OUT_SLOTS,
        )
    };
    (status, moved)
}

fn move_pages(out: &[f64; OUT_SLOTS], to: &[f64; OUT_SLOTS]) -> i32 {
    // SAFETY: a null out buffer is allowed.
    unsafe {
        mmap_ffi_move(
            out[OUT_ADDRESS] as usize,
            out[OUT_ID] as u64,
            to[OUT_ADDRESS] as usize,
            to[OUT_ID] as u64,
            std::ptr::null_mut(),
            0,
        )
    }
}

fn is_registered(out: &[f64; OUT_SLOTS]) -> bool {
    registry::lock()
        .get_mut(out[OUT_ADDRESS] as usize, out[OUT_ID] as u64)
        .is_some()
}

#[test]
fn resize_moves_the_pages_when_nothing_else_holds_the_old_range() {
    let out = anonymous(page::size(), libc::MAP_PRIVATE);
    view(&out)[100] = 9;
    let (status, moved) = resize(&out, 64 * page::size(), SOURCE_ANONYMOUS, b"", 0);
    assert_eq!(status, 0);
    assert_eq!(moved[OUT_COUNT], 1.0, "a move must follow");
    assert_eq!(view(&moved)[100], 0, "no data before the move");
    assert_eq!(
        unmap(&out),
        0,
        "the caller lets go of the old mapping first"
    );
    assert!(is_registered(&out), "the resize still holds it");
    assert_eq!(move_pages(&out, &moved), 0);
    assert!(
        !is_registered(&out),
        "the pages moved away with the last hold"
    );
    assert_eq!(view(&moved).len(), 64 * page::size());
    assert_eq!(view(&moved)[100], 9);
    assert_eq!(unmap(&moved), 0);
}

#[test]
fn resize_copies_the_pages_while_something_holds_the_old_range() {
    let out = anonymous(4 * page::size(), libc::MAP_PRIVATE);
    view(&out)[100] = 9;
    view(&out)[3 * page::size()] = 8;
    let (status, smaller) = resize(&out, 2 * page::size(), SOURCE_ANONYMOUS, b"", 0);
    assert_eq!(status, 0);
    assert_eq!(
        move_pages(&out, &smaller),
        0,
        "the caller still holds the old range"
    );
    assert_eq!(view(&smaller)[100], 9);
    assert_eq!(
        view(&out).len(),
        4 * page::size(),
        "the old range is still mapped"
    );
    assert_eq!(view(&out)[100], 0, "as zero pages: retired");
    view(&out)[100] = 1; // a pending writer's write lands harmlessly
    assert_eq!(view(&smaller)[100], 9);
    assert_eq!(unmap(&out), 0);
    assert!(!is_registered(&out));
    assert_eq!(unmap(&smaller), 0);
}

#[test]
fn resize_refuses_to_grow_shared_anonymous_memory() {
    let out = anonymous(page::size(), libc::MAP_SHARED);
    assert_eq!(
        resize(&out, 2 * page::size(), SOURCE_ANONYMOUS, b"", 0).0,
        status::CANNOT_GROW
    );
    assert_eq!(unmap(&out), 0, "still live after the refusal");
}

#[test]
fn resize_grows_a_file_mapping_only_within_the_file() {
    let path = file_with("resize", &[5u8; 100]);
    let name = path.as_os_str().as_encoded_bytes();
    let (status, out) = map_path(name, 0, RW, libc::MAP_SHARED, 0, OPEN_WRITE, 0);
    assert_eq!(status, 0);
    let (refused, _) = resize(&out, 10_000, SOURCE_FILE, name, 0);
    assert_eq!(refused, status::PAST_END_OF_FILE);
    let (status, grown) = resize(&out, 10_000, SOURCE_FILE, name, 10_000);
    assert_eq!(status, 0);
    assert_eq!(
        grown[OUT_COUNT], 0.0,
        "a shared file mapping is complete at once"
    );
    assert_eq!(unmap(&out), 0);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 10_000);
    assert_eq!(view(&grown)[99], 5);
    view(&grown)[9_999] = 1;
    assert_eq!(unmap(&grown), 0);
    assert_eq!(std::fs::read(&path).unwrap()[9_999], 1);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn resize_refuses_a_file_replaced_under_its_name() {
    // An editor's "save" writes a new file and renames it over the old one: the name then
    // leads to a larger file, and growing the old mapping to its size would raise SIGBUS.
    let path = file_with("replaced", &[5u8; 100]);
    let name = path.as_os_str().as_encoded_bytes();
    let (status, out) = map_path(name, 0, RW, libc::MAP_SHARED, 0, OPEN_WRITE, 0);
    assert_eq!(status, 0);
    let newer = file_with("replacement", &[6u8; 10_000]);
    std::fs::rename(&newer, &path).unwrap();
    let (refused, _) = resize(&out, 10_000, SOURCE_FILE, name, 0);
    assert_eq!(refused, status::SOURCE_REPLACED);
    let (refused, _) = resize(&out, 10_000, SOURCE_FILE, name, 10_000);
    assert_eq!(refused, status::SOURCE_REPLACED, "nor grows the other file");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 10_000);
    assert_eq!(view(&out)[99], 5, "the old mapping is intact");
    assert_eq!(unmap(&out), 0);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn resize_refuses_to_grow_a_device_mapping() {
    // Shared pages of /dev/zero past the mapped length raise SIGBUS; a device's size is unknown.
    // By name a device is refused (NOT_A_FILE); by descriptor it maps.
    let name = b"/dev/zero";
    let (by_name, _) = map_path(name, 4096, RW, libc::MAP_SHARED, 0, OPEN_WRITE, 0);
    assert_eq!(by_name, status::NOT_A_FILE);
    let device = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/zero")
        .unwrap();
    let mut out = [0.0; OUT_SLOTS];
    // SAFETY: the buffer is valid for its length.
    let status = unsafe {
        use std::os::fd::AsRawFd;
        mmap_ffi_map_fd(
            4096,
            RW,
            libc::MAP_SHARED,
            device.as_raw_fd(),
            0,
            out.as_mut_ptr(),
            OUT_SLOTS,
        )
    };
    assert_eq!(status, 0);
    let (refused, _) = resize(&out, 4 * 4096, SOURCE_FILE, name, 0);
    assert_eq!(refused, status::DEVICE_CANNOT_GROW);
    let (refused, _) = resize(&out, 4 * 4096, SOURCE_FILE, b"/dev/null", 0);
    assert_eq!(
        refused,
        status::SOURCE_REPLACED,
        "another device is not this one"
    );
    let (shrunk, smaller) = resize(&out, 100, SOURCE_FILE, name, 0);
    assert_eq!(shrunk, 0, "shrinking is fine");
    assert_eq!(unmap(&smaller), 0);
    assert_eq!(unmap(&out), 0);
}

#[test]
fn retire_lets_go_of_the_file_and_keeps_a_harmless_range_until_unmapped() {
    let path = file_with("retire", &[7u8; 4096]);
    let (status, out) = map_path(
        path.as_os_str().as_encoded_bytes(),
        0,
        libc::PROT_READ,
        libc::MAP_SHARED,
        0,
        0,
        0,
    );
    assert_eq!(status, 0);
    assert_eq!(view(&out)[0], 7);
    // SAFETY: a null out buffer is allowed.
    let retired = unsafe {
        mmap_ffi_retire(
            out[OUT_ADDRESS] as usize,
            out[OUT_ID] as u64,
            std::ptr::null_mut(),
            0,
        )
    };
    assert_eq!(retired, 0);
    assert_eq!(view(&out)[0], 0, "zero pages now");
    view(&out)[0] = 1; // a write lands in a private page, not in a PROT_READ file page
    assert_eq!(std::fs::read(&path).unwrap()[0], 7, "never in the file");
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let file = path.to_str().unwrap();
    assert!(
        !maps.lines().any(|line| line.ends_with(file)),
        "the file is let go"
    );
    assert_eq!(unmap(&out), 0);
    std::fs::remove_file(path).unwrap();
}

/// Whether `fd` is closed on exec.
fn close_on_exec(fd: &std::os::fd::OwnedFd) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: F_GETFD only reads the flags of a descriptor we own.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
    flags >= 0 && flags & libc::FD_CLOEXEC != 0
}

#[test]
fn every_descriptor_opened_is_close_on_exec() {
    let path = file_with("cloexec", &[1u8; 16]);
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    for write in [false, true] {
        let options = os::OpenOptions {
            write,
            ..Default::default()
        };
        let fd = os::open(&c_path, options).unwrap();
        assert!(close_on_exec(&fd), "open(write: {write}) is not O_CLOEXEC");
    }
    let name = std::ffi::CString::new(format!("/mmap_ffi_cloexec_{}", std::process::id())).unwrap();
    let shm_options = os::OpenOptions {
        write: true,
        create: true,
        exclusive: true,
        mode: 0o600,
    };
    let fd = os::shm_open(&name, shm_options).unwrap();
    assert!(close_on_exec(&fd), "shm_open is not O_CLOEXEC");
    drop(fd);
    os::shm_unlink(&name).unwrap();
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_fifo_by_name_is_refused_without_blocking() {
    let path = std::env::temp_dir().join(format!("mmap_ffi_fifo_{}", std::process::id()));
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let name = path.as_os_str().as_encoded_bytes();
    // Without O_NONBLOCK, opening a FIFO nobody writes to would wait forever.
    let (status, _) = map_path(name, 4096, libc::PROT_READ, libc::MAP_SHARED, 0, 0, 0);
    assert_eq!(status, status::NOT_A_FILE);
    let (status, _) = map_path(name, 4096, RW, libc::MAP_SHARED, 0, OPEN_WRITE, 4096);
    assert_eq!(status, status::NOT_A_FILE);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_failed_map_by_name_removes_the_file_it_created() {
    let path = std::env::temp_dir().join(format!("mmap_ffi_created_{}", std::process::id()));
    let name = path.as_os_str().as_encoded_bytes();
    // MAP_PRIVATE | MAP_SHARED fails in mmap itself, after the open created the file.
    let (status, _) = map_path(
        name,
        4096,
        RW,
        libc::MAP_SHARED | libc::MAP_NORESERVE,
        1 << 62,
        OPEN_WRITE | OPEN_CREATE,
        4096,
    );
    assert_ne!(status, 0);
    assert!(!path.exists(), "the file the call created is gone");
    let existing = file_with("kept", &[1u8; 10]);
    let kept = existing.as_os_str().as_encoded_bytes();
    let (status, _) = map_path(
        kept,
        4096,
        RW,
        libc::MAP_SHARED,
        1 << 62,
        OPEN_WRITE | OPEN_CREATE,
        4096,
    );
    assert_ne!(status, 0);
    assert_eq!(
        std::fs::read(&existing).unwrap(),
        [1u8; 10],
        "an existing file is kept as it was"
    );
    std::fs::remove_file(existing).unwrap();
}

#[test]
fn an_offset_past_the_end_of_the_file_is_refused() {
    let path = file_with("past", &[3u8; 100]);
    let name = path.as_os_str().as_encoded_bytes();
    let (at_end, _) = map_path(name, 0, libc::PROT_READ, libc::MAP_SHARED, 100, 0, 0);
    assert_eq!(at_end, status::EMPTY_FILE, "at the end: nothing to map");
    let (past, out) = map_path(name, 0, libc::PROT_READ, libc::MAP_SHARED, 4096, 0, 0);
    assert_eq!(past, status::PAST_END_OF_FILE);
    assert_eq!(out[OUT_FILE_SIZE], 100.0);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn map_file_maps_a_callers_descriptor_and_grows_it() {
    use std::os::fd::AsRawFd;
    let path = file_with("map-file", &[4u8; 100]);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let mut out = [0.0; OUT_SLOTS];
    // SAFETY: the buffer is valid for its length.
    let status = unsafe {
        mmap_ffi_map_file(
            file.as_raw_fd(),
            8192,
            RW,
            libc::MAP_SHARED,
            0,
            8192,
            out.as_mut_ptr(),
            OUT_SLOTS,
        )
    };
    assert_eq!(status, 0);
    assert_eq!(view(&out)[99], 4);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 8192);
    assert_eq!(unmap(&out), 0);
    // A resize by the same descriptor grows it again.
    let (status, again) = map_path(
        path.as_os_str().as_encoded_bytes(),
        0,
        RW,
        libc::MAP_SHARED,
        0,
        OPEN_WRITE,
        0,
    );
    assert_eq!(status, 0);
    let mut moved = [0.0; OUT_SLOTS];
    // SAFETY: the buffers are valid for their lengths.
    let status = unsafe {
        mmap_ffi_resize(
            again[OUT_ADDRESS] as usize,
            again[OUT_ID] as u64,
            3 * 4096,
            SOURCE_DESCRIPTOR,
            std::ptr::null(),
            0,
            file.as_raw_fd(),
            3 * 4096,
            moved.as_mut_ptr(),
            OUT_SLOTS,
        )
    };
    assert_eq!(status, 0);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 3 * 4096);
    assert_eq!(unmap(&again), 0);
    assert_eq!(unmap(&moved), 0);
    // A FIFO's descriptor is not a regular file.
    let fifo = std::env::temp_dir().join(format!("mmap_ffi_fifo2_{}", std::process::id()));
    let c_fifo = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string; O_NONBLOCK so the open returns at once.
    unsafe {
        assert_eq!(libc::mkfifo(c_fifo.as_ptr(), 0o600), 0);
        let fd = libc::open(c_fifo.as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK);
        let status = mmap_ffi_map_file(
            fd,
            4096,
            libc::PROT_READ,
            libc::MAP_SHARED,
            0,
            0,
            out.as_mut_ptr(),
            OUT_SLOTS,
        );
        assert_eq!(status, status::NOT_A_FILE);
        libc::close(fd);
    }
    std::fs::remove_file(fifo).unwrap();
    std::fs::remove_file(path).unwrap();
}
