//! Status codes returned across the C ABI, the system calls they name, and their descriptions.
//!
//! A status is `0` for success, a positive OS `errno` when a system call failed (the call is
//! named by a [`Syscall`] written beside it), or one of the negative codes below for a refusal
//! made by the library itself.

/// Success.
pub const OK: i32 = 0;
/// An argument the TypeScript side should have refused: a null pointer, unknown flags, bad text.
pub const INVALID_ARGUMENT: i32 = -1;
/// The mapping would reach past the end of the file (touching those pages raises SIGBUS).
pub const PAST_END_OF_FILE: i32 = -2;
/// A length of 0 ("the whole file") was asked of an empty file or at its end.
pub const EMPTY_FILE: i32 = -3;
/// The address is not a live mapping made by this library (never made, or already unmapped).
pub const NOT_LIVE: i32 = -4;
/// The byte range lies outside the mapping.
pub const OUT_OF_RANGE: i32 = -5;
/// A panic inside the library was caught at the boundary.
pub const INTERNAL: i32 = -6;
/// A length of 0 ("the whole file") was asked of something that is not a regular file.
pub const SIZE_UNKNOWN: i32 = -7;
/// The kernel placed the mapping above 2^53, where a JavaScript number cannot hold the address.
pub const ADDRESS_TOO_HIGH: i32 = -8;
/// A shared anonymous mapping cannot grow: its pages past the old end would raise SIGBUS.
pub const CANNOT_GROW: i32 = -9;
/// The name now leads to another file or object than the one mapped (replaced or recreated).
pub const SOURCE_REPLACED: i32 = -10;
/// A mapping of something that is not a regular file (a device) cannot grow: its size is
/// unknown, and shared pages past what it provides raise SIGBUS.
pub const DEVICE_CANNOT_GROW: i32 = -11;
/// The library already holds as many mappings as it allows (three quarters of the kernel's
/// per-process limit); described as `ENOMEM`, as the kernel would.
pub const MAPPING_LIMIT: i32 = -12;
/// Something that is not a regular file (a FIFO, a device, a directory) was to be mapped by
/// name or grown: only regular files (and shared-memory objects) can be, safely.
pub const NOT_A_FILE: i32 = -13;

/// The library-defined statuses: code, name and message.
const LIBRARY_STATUSES: &[(i32, &str, &str)] = &[
    (
        INVALID_ARGUMENT,
        "ERR_MMAP_INVALID_ARGUMENT",
        "invalid argument",
    ),
    (
        PAST_END_OF_FILE,
        "ERR_MMAP_PAST_END_OF_FILE",
        "the mapping would reach past the end of the file",
    ),
    (EMPTY_FILE, "ERR_MMAP_EMPTY_FILE", "the file is empty"),
    (
        NOT_LIVE,
        "ERR_MMAP_NOT_LIVE",
        "not a live mapping made by this library",
    ),
    (
        OUT_OF_RANGE,
        "ERR_MMAP_OUT_OF_RANGE",
        "the range lies outside the mapping",
    ),
    (
        INTERNAL,
        "ERR_MMAP_INTERNAL",
        "internal error in the native library",
    ),
    (
        SIZE_UNKNOWN,
        "ERR_MMAP_SIZE_UNKNOWN",
        "the length must be given for something that is not a regular file",
    ),
    (
        ADDRESS_TOO_HIGH,
        "ERR_MMAP_ADDRESS_TOO_HIGH",
        "the kernel placed the mapping above 2^53",
    ),
    (
        DEVICE_CANNOT_GROW,
        "ERR_MMAP_DEVICE_CANNOT_GROW",
        "a mapping of something that is not a regular file (a device) cannot grow: its size is unknown",
    ),
    (
        SOURCE_REPLACED,
        "ERR_MMAP_SOURCE_REPLACED",
        "the name now leads to another file or object than the one mapped",
    ),
    (
        CANNOT_GROW,
        "ERR_MMAP_CANNOT_GROW",
        "a shared anonymous mapping cannot grow",
    ),
    (MAPPING_LIMIT, "ENOMEM", "too many live mappings"),
    (
        NOT_A_FILE,
        "ERR_MMAP_NOT_A_FILE",
        "not a regular file (a FIFO, a device or a directory)",
    ),
];

