//! The registry of mappings this library made and has not yet given back to the OS.
//!
//! Every operation acts only on an address found here with the matching id, so a foreign or
//! stale address (or a stale id for an address the kernel handed out again) is refused instead
//! of touching memory the library does not own.
//!
//! An entry counts its *holds*: reasons to keep its address range. The first belongs to whoever
//! the mapping was made for (a C caller, or the runtime's buffer over it, which gives it up from
//! its release hook); a flush in progress takes another. The range is unmapped when the last
//! hold is dropped, and never while the registry lock is not held, so a release on one thread
//! and a new mapping on another cannot mix up the same address.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};

/// One mapping. `address`/`length` are what the caller sees; `base`/`base_length` are the
/// page-aligned range the kernel mapped (they differ when the file offset was not page-aligned).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: u64,
    pub length: usize,
    pub base: usize,
    pub base_length: usize,
    /// The `mmap` flags it was made with.
    pub flags: i32,
    /// The current `PROT_*` bits (changed by `protect`).
    pub prot: i32,
    /// Where the caller's view starts in the file (0 for anonymous memory).
    pub file_offset: u64,
    /// The mapped file's device and inode (`None` for anonymous memory).
    pub identity: Option<(u64, u64)>,
    /// Reasons to keep the address range; it is unmapped when this drops to 0.
    pub holds: u32,
    /// True once a runtime buffer has been made over it (at most one may be).
    pub wrapped: bool,
    /// The runtime context (a Node-API environment) whose buffer over it can never leave that
    /// context, and whose end therefore ends every use of it; 0 for none.
    pub owner: usize,
    /// True once its pages were replaced by anonymous zero pages: the file is let go, and only
    /// the address range is kept until the last hold is dropped.
    pub retired: bool,
    /// The mapping (address, id) whose resize made this one, until its pages are moved here:
    /// the one pair a move may carry pages between.
    pub resized_from: Option<(usize, u64)>,
}

/// What to record about a new mapping.
#[derive(Clone, Copy, Debug)]
pub struct NewEntry {
    pub address: usize,
    pub length: usize,
    pub base: usize,
    pub base_length: usize,
    pub flags: i32,
    pub prot: i32,
    pub file_offset: u64,
    pub identity: Option<(u64, u64)>,
}

/// The entries by the address the caller sees.
#[derive(Debug, Default)]
pub struct Registry {
    entries: HashMap<usize, Entry>,
    /// How many entries are retired.
    retired: usize,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Default::default);
/// Ids are never reused, so an id identifies one mapping for the life of the process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Locks the registry. Hold the guard across any system call that maps, unmaps or replaces an
/// entry's range, so no other thread sees the entry and the range disagree.
pub fn lock() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock cannot leave the map half-updated (every update is a
    // single insert, remove or field store), so a poisoned lock is safe to keep using.
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Registry {
    /// Records a new mapping with one hold and returns its id.
    pub fn insert(&mut self, new: NewEntry) -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let entry = Entry {
            id,
            length: new.length,
            base: new.base,
            base_length: new.base_length,
            flags: new.flags,
            prot: new.prot,
            file_offset: new.file_offset,
            identity: new.identity,
            holds: 1,
            wrapped: false,
            owner: 0,
            retired: false,
            resized_from: None,
        };
        self.entries.insert(new.address, entry);
        id
    }

    /// The entry at `address` with this id, retired or not.
    pub fn get_mut(&mut self, address: usize, id: u64) -> Option<&mut Entry> {
        self.entries
            .get_mut(&address)
            .filter(|entry| entry.id == id)
    }

    /// The entry at `address` with this id, if its pages are still the mapped ones.
    pub fn live(&mut self, address: usize, id: u64) -> Option<&mut Entry> {
        self.get_mut(address, id).filter(|entry| !entry.retired)
    }

    /// Removes the entry at `address` (after its range was unmapped).
    pub fn remove(&mut self, address: usize) -> Option<Entry> {
        let removed = self.entries.remove(&address);
        if removed.is_some_and(|entry| entry.retired) {
            self.retired -= 1;
        }
        removed
    }

    /// Marks the entry at `address` with this id retired (its pages replaced by zero pages);
    /// false if there is no such live entry.
    pub fn retire(&mut self, address: usize, id: u64) -> bool {
        let Some(entry) = self.live(address, id) else {
            return false;
        };
        entry.retired = true;
        self.retired += 1;
        true
    }

    /// The addresses of the entries whose owner is `owner`.
    pub fn owned_by(&self, owner: usize) -> Vec<usize> {
        self.entries
            .iter()
            .filter(|(_, entry)| entry.owner == owner)
            .map(|(address, _)| *address)
            .collect()
    }

    /// How many entries there are, retired ones included (each still holds an address range).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// How many entries are retired: let go of their file, and wait for their last hold.
    pub fn retired_len(&self) -> usize {
        self.retired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tests use addresses no real mapping has (odd, in the first page) so they never collide
    // with the mappings other tests make in parallel.
    fn insert(registry: &mut Registry, address: usize) -> u64 {
        registry.insert(NewEntry {
            address,
            length: 8,
            base: address - 1,
            base_length: 9,
            flags: 0,
            prot: 0,
            file_offset: 0,
            identity: None,
        })
    }

    #[test]
    fn lookups_require_the_matching_id() {
        let mut registry = Registry::default();
        let id = insert(&mut registry, 0x11);
        assert!(registry.get_mut(0x11, id + 1000).is_none());
        assert_eq!(registry.get_mut(0x11, id).map(|e| e.length), Some(8));
        assert_eq!(registry.remove(0x11).map(|e| e.id), Some(id));
        assert!(registry.get_mut(0x11, id).is_none(), "removed");
    }

    #[test]
    fn ids_are_never_reused() {
        let mut registry = Registry::default();
        let first = insert(&mut registry, 0x21);
        registry.remove(0x21);
        let second = insert(&mut registry, 0x21);
        assert_ne!(first, second);
        assert!(registry.get_mut(0x21, first).is_none());
    }

    #[test]
    fn a_new_entry_has_one_hold_and_is_live() {
        let mut registry = Registry::default();
        let id = insert(&mut registry, 0x31);
        let entry = registry.live(0x31, id).unwrap();
        assert_eq!(
            (entry.holds, entry.retired, entry.wrapped),
            (1, false, false)
        );
        assert!(registry.retire(0x31, id));
        assert_eq!(registry.retired_len(), 1);
        assert!(
            registry.live(0x31, id).is_none(),
            "a retired entry is not live"
        );
        assert!(
            registry.get_mut(0x31, id).is_some(),
            "but it is still recorded"
        );
        assert_eq!(registry.len(), 1);
    }
}
