//! The libFuzzer target: `cargo +nightly fuzz run c_abi`. One input is one sequence of calls
//! into the C exports; see `mmap_ffi_fuzz::run`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mmap_ffi_fuzz::run(data);
});
