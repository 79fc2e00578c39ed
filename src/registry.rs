//! The registry of live mappings: every mapping this library made and has not yet unmapped.
//!
//! Unmap and sync act only on an address found here with the matching id, so a foreign or stale
//! address (or a stale id for an address the kernel handed out again) is refused instead of
//! touching memory the library does not own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};

/// One live mapping. `address`/`length` are what the caller sees; `base`/`base_length` are the
/// page-aligned range the kernel mapped (they differ when the file offset was not page-aligned).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: u64,
    pub length: usize,
    pub base: usize,
    pub base_length: usize,
    /// The `mmap` flags it was made with.
    pub flags: i32,
    /// Where the caller's view starts in the file (0 for anonymous memory).
    pub file_offset: u64,
    /// The mapped file's device and inode (`None` for anonymous memory).
    pub identity: Option<(u64, u64)>,
}

/// What to record about a new mapping.
#[derive(Clone, Copy, Debug)]
pub struct NewEntry {
    pub address: usize,
    pub length: usize,
    pub base: usize,
    pub base_length: usize,
    pub flags: i32,
    pub file_offset: u64,
    pub identity: Option<(u64, u64)>,
}

static LIVE: LazyLock<Mutex<HashMap<usize, Entry>>> = LazyLock::new(Default::default);
/// Ids are never reused, so an id identifies one mapping for the life of the process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn live() -> MutexGuard<'static, HashMap<usize, Entry>> {
    // A panic while holding the lock cannot leave the map half-updated (every update is a
    // single insert or remove), so a poisoned lock is safe to keep using.
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Records a new mapping and returns its id.
pub fn insert(new: NewEntry) -> u64 {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let entry = Entry {
        id,
        length: new.length,
        base: new.base,
        base_length: new.base_length,
        flags: new.flags,
        file_offset: new.file_offset,
        identity: new.identity,
    };
    live().insert(new.address, entry);
    id
}

/// The live mapping at `address`, if it has this id.
pub fn get(address: usize, id: u64) -> Option<Entry> {
    live().get(&address).copied().filter(|entry| entry.id == id)
}

/// Removes and returns the live mapping at `address`, if it has this id.
pub fn take(address: usize, id: u64) -> Option<Entry> {
    let mut live = live();
    match live.get(&address) {
        Some(entry) if entry.id == id => live.remove(&address),
        _ => None,
    }
}

/// Puts back an entry that [`take`] removed (when unmapping it failed).
pub fn restore(address: usize, entry: Entry) {
    live().insert(address, entry);
}

/// How many mappings are live.
pub fn count() -> usize {
    live().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tests use addresses no real mapping has (odd, in the first page) so they never collide
    // with the mappings other tests make in parallel.
    fn insert(address: usize, length: usize, base: usize, base_length: usize) -> u64 {
        super::insert(NewEntry {
            address,
            length,
            base,
            base_length,
            flags: 0,
            file_offset: 0,
            identity: None,
        })
    }

    #[test]
    fn take_requires_the_matching_id() {
        let id = insert(0x11, 8, 0x10, 9);
        assert_eq!(take(0x11, id + 1000), None);
        assert_eq!(get(0x11, id).map(|e| e.length), Some(8));
        assert_eq!(take(0x11, id).map(|e| e.base), Some(0x10));
        assert_eq!(take(0x11, id), None, "a second take finds nothing");
    }

    #[test]
    fn ids_are_never_reused() {
        let first = insert(0x21, 1, 0x20, 2);
        take(0x21, first);
        let second = insert(0x21, 1, 0x20, 2);
        assert_ne!(first, second);
        assert_eq!(get(0x21, first), None);
        take(0x21, second);
    }

    #[test]
    fn restore_puts_an_entry_back() {
        let id = insert(0x31, 4, 0x30, 5);
        let entry = take(0x31, id).unwrap();
        restore(0x31, entry);
        assert_eq!(get(0x31, id), Some(entry));
        take(0x31, id);
    }
}
