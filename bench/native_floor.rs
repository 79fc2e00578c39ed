//! The native floor of the benchmarks: the same system calls the library makes, from Rust with
//! no FFI boundary and no JavaScript, timed the same way (warmup, batches, median).
//!
//! `cargo run --release --example native_floor -- FILE [--quick]` prints one JSON object:
//! nanoseconds per operation for map + touch + unmap of `FILE` by name (open, fstat, mmap,
//! touch one byte, munmap, close) and with an open descriptor (fstat, mmap, touch, munmap), and
//! for one call of the library's cheapest export, `mmap_ffi_live_count`, made natively. Also
//! the library's own map-by-name path called natively (`mmap_ffi_map_path`, touch,
//! `mmap_ffi_unmap`), which shows what the Rust side adds to the bare system calls.

use std::ffi::CString;
use std::hint::black_box;
use std::os::unix::ffi::OsStrExt;
use std::time::Instant;

/// Maps the open descriptor `fd` whole, reads its first byte, unmaps it.
fn map_touch_unmap(fd: libc::c_int) -> u8 {
    // SAFETY: plain system calls on a descriptor we own; `stat` is a plain C struct.
    unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        assert_eq!(libc::fstat(fd, &mut stat), 0, "fstat");
        let length = usize::try_from(stat.st_size).expect("file size");
        let address = libc::mmap(
            std::ptr::null_mut(),
            length,
            libc::PROT_READ,
            libc::MAP_SHARED,
            fd,
            0,
        );
        assert_ne!(address, libc::MAP_FAILED, "mmap");
        let byte = std::ptr::read_volatile(address.cast::<u8>());
        assert_eq!(libc::munmap(address, length), 0, "munmap");
        byte
    }
}

/// The library's own path, called natively: `mmap_ffi_map_path`, touch, `mmap_ffi_unmap`.
fn library_by_name(path: &[u8], out: &mut [f64; 6]) -> u8 {
    let (prot, flags) = (libc::PROT_READ, libc::MAP_SHARED);
    // SAFETY: `path` and `out` are valid for their lengths; the mapping is read while mapped.
    unsafe {
        let status = mmap_ffi::mmap_ffi_map_path(
            path.as_ptr(),
            path.len(),
            0,
            prot,
            flags,
            0,
            0,
            0,
            out.as_mut_ptr(),
            out.len(),
        );
        assert_eq!(status, 0, "mmap_ffi_map_path");
        let byte = std::ptr::read_volatile(out[0] as usize as *const u8);
        let status =
            mmap_ffi::mmap_ffi_unmap(out[0] as usize, out[2] as u64, out.as_mut_ptr(), out.len());
        assert_eq!(status, 0, "mmap_ffi_unmap");
        byte
    }
}

fn by_name(path: &CString) -> u8 {
    // SAFETY: `path` is a NUL-terminated string; the descriptor is closed below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    assert!(fd >= 0, "open");
    let byte = map_touch_unmap(fd);
    // SAFETY: we opened `fd` above.
    unsafe { libc::close(fd) };
    byte
}

/// Median nanoseconds per call of `op`: warmup, then `batches` batches of about `batch_ms` each.
fn median_ns(mut op: impl FnMut(), batches: usize, batch_ms: f64) -> f64 {
    let warm = Instant::now();
    let mut iterations = 0u64;
    while warm.elapsed().as_secs_f64() * 1e3 < batch_ms {
        op();
        iterations += 1;
    }
    let per_batch = iterations.max(1);
    let mut samples: Vec<f64> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                op();
            }
            start.elapsed().as_nanos() as f64 / per_batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.iter().find(|arg| !arg.starts_with("--")) else {
        eprintln!("usage: native_floor FILE [--quick]");
        std::process::exit(2);
    };
    let quick = args.iter().any(|arg| arg == "--quick");
    let (batches, batch_ms) = if quick { (5, 20.0) } else { (15, 100.0) };
    let path = CString::new(std::path::Path::new(file).as_os_str().as_bytes()).expect("path");

    let name_ns = median_ns(|| _ = black_box(by_name(&path)), batches, batch_ms);
    // SAFETY: as in `by_name`; closed at the end.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    assert!(fd >= 0, "open");
    let fd_ns = median_ns(|| _ = black_box(map_touch_unmap(fd)), batches, batch_ms);
    // SAFETY: opened above.
    unsafe { libc::close(fd) };
    let mut out = [0f64; 6];
    let library_ns = median_ns(
        || _ = black_box(library_by_name(path.as_bytes(), &mut out)),
        batches,
        batch_ms,
    );
    let call_ns = median_ns(
        || _ = black_box(mmap_ffi::mmap_ffi_live_count()),
        batches,
        batch_ms,
    );
    println!(
        "{{\"byName\":{name_ns:.1},\"byFd\":{fd_ns:.1},\"libraryByName\":{library_ns:.1},\"liveCount\":{call_ns:.2},\"batches\":{batches}}}"
    );
}
