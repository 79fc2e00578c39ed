"""Just enough of ELF and Mach-O to read what `dist_binaries.py` checks: the machine, the file
type, the exported and imported symbols (with their glibc versions or dylibs), the libraries
needed, and on Mach-O the install name, minimum macOS and code signature's page hashes. Reads the
bytes itself, so no binutils or Apple tool is needed.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path


class FormatError(ValueError):
    """The file is not what the parser expects."""


@dataclass
class Imported:
    name: str
    weak: bool
    source: str | None  # ELF: the library of its version (None if unversioned); Mach-O: dylib
    version: str | None = None  # ELF: GLIBC_2.17


@dataclass
class Binary:
    format: str
    machine: str
    kind: str  # "shared library", or what it is instead
    exports: set[str]
    imports: list[Imported]
    needed: list[str]
    extras: dict = field(default_factory=dict)


ELF_MACHINES = {62: "x86-64", 183: "AArch64"}


def cstring(data: bytes, offset: int) -> str:
    return data[offset:data.index(b"\0", offset)].decode()


def parse_elf(data: bytes) -> Binary:
    if data[4] != 2 or data[5] != 1:
        raise FormatError("not a 64-bit little-endian ELF file")
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    (e_shoff,) = struct.unpack_from("<Q", data, 0x28)
    e_shentsize, e_shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + i * e_shentsize)
                for i in range(e_shnum)]
    # (name, type, flags, addr, offset, size, link, info, addralign, entsize)
    by_type = {}
    for section in sections:
        by_type.setdefault(section[1], section)
    dynsym, dynamic = by_type.get(11), by_type.get(6)
    if dynsym is None or dynamic is None:
        raise FormatError("no dynamic symbol table")
    strtab = sections[dynsym[6]][4]

    versions: dict[int, tuple[str, str]] = {}  # version index -> (library, version name)
    verneed = by_type.get(0x6FFFFFFE)
    if verneed is not None:
        offset = verneed[4]
        for _ in range(verneed[7]):
            _, count, file_name, aux, next_need = struct.unpack_from("<HHIII", data, offset)
            library = cstring(data, strtab + file_name)
            entry = offset + aux
            for _ in range(count):
                _, _, index, name, next_aux = struct.unpack_from("<IHHII", data, entry)
                versions[index] = (library, cstring(data, strtab + name))
                entry += next_aux
            offset += next_need
    versym = by_type.get(0x6FFFFFFF)

    exports, imports = set(), []
    for i in range(1, dynsym[5] // 24):
        name, info, other, shndx = struct.unpack_from("<IBBH", data, dynsym[4] + i * 24)
        name = cstring(data, strtab + name)
        bind, visibility = info >> 4, other & 3
        if shndx != 0:
            if bind in (1, 2) and visibility in (0, 3):
                exports.add(name)
            continue
        index = (struct.unpack_from("<H", data, versym[4] + 2 * i)[0] & 0x7FFF
                 if versym is not None else 1)
        library, version = versions.get(index, (None, None))
        imports.append(Imported(name, bind == 2, library, version))

    needed = []
    for offset in range(dynamic[4], dynamic[4] + dynamic[5], 16):
        tag, value = struct.unpack_from("<qQ", data, offset)
        if tag == 0:
            break
        if tag == 1:
            needed.append(cstring(data, strtab + value))
    kind = "shared library" if e_type == 3 else f"ELF type {e_type}"
    return Binary("ELF", ELF_MACHINES.get(e_machine, f"machine {e_machine}"), kind, exports,
                  imports, needed)


MACHO_CPUS = {0x0100000C: "arm64", 0x01000007: "x86_64"}


def uleb(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, offset


def macho_version(value: int) -> str:
    text = f"{value >> 16}.{(value >> 8) & 0xFF}"
    return text + (f".{value & 0xFF}" if value & 0xFF else "")


def export_trie(data: bytes, start: int) -> set[str]:
    """The names in a Mach-O export trie: what dlsym() can find."""
    names, stack = set(), [(0, "")]
    while stack:
        node, prefix = stack.pop()
        terminal_size, offset = uleb(data, start + node)
        if terminal_size:
            names.add(prefix)
        offset += terminal_size
        children = data[offset]
        offset += 1
        for _ in range(children):
            end = data.index(b"\0", offset)
            label = data[offset:end].decode()
            child, offset = uleb(data, end + 1)
            stack.append((child, prefix + label))
    return names


def check_code_signature(data: bytes, offset: int) -> str:
    """Verifies the page hashes of a Mach-O code signature's CodeDirectory."""
    magic, _, count = struct.unpack_from(">III", data, offset)
    if magic != 0xFADE0CC0:
        return "not a code signature (bad magic)"
    for i in range(count):
        slot, blob = struct.unpack_from(">II", data, offset + 12 + 8 * i)
        if slot != 0:
            continue
        directory = offset + blob
        (magic, _, version, flags, hash_offset, _, _, code_slots, code_limit, hash_size,
         hash_type, _, page_shift) = struct.unpack_from(">IIIIIIIIIBBBB", data, directory)
        if magic != 0xFADE0C02:
            return "no CodeDirectory"
        algorithm = {1: hashlib.sha1, 2: hashlib.sha256}.get(hash_type)
        if algorithm is None:
            return f"unknown hash type {hash_type}"
        page = 1 << page_shift
        for slot_index in range(code_slots):
            start = slot_index * page
            digest = algorithm(data[start:min(start + page, code_limit)]).digest()[:hash_size]
            stored = directory + hash_offset + slot_index * hash_size
            if data[stored:stored + hash_size] != digest:
                return f"page {slot_index}'s hash does not match"
        adhoc = " ad-hoc" if flags & 0x2 else ""
        return f"ok ({code_slots} pages,{adhoc} {algorithm().name})"
    return "no CodeDirectory"


