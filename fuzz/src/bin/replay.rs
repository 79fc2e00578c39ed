//! The stable-Rust driver of the `c_abi` target (cargo-fuzz needs nightly): runs every file of
//! the given corpus directories, then pseudo-random inputs from a seeded generator until the
//! run or time limit. A crash leaves the input that caused it in
//! `artifacts/c_abi/last-input`; `replay --input FILE` runs one input again.
//!
//! Usage: replay [--seed N] [--runs N] [--seconds S] [--input FILE] [--save DIR] [CORPUS_DIR...]
//!
//! `--save DIR` keeps the random inputs that made at least two mappings (seeds for a corpus).

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// xorshift64*: small, seedable, good enough to spread bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn main() {
    let mut seed = 20261128u64;
    let mut runs = u64::MAX;
    let mut seconds = 10.0f64;
    let mut corpora = Vec::new();
    let mut single = None;
    let mut save: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().expect("a value after the option");
        match arg.as_str() {
            "--seed" => seed = value().parse().expect("--seed N"),
            "--runs" => runs = value().parse().expect("--runs N"),
            "--seconds" => seconds = value().parse().expect("--seconds S"),
            "--input" => single = Some(PathBuf::from(value())),
            "--save" => save = Some(PathBuf::from(value())),
            _ => corpora.push(PathBuf::from(arg)),
        }
    }
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/c_abi");
    std::fs::create_dir_all(&artifacts).expect("artifacts directory");
    let last = artifacts.join("last-input");
    let run = |input: &[u8]| {
        std::fs::write(&last, input).expect("write last-input");
        mmap_ffi_fuzz::run(input);
    };
    if let Some(path) = single {
        run(&std::fs::read(&path).expect("read the input"));
        println!("{}: ok", path.display());
        mmap_ffi_fuzz::clean_up();
        return;
    }
    let started = Instant::now();
    let mut files = 0u64;
    for dir in &corpora {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read the corpus directory")
            .flatten()
            .map(|entry| entry.path())
            .collect();
        entries.sort();
        for path in entries {
            run(&std::fs::read(&path).expect("read a corpus file"));
            files += 1;
        }
    }
    let limit = Duration::from_secs_f64(seconds);
    let mut rng = Rng(seed | 1);
    let mut random = 0u64;
    let mut input = Vec::new();
    while random < runs && started.elapsed() < limit {
        input.clear();
        let length = 1 + rng.next() % 400;
        input.extend((0..length).map(|_| rng.next() as u8));
        let mapped = mmap_ffi_fuzz::MAPPED.load(Ordering::Relaxed);
        run(&input);
        if let Some(dir) = &save
            && mmap_ffi_fuzz::MAPPED.load(Ordering::Relaxed) >= mapped + 2
        {
            std::fs::write(dir.join(format!("seed-{seed}-{random}")), &input).expect("save");
        }
        random += 1;
    }
    let _ = std::fs::remove_file(&last);
    mmap_ffi_fuzz::clean_up();
    println!(
        "c_abi fuzz (stable driver): {files} corpus inputs + {random} random inputs (seed \
         {seed}), {} calls, {} mappings made, {} moves ({} refused as expected, {} failed with an \
         errno), {} calls given a descriptor, {} statuses predicted exactly, {} failed map and \
         resize calls left the files as they were, in {:.1} s; every foreign address refused, \
         nothing left mapped or open",
        mmap_ffi_fuzz::CALLS.load(Ordering::Relaxed),
        mmap_ffi_fuzz::MAPPED.load(Ordering::Relaxed),
        mmap_ffi_fuzz::MOVED.load(Ordering::Relaxed),
        mmap_ffi_fuzz::MOVES_REFUSED.load(Ordering::Relaxed),
        mmap_ffi_fuzz::MOVES_FAILED.load(Ordering::Relaxed),
        mmap_ffi_fuzz::DESCRIPTOR_CALLS.load(Ordering::Relaxed),
        mmap_ffi_fuzz::PREDICTED.load(Ordering::Relaxed),
        mmap_ffi_fuzz::FAILED_MAPS.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    );
}
