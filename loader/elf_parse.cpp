// ELF header and program header validation.  Every read is bounds-checked before it happens;
// every sum is overflow-checked.  Depends on {fmt} for messages.
#include <algorithm>
#include <array>
#include <string>

#include "loader/bytes.hpp"
#include "loader/elf.hpp"
#include "loader/errors.hpp"

namespace hvgdb::loader {
namespace {

constexpr std::size_t kIdentSize = 16;
constexpr std::size_t kEiClass = 4, kEiData = 5, kEiVersion = 6;
constexpr std::uint8_t kElfClass32 = 1, kElfClass64 = 2;
constexpr std::uint8_t kElfDataLsb = 1, kElfDataMsb = 2;
constexpr std::uint32_t kEvCurrent = 1;
constexpr std::uint16_t kEtExec = 2, kEtDyn = 3;
constexpr std::uint16_t kPnXnum = 0xffff;
constexpr std::uint32_t kPtLoad = 1;

// Field offsets of the two ELF classes (gABI, "ELF Header" and "Program Header").
struct ClassLayout {
    const char* name;
    std::uint16_t machine;
    const char* machine_name;
    std::size_t header_size, phdr_size, address_size;
    std::size_t e_type, e_machine, e_version, e_entry, e_phoff, e_shoff, e_ehsize, e_phentsize,
        e_phnum, e_shentsize, e_shnum;
    std::size_t p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz;
};

// clang-format off
//                            name     machine name         hdr phdr addr
constexpr ClassLayout kElf32{"ELF32", 3,  "EM_386",    52, 32, 4,
//                            type mach ver entry phoff shoff ehsize phentsz phnum shentsz shnum
                              16,  18,  20, 24,   28,   32,   40,    42,     44,   46,     48,
//                            p_type p_offset p_vaddr p_paddr p_filesz p_memsz
                              0,     4,       8,      12,     16,      20};
constexpr ClassLayout kElf64{"ELF64", 62, "EM_X86_64", 64, 56, 8,
                              16,  18,  20, 24,   32,   40,   52,    54,     56,   58,     60,
                              0,     8,       16,     24,     32,      40};
// clang-format on

// e_type values (gABI), for the message that refuses all but ET_EXEC and ET_DYN.
constexpr std::array<std::pair<std::uint16_t, std::string_view>, 5> kTypeNames{{
    {0, "ET_NONE"},
    {1, "ET_REL, a relocatable object file"},
    {2, "ET_EXEC"},
    {3, "ET_DYN"},
    {4, "ET_CORE, a core dump"},
}};

constexpr std::array<std::pair<std::uint16_t, std::string_view>, 11> kMachineNames{{
    {2, "EM_SPARC"},
    {3, "EM_386"},
    {8, "EM_MIPS"},
    {20, "EM_PPC"},
    {21, "EM_PPC64"},
    {22, "EM_S390"},
    {40, "EM_ARM"},
    {43, "EM_SPARCV9"},
    {62, "EM_X86_64"},
    {183, "EM_AARCH64"},
    {243, "EM_RISCV"},
}};

// "40 (EM_ARM)", or the bare number when the table does not name it.
template <std::size_t N>
std::string numbered_name(const std::array<std::pair<std::uint16_t, std::string_view>, N>& names,
                          std::uint16_t value) {
    for (const auto& [number, name] : names)
        if (number == value) return fmt::format("{} ({})", value, name);
    return fmt::format("{}", value);
}

std::uint64_t read_address(std::span<const std::uint8_t> bytes, std::size_t offset,
                           const ClassLayout& layout) {
    return layout.address_size == 8 ? read_u64(bytes, offset) : read_u32(bytes, offset);
}

Result<const ClassLayout*> check_ident(std::span<const std::uint8_t> image) {
    if (!has_elf_magic(image))
        return invalid("not an ELF image: it does not start with the magic 7f 45 4c 46");
    if (image.size() < kIdentSize)
        return invalid("ELF image truncated: {} bytes, the identification alone needs {}",
                       image.size(), kIdentSize);
    const ClassLayout* layout = nullptr;
    switch (image[kEiClass]) {
        case kElfClass32:
            layout = &kElf32;
            break;
        case kElfClass64:
            layout = &kElf64;
            break;
        default:
            return invalid("ELF class {} is neither ELFCLASS32 (1) nor ELFCLASS64 (2)",
                           image[kEiClass]);
    }
    if (image[kEiData] == kElfDataMsb)
        return invalid("ELF image is big-endian (EI_DATA 2); x86 images are little-endian");
    if (image[kEiData] != kElfDataLsb)
        return invalid("ELF data encoding {} is not little-endian (EI_DATA 1)", image[kEiData]);
    if (image[kEiVersion] != kEvCurrent)
        return invalid("ELF identification version {} is not EV_CURRENT (1)", image[kEiVersion]);
    return layout;
}

Result<void> check_header(std::span<const std::uint8_t> image, const ClassLayout& l) {
    if (image.size() < l.header_size)
        return invalid("{} header truncated: the image has {} bytes, the header needs {}", l.name,
                       image.size(), l.header_size);
    const std::uint16_t type = read_u16(image, l.e_type);
    if (type != kEtExec && type != kEtDyn)
        return invalid("ELF type {} is not an executable; need ET_EXEC (2) or ET_DYN (3)",
                       numbered_name(kTypeNames, type));
    const std::uint16_t machine = read_u16(image, l.e_machine);
    if (machine != l.machine)
        return invalid("{} image is for machine {}, expected {} ({})", l.name,
                       numbered_name(kMachineNames, machine), l.machine, l.machine_name);
    const std::uint32_t version = read_u32(image, l.e_version);
    if (version != kEvCurrent) return invalid("ELF e_version {} is not EV_CURRENT (1)", version);
    const std::uint16_t ehsize = read_u16(image, l.e_ehsize);
    if (ehsize < l.header_size)
        return invalid("{} e_ehsize {} is smaller than the {}-byte header", l.name, ehsize,
                       l.header_size);
    const std::uint16_t phentsize = read_u16(image, l.e_phentsize);
    // Larger entries are read at their stride (the field exists so that entries can grow).
    if (phentsize < l.phdr_size)
        return invalid("{} e_phentsize {} is smaller than a {}-byte program header", l.name,
                       phentsize, l.phdr_size);
    const std::uint16_t phnum = read_u16(image, l.e_phnum);
    if (phnum == 0) return invalid("ELF image has no program headers (e_phnum 0)");
    if (phnum == kPnXnum)
        return invalid(
            "ELF image uses extended program header numbering (e_phnum 0xffff), "
            "which is not supported");
    const std::uint64_t phoff = read_address(image, l.e_phoff, l);
    const auto table_end = checked_add(phoff, std::uint64_t{phnum} * phentsize);
    if (!table_end || *table_end > image.size())
        return invalid(
            "ELF program headers ({} entries of {} bytes at offset {:#x}) extend "
            "beyond the image of {} bytes",
            phnum, phentsize, phoff, image.size());
    return {};
}

// Section headers are not loaded, but linkers write the table last: one that runs past the end
// of the file means the file was cut short, even when every segment is whole.
Result<void> check_section_headers(std::span<const std::uint8_t> image, const ClassLayout& l) {
    const std::uint64_t shoff = read_address(image, l.e_shoff, l);
    if (shoff == 0) return {};  // no section headers (stripped to the bone)
    const std::uint16_t shentsize = read_u16(image, l.e_shentsize);
    // e_shnum 0 with a table: the count is in section 0's sh_size (gABI extended numbering).
    const std::uint64_t shnum = std::max<std::uint16_t>(read_u16(image, l.e_shnum), 1);
    const auto table_end = checked_add(shoff, shnum * shentsize);
    if (!table_end || *table_end > image.size())
        return invalid(
            "ELF section headers ({} {} of {} bytes at offset {:#x}) extend beyond the image "
            "of {} bytes: the file is cut short",
            shnum, shnum == 1 ? "entry" : "entries", shentsize, shoff, image.size());
    return {};
}

// One PT_LOAD: inside the file, filesz <= memsz, inside RAM (and 4 GiB for ELF32).
Result<void> check_segment(const ElfSegment& s, std::size_t image_size, std::uint64_t ram_size,
                           const ClassLayout& l) {
    if (s.filesz > s.memsz)
        return invalid("ELF segment {}: p_filesz {:#x} is larger than p_memsz {:#x}", s.index,
                       s.filesz, s.memsz);
    if (!fits_below(s.offset, s.filesz, image_size))
        return invalid(
            "ELF segment {}: file bytes at offset {:#x} size {:#x} extend beyond the "
            "image of {} bytes",
            s.index, s.offset, s.filesz, image_size);
    if (s.memsz == 0) return {};
    if (!checked_add(s.paddr, s.memsz))
        return invalid("ELF segment {} at {:#x} size {:#x} wraps around the address space", s.index,
                       s.paddr, s.memsz);
    if (!fits_below(s.paddr, s.memsz, ram_size))
        return invalid("ELF segment {} at {:#x} size {:#x} ends beyond RAM ({})", s.index, s.paddr,
                       s.memsz, describe_size(ram_size));
    if (l.address_size == 4 && !fits_below(s.paddr, s.memsz, 4 * kGiB))
        return invalid("ELF segment {} at {:#x} size {:#x} ends beyond 4 GiB", s.index, s.paddr,
                       s.memsz);
    return {};
}

Result<void> check_no_overlap(std::vector<ElfSegment> loads) {
    std::sort(loads.begin(), loads.end(),
              [](const auto& a, const auto& b) { return a.paddr < b.paddr; });
    for (std::size_t i = 1; i < loads.size(); ++i) {
        const ElfSegment& a = loads[i - 1];
        const ElfSegment& b = loads[i];
        if (a.paddr + a.memsz > b.paddr)
            return invalid("ELF segments {} and {} overlap: {:#x}..{:#x} and {:#x}..{:#x}",
                           std::min(a.index, b.index), std::max(a.index, b.index), a.paddr,
                           a.paddr + a.memsz, b.paddr, b.paddr + b.memsz);
    }
    return {};
}

// e_entry is a virtual address (gABI); higher-half kernels link at high virtual addresses but
// load at low physical ones, so translate through the segment that holds it.
std::optional<std::uint64_t> physical_entry(const std::vector<ElfSegment>& loads,
                                            std::uint64_t entry) {
    for (const auto& s : loads)
        if (entry >= s.vaddr && entry - s.vaddr < s.memsz) return s.paddr + (entry - s.vaddr);
    for (const auto& s : loads)
        if (entry >= s.paddr && entry - s.paddr < s.memsz) return entry;
    return std::nullopt;
}

}  // namespace

bool has_elf_magic(std::span<const std::uint8_t> image) {
    return image.size() >= 4 && image[0] == 0x7f && image[1] == 'E' && image[2] == 'L' &&
           image[3] == 'F';
}

Result<ElfImage> parse_elf(std::span<const std::uint8_t> image, std::uint64_t ram_size) {
    auto layout = check_ident(image);
    if (!layout) return std::unexpected(layout.error());
    const ClassLayout& l = **layout;
    if (auto ok = check_header(image, l); !ok) return std::unexpected(ok.error());
    if (auto ok = check_section_headers(image, l); !ok) return std::unexpected(ok.error());

    ElfImage elf;
    elf.is64 = &l == &kElf64;
    elf.dynamic = read_u16(image, l.e_type) == kEtDyn;
    elf.e_entry = read_address(image, l.e_entry, l);
    const std::uint64_t phoff = read_address(image, l.e_phoff, l);
    const std::uint16_t phentsize = read_u16(image, l.e_phentsize);
    const std::uint16_t phnum = read_u16(image, l.e_phnum);

    for (unsigned i = 0; i < phnum; ++i) {
        const auto phdr = image.subspan(phoff + std::uint64_t{i} * phentsize, l.phdr_size);
        if (read_u32(phdr, l.p_type) != kPtLoad) continue;
        const ElfSegment s{i,
                           read_address(phdr, l.p_offset, l),
                           read_address(phdr, l.p_vaddr, l),
                           read_address(phdr, l.p_paddr, l),
                           read_address(phdr, l.p_filesz, l),
                           read_address(phdr, l.p_memsz, l)};
        if (auto ok = check_segment(s, image.size(), ram_size, l); !ok)
            return std::unexpected(ok.error());
        if (s.memsz != 0) elf.loads.push_back(s);
    }
    if (elf.loads.empty())
        return invalid("ELF image has no loadable segments (no PT_LOAD with p_memsz > 0)");
    if (auto ok = check_no_overlap(elf.loads); !ok) return std::unexpected(ok.error());
    elf.entry = physical_entry(elf.loads, elf.e_entry);
    return elf;
}

}  // namespace hvgdb::loader