def parse_macho(data: bytes) -> Binary:
    magic, cputype, _, filetype, ncmds, _, flags, _ = struct.unpack_from("<IiIIIIII", data, 0)
    if magic != 0xFEEDFACF:
        raise FormatError("not a 64-bit Mach-O file")
    dylibs, extras = [], {"signature": None, "install_name": None, "min_macos": None}
    symtab = trie = None
    offset = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, offset)
        if cmd in (0xC, 0x80000018, 0x8000001F, 0xD):  # LOAD, LOAD_WEAK, REEXPORT, ID_DYLIB
            name = cstring(data, offset + struct.unpack_from("<I", data, offset + 8)[0])
            if cmd == 0xD:
                extras["install_name"] = name
            else:
                dylibs.append(name)
        elif cmd == 0x2:  # LC_SYMTAB
            symtab = struct.unpack_from("<IIII", data, offset + 8)
        elif cmd == 0x80000022:  # LC_DYLD_INFO_ONLY: export_off, export_size are the last two
            trie = struct.unpack_from("<II", data, offset + 40)
        elif cmd == 0x80000033:  # LC_DYLD_EXPORTS_TRIE
            trie = struct.unpack_from("<II", data, offset + 8)
        elif cmd == 0x32:  # LC_BUILD_VERSION: platform, minos, sdk
            extras["min_macos"] = macho_version(struct.unpack_from("<I", data, offset + 12)[0])
        elif cmd == 0x24:  # LC_VERSION_MIN_MACOSX: version, sdk
            extras["min_macos"] = macho_version(struct.unpack_from("<I", data, offset + 8)[0])
        elif cmd == 0x1D:  # LC_CODE_SIGNATURE
            extras["signature"] = check_code_signature(
                data, struct.unpack_from("<I", data, offset + 8)[0])
        offset += size
    if symtab is None or trie is None:
        raise FormatError("no symbol table or no export trie")
    exports = {name[1:] for name in export_trie(data, trie[0])}

    symoff, nsyms, stroff, _ = symtab
    table_exports, imports = set(), []
    for i in range(nsyms):
        strx, n_type, _, n_desc, _ = struct.unpack_from("<IBBHQ", data, symoff + 16 * i)
        if n_type & 0xE0 or not n_type & 0x01:  # debugging entries; non-external
            continue
        name = cstring(data, stroff + strx)[1:]
        if n_type & 0x0E == 0x0E and not n_type & 0x10:  # defined in a section, not private
            table_exports.add(name)
        elif n_type & 0x0E == 0:
            ordinal = n_desc >> 8
            source = (dylibs[ordinal - 1] if 0 < ordinal <= len(dylibs)
                      else {0: "itself", 0xFE: "flat lookup", 0xFF: "the executable"}.get(
                          ordinal, f"ordinal {ordinal}"))
            imports.append(Imported(name, bool(n_desc & 0x40), source))
    extras["symtab_exports"] = table_exports
    extras["two_level"] = bool(flags & 0x80)
    kind = "shared library" if filetype == 6 else f"Mach-O file type {filetype}"
    return Binary("Mach-O", MACHO_CPUS.get(cputype, f"cputype {cputype:#x}"), kind, exports,
                  imports, dylibs, extras)


def parse_binary(path: Path) -> Binary:
    data = path.read_bytes()
    if data[:4] == b"\x7fELF":
        return parse_elf(data)
    if data[:4] == b"\xcf\xfa\xed\xfe":
        return parse_macho(data)
    raise FormatError(f"{path}: neither ELF nor Mach-O")