/// Every status by a name the TypeScript side branches on (`STATUS_NOT_LIVE`, ...), so no code
/// compares message text.
pub fn constants() -> Vec<(&'static str, i64)> {
    vec![
        ("STATUS_OK", OK.into()),
        ("STATUS_INVALID_ARGUMENT", INVALID_ARGUMENT.into()),
        ("STATUS_PAST_END_OF_FILE", PAST_END_OF_FILE.into()),
        ("STATUS_EMPTY_FILE", EMPTY_FILE.into()),
        ("STATUS_NOT_LIVE", NOT_LIVE.into()),
        ("STATUS_OUT_OF_RANGE", OUT_OF_RANGE.into()),
        ("STATUS_INTERNAL", INTERNAL.into()),
        ("STATUS_SIZE_UNKNOWN", SIZE_UNKNOWN.into()),
        ("STATUS_ADDRESS_TOO_HIGH", ADDRESS_TOO_HIGH.into()),
        ("STATUS_CANNOT_GROW", CANNOT_GROW.into()),
        ("STATUS_SOURCE_REPLACED", SOURCE_REPLACED.into()),
        ("STATUS_DEVICE_CANNOT_GROW", DEVICE_CANNOT_GROW.into()),
        ("STATUS_MAPPING_LIMIT", MAPPING_LIMIT.into()),
        ("STATUS_NOT_A_FILE", NOT_A_FILE.into()),
        ("ERRNO_ENOMEM", libc::ENOMEM.into()),
        ("ERRNO_ENOSYS", libc::ENOSYS.into()),
    ]
}

/// The system calls a failure can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Syscall {
    None = 0,
    Open,
    Fstat,
    Ftruncate,
    Mmap,
    Munmap,
    Msync,
    ShmOpen,
    ShmUnlink,
    Madvise,
    Mlock,
    Munlock,
    Mprotect,
    Mincore,
    Mremap,
    Unlink,
    Fcntl,
}

impl Syscall {
    const ALL: [Syscall; 17] = [
        Syscall::None,
        Syscall::Open,
        Syscall::Fstat,
        Syscall::Ftruncate,
        Syscall::Mmap,
        Syscall::Munmap,
        Syscall::Msync,
        Syscall::ShmOpen,
        Syscall::ShmUnlink,
        Syscall::Madvise,
        Syscall::Mlock,
        Syscall::Munlock,
        Syscall::Mprotect,
        Syscall::Mincore,
        Syscall::Mremap,
        Syscall::Unlink,
        Syscall::Fcntl,
    ];

    /// The C name of the system call.
    pub fn name(self) -> &'static str {
        match self {
            Syscall::None => "",
            Syscall::Open => "open",
            Syscall::Fstat => "fstat",
            Syscall::Ftruncate => "ftruncate",
            Syscall::Mmap => "mmap",
            Syscall::Munmap => "munmap",
            Syscall::Msync => "msync",
            Syscall::ShmOpen => "shm_open",
            Syscall::ShmUnlink => "shm_unlink",
            Syscall::Madvise => "madvise",
            Syscall::Mlock => "mlock",
            Syscall::Munlock => "munlock",
            Syscall::Mprotect => "mprotect",
            Syscall::Mincore => "mincore",
            Syscall::Mremap => "mremap",
            Syscall::Unlink => "unlink",
            Syscall::Fcntl => "fcntl",
        }
    }

    /// The system call with this number, as written to an out-buffer.
    pub fn from_number(number: i32) -> Syscall {
        usize::try_from(number)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
            .unwrap_or(Syscall::None)
    }
}

