//! Page size and alignment: the one place where offsets and addresses are rounded to pages.

use std::sync::LazyLock;

static PAGE_SIZE: LazyLock<usize> = LazyLock::new(crate::os::page_size);

/// The size of a memory page on this system, in bytes.
pub fn size() -> usize {
    *PAGE_SIZE
}

/// Splits a file offset into the page-aligned offset `mmap` needs and the distance from there to
/// the requested byte.
pub fn split_offset(offset: u64) -> (u64, usize) {
    let page = size() as u64;
    let aligned = offset - offset % page;
    // The remainder is smaller than one page, so it fits in usize.
    (aligned, (offset - aligned) as usize)
}

/// Rounds an address down to the start of its page and returns it with the distance rounded off.
pub fn align_address(address: usize) -> (usize, usize) {
    let delta = address % size();
    (address - delta, delta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_is_a_power_of_two() {
        assert!(size().is_power_of_two());
        assert!(size() >= 4096);
    }

    #[test]
    fn split_offset_rounds_down_to_a_page() {
        let page = size() as u64;
        assert_eq!(split_offset(0), (0, 0));
        assert_eq!(split_offset(page), (page, 0));
        assert_eq!(split_offset(page + 5), (page, 5));
        assert_eq!(split_offset(3 * page - 1), (2 * page, page as usize - 1));
    }

    #[test]
    fn align_address_rounds_down_to_a_page() {
        let page = size();
        assert_eq!(align_address(10 * page), (10 * page, 0));
        assert_eq!(align_address(10 * page + 17), (10 * page, 17));
    }
}
