/* place.c: put an archive into an executable linked without it.
 *
 * link.c links the executable once with a placeholder of
 * INB_PLACE_PLACEHOLDER bytes in the section INB_PLACE_SECTION, which its
 * linker script puts after everything else, so that it is alone in the
 * last PT_LOAD segment and nothing loaded follows it in
 * the file: only sections that are not loaded (.comment, .symtab,
 * .strtab, debug information) and the section header table.  Placing an
 * archive then is: the bytes before the section, the archive, zeros up to
 * a multiple of 64 (so that what follows keeps its alignment), the bytes
 * after the placeholder; the section's size, the segment's file and
 * memory sizes, and the offsets of everything that moved are patched in
 * copies of the bytes before and after, which the caller writes around
 * the archive (no copy of the archive is made).
 * The runtime takes the archive's size from that segment's size in the
 * program headers (startup.c), so no symbol needs patching.
 *
 * Every clean build is made the same way (link or cached base, then
 * place), so a rebuild that reuses the base gives the same bytes.
 */
#include "place.h"

#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ALIGN 64

/* Set err to the reason and return -1. */
static int
fail(char *err, size_t errsize, const char *reason)
{
    snprintf(err, errsize, "%s", reason);
    return -1;
}

/* Whether [off, off + len) lies inside [0, n). */
static int
inside(uint64_t off, uint64_t len, size_t n)
{
    return off <= n && len <= n - off;
}

int
inb_place_archive(const unsigned char *base, size_t n, size_t size,
                  struct inb_placed *p, char *err, size_t errsize)
{
    Elf64_Ehdr eh;
    Elf64_Shdr sh, names;
    Elf64_Phdr ph;
    uint64_t off = 0, end, padded, delta;
    char *shdr, *phdr;
    size_t i;
    int section = -1, segment = -1;

    if (n < sizeof(eh)) {
        return fail(err, errsize, "not an ELF file (too short)");
    }
    memcpy(&eh, base, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB) {
        return fail(err, errsize, "not a 64-bit little-endian ELF file");
    }
    if (eh.e_shentsize != sizeof(Elf64_Shdr) ||
        eh.e_phentsize != sizeof(Elf64_Phdr) ||
        !inside(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(sh), n) ||
        !inside(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(ph), n) ||
        eh.e_shstrndx >= eh.e_shnum) {
        return fail(err, errsize, "section or program headers truncated");
    }
    memcpy(&names, base + eh.e_shoff + eh.e_shstrndx * sizeof(sh), sizeof(sh));
    if (!inside(names.sh_offset, names.sh_size, n)) {
        return fail(err, errsize, "section names truncated");
    }
    for (i = 0; i < eh.e_shnum; i++) {
        memcpy(&sh, base + eh.e_shoff + i * sizeof(sh), sizeof(sh));
        if (sh.sh_name < names.sh_size &&
            names.sh_size - sh.sh_name > sizeof(INB_PLACE_SECTION) - 1 &&
            memcmp(base + names.sh_offset + sh.sh_name, INB_PLACE_SECTION,
                   sizeof(INB_PLACE_SECTION)) == 0) {
            if (section >= 0 || sh.sh_type != SHT_PROGBITS ||
                sh.sh_size != INB_PLACE_PLACEHOLDER ||
                !inside(sh.sh_offset, sh.sh_size, n)) {
                return fail(err, errsize,
                            "no single " INB_PLACE_SECTION " section of the "
                            "placeholder's size");
            }
            section = (int)i;
            off = sh.sh_offset;
        }
    }
    if (section < 0) {
        return fail(err, errsize, "no " INB_PLACE_SECTION " section");
    }
    end = off + INB_PLACE_PLACEHOLDER;
    if (eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(ph) > off) {
        return fail(err, errsize,
                    "program headers after the " INB_PLACE_SECTION " section");
    }
    /* Nothing loaded may follow the section in the file. */
    for (i = 0; i < eh.e_phnum; i++) {
        memcpy(&ph, base + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD) {
            continue;
        }
        if (ph.p_offset == off && ph.p_filesz == INB_PLACE_PLACEHOLDER &&
            ph.p_memsz == INB_PLACE_PLACEHOLDER) {
            segment = (int)i;
        }
        else if (ph.p_offset + ph.p_filesz > off) {
            return fail(err, errsize,
                        "a loaded segment follows the " INB_PLACE_SECTION
                        " section");
        }
    }
    if (segment < 0) {
        return fail(err, errsize,
                    "the " INB_PLACE_SECTION " section is not alone in its "
                    "segment");
    }
    if (size > SIZE_MAX - 2 * ALIGN - n) {
        return fail(err, errsize, "archive too large");
    }
    padded = (size + ALIGN - 1) / ALIGN * ALIGN;
    if (padded < INB_PLACE_PLACEHOLDER) {
        return fail(err, errsize, "archive smaller than its header");
    }
    delta = padded - INB_PLACE_PLACEHOLDER;

    if (eh.e_shoff < end &&
        eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(sh) > off) {
        return fail(err, errsize,
                    "section headers overlap the " INB_PLACE_SECTION
                    " section");
    }
    p->archive_offset = (size_t)off;
    p->pad = (size_t)(padded - size);
    inb_buf_add(&p->head, base, off);
    inb_buf_add(&p->tail, base + end, n - end);

    /* Patch the copies: ELF header, then program and section headers. */
    shdr = eh.e_shoff >= end ? p->tail.data + (eh.e_shoff - end)
                             : p->head.data + eh.e_shoff;
    if (eh.e_shoff >= end) {
        eh.e_shoff += delta;
    }
    memcpy(p->head.data, &eh, sizeof(eh));
    phdr = p->head.data + eh.e_phoff + segment * sizeof(ph);
    memcpy(&ph, phdr, sizeof(ph));
    ph.p_filesz = ph.p_memsz = size;
    memcpy(phdr, &ph, sizeof(ph));
    for (i = 0; i < eh.e_shnum; i++) {
        char *at = shdr + i * sizeof(sh);

        memcpy(&sh, at, sizeof(sh));
        if ((int)i == section) {
            sh.sh_size = size;
        }
        else if (sh.sh_offset >= end && sh.sh_type != SHT_NOBITS) {
            sh.sh_offset += delta;
        }
        memcpy(at, &sh, sizeof(sh));
    }
    return 0;
}