/// Symbolic names of the errno values a mapping can meet; the values come from the OS headers.
const ERRNO_NAMES: &[(i32, &str)] = &[
    (libc::EPERM, "EPERM"),
    (libc::ENOENT, "ENOENT"),
    (libc::EINTR, "EINTR"),
    (libc::EIO, "EIO"),
    (libc::ENXIO, "ENXIO"),
    (libc::EBADF, "EBADF"),
    (libc::EAGAIN, "EAGAIN"),
    (libc::ENOMEM, "ENOMEM"),
    (libc::EACCES, "EACCES"),
    (libc::EFAULT, "EFAULT"),
    (libc::EBUSY, "EBUSY"),
    (libc::EEXIST, "EEXIST"),
    (libc::ENODEV, "ENODEV"),
    (libc::ENOTDIR, "ENOTDIR"),
    (libc::EISDIR, "EISDIR"),
    (libc::EINVAL, "EINVAL"),
    (libc::ENFILE, "ENFILE"),
    (libc::EMFILE, "EMFILE"),
    (libc::ETXTBSY, "ETXTBSY"),
    (libc::EFBIG, "EFBIG"),
    (libc::ENOSPC, "ENOSPC"),
    (libc::ESPIPE, "ESPIPE"),
    (libc::EROFS, "EROFS"),
    (libc::ENAMETOOLONG, "ENAMETOOLONG"),
    (libc::ELOOP, "ELOOP"),
    (libc::EOVERFLOW, "EOVERFLOW"),
    (libc::ENOSYS, "ENOSYS"),
    (libc::EOPNOTSUPP, "EOPNOTSUPP"),
    (libc::ENOTSUP, "ENOTSUP"),
    (libc::EDQUOT, "EDQUOT"),
];

/// The symbolic name of an errno value, such as `ENOENT`.
pub fn errno_name(errno: i32) -> String {
    ERRNO_NAMES
        .iter()
        .find(|(value, _)| *value == errno)
        .map_or_else(|| format!("E{errno}"), |(_, name)| (*name).to_string())
}

/// The OS's message for an errno value, lower-cased at the start like Node's messages.
fn errno_message(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    let text = match text.rfind(" (os error") {
        Some(cut) => &text[..cut],
        None => &text[..],
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Describes a status as `code\tsyscall\tmessage`, the text the TypeScript side parses.
pub fn describe(status: i32, syscall: Syscall) -> String {
    if status > 0 {
        return format!(
            "{}\t{}\t{}",
            errno_name(status),
            syscall.name(),
            errno_message(status)
        );
    }
    match LIBRARY_STATUSES.iter().find(|(code, _, _)| *code == status) {
        Some((_, name, message)) => format!("{name}\t\t{message}"),
        None if status == OK => "OK\t\tsuccess".to_string(),
        None => format!("ERR_MMAP_UNKNOWN\t\tunknown status {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_is_described_with_name_call_and_message() {
        assert_eq!(
            describe(libc::ENOENT, Syscall::Open),
            "ENOENT\topen\tno such file or directory"
        );
    }

    #[test]
    fn unknown_errno_gets_a_numeric_name() {
        assert_eq!(errno_name(100_000), "E100000");
    }

    #[test]
    fn every_library_status_is_a_constant() {
        let names = constants();
        for (code, _, _) in LIBRARY_STATUSES {
            assert!(
                names.iter().any(|(_, value)| *value == i64::from(*code)),
                "status {code} has no STATUS_ constant"
            );
        }
    }

    #[test]
    fn library_statuses_have_names() {
        assert!(
            describe(PAST_END_OF_FILE, Syscall::None).starts_with("ERR_MMAP_PAST_END_OF_FILE\t\t")
        );
        assert!(describe(NOT_LIVE, Syscall::None).starts_with("ERR_MMAP_NOT_LIVE\t\t"));
        assert!(describe(-999, Syscall::None).starts_with("ERR_MMAP_UNKNOWN"));
    }

    #[test]
    fn syscall_numbers_round_trip() {
        for call in Syscall::ALL {
            assert_eq!(Syscall::from_number(call as i32), call);
        }
        assert_eq!(Syscall::from_number(-1), Syscall::None);
        assert_eq!(Syscall::from_number(1000), Syscall::None);
    }
}
