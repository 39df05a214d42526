/* seal.c: seal an executable after linking, and check one against its
 * seal (layout in seal.h).  The file is read as bytes: every offset and
 * size of the ELF and program headers is checked against the file's size
 * before use, so a truncated or damaged file is reported, never read
 * outside. */
#include "seal.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "archive.h"
#include "checksum.h"
#include "le.h"

/* At most this many damaged entries are named one by one. */
#define MAX_NAMED 20

/* The program headers of the ELF file[0..size): sets *ph and *n.  Returns
 * 0, or -1 with the reason in err. */
static int
program_headers(const unsigned char *file, size_t size, const Elf64_Phdr **ph,
                size_t *n, char *err, size_t errsize)
{
    Elf64_Ehdr eh;

    if (size < sizeof eh || memcmp(file, ELFMAG, SELFMAG) != 0) {
        return inb_fail(err, errsize,
                        size < SELFMAG
                            ? "truncated to %zu bytes: no ELF header"
                            : "not an ELF file (%zu bytes)",
                        size);
    }
    memcpy(&eh, file, sizeof eh);
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_phentsize != sizeof(Elf64_Phdr)) {
        return inb_fail(err, errsize, "not a 64-bit little-endian ELF file");
    }
    if (eh.e_phoff > size ||
        (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff ||
        eh.e_phoff % sizeof(uint64_t) != 0) {
        return inb_fail(
            err, errsize,
            "truncated to %zu bytes: the program headers are cut off", size);
    }
    *ph = (const Elf64_Phdr *)(const void *)(file + eh.e_phoff);
    *n = eh.e_phnum;
    return 0;
}

/* The offset in file[0..size) of the seal's 40 bytes: the desc of the note
 * named INB_SEAL_NAME of type INB_SEAL_TYPE in a PT_NOTE segment.  Returns
 * 0 and sets *off, or -1 when there is none (inside the file). */
static int
find_seal(const unsigned char *file, size_t size, const Elf64_Phdr *ph,
          size_t n, size_t *off)
{
    size_t i, pos, end, namesz, descsz, desc;

    for (i = 0; i < n; i++) {
        if (ph[i].p_type != PT_NOTE || ph[i].p_offset > size ||
            ph[i].p_filesz > size - ph[i].p_offset) {
            continue;
        }
        pos = (size_t)ph[i].p_offset;
        end = pos + (size_t)ph[i].p_filesz;
        while (end - pos >= 12) {
            namesz = inb_get32(file + pos);
            descsz = inb_get32(file + pos + 4);
            desc = pos + 12 + (namesz + 3) / 4 * 4;
            if (namesz > end - pos - 12 || desc > end || descsz > end - desc) {
                break;
            }
            if (namesz == sizeof INB_SEAL_NAME &&
                memcmp(file + pos + 12, INB_SEAL_NAME, namesz) == 0 &&
                inb_get32(file + pos + 8) == INB_SEAL_TYPE &&
                descsz == INB_SEAL_SIZE) {
                *off = desc;
                return 0;
            }
            pos = desc + (descsz + 3) / 4 * 4;
            if (pos > end) {
                break;
            }
        }
    }
    return -1;
}

int
inb_seal_read(const unsigned char *desc, inb_seal *s)
{
    if (inb_get32(desc) != INB_SEAL_VERSION) {
        return -1;
    }
    s->file_size = inb_get64(desc + 8);
    s->loaded_checksum = inb_get64(desc + 16);
    s->archive_offset = inb_get64(desc + 24);
    s->archive_size = inb_get64(desc + 32);
    return 0;
}

/* Chain the checksum over the bytes [from, to) of file, leaving out
 * [skip, skip + skip_size) (the archive). */
static uint64_t
sum_range(const unsigned char *file, uint64_t from, uint64_t to, uint64_t skip,
          uint64_t skip_size, uint64_t sum)
{
    uint64_t skip_end = skip + skip_size;

    if (skip < to && skip_end > from) {
        if (skip > from) {
            sum = inb_checksum(file + from, (size_t)(skip - from), sum);
        }
        if (skip_end < to) {
            sum = inb_checksum(file + skip_end, (size_t)(to - skip_end), sum);
        }
        return sum;
    }
    return inb_checksum(file + from, (size_t)(to - from), sum);
}

/* The loaded checksum of file[0..size) (see seal.h), whose seal is at
 * seal_off and archive in [archive_off, + archive_size), with the seal
 * bytes read as zeros.  Sets *cut when a loaded segment runs past the end
 * of the file (then only what is inside counts). */
static uint64_t
loaded_checksum(const unsigned char *file, size_t size, const Elf64_Phdr *ph,
                size_t n, size_t seal_off, uint64_t archive_off,
                uint64_t archive_size, int *cut)
{
    static const unsigned char zeros[INB_SEAL_SIZE];
    uint64_t sum = 0, from, to;
    size_t i;

    *cut = 0;
    for (i = 0; i < n; i++) {
        if (ph[i].p_type != PT_LOAD) {
            continue;
        }
        from = ph[i].p_offset;
        to = from + ph[i].p_filesz;
        if (to < from || to > size) {
            *cut = 1;
            to = size;
        }
        if (from >= to) {
            continue;
        }
        if (seal_off >= from && seal_off + INB_SEAL_SIZE <= to) {
            sum = sum_range(file, from, seal_off, archive_off, archive_size,
                            sum);
            sum = inb_checksum(zeros, sizeof zeros, sum);
            sum = sum_range(file, seal_off + INB_SEAL_SIZE, to, archive_off,
                            archive_size, sum);
        }
        else {
            sum = sum_range(file, from, to, archive_off, archive_size, sum);
        }
    }
    return sum;
}

int
inb_seal_write(unsigned char *file, size_t size, uint64_t archive_offset,
               uint64_t archive_size, char *err, size_t errsize)
{
    const Elf64_Phdr *ph;
    size_t n, off;
    int cut;
    uint64_t sum;

    if (program_headers(file, size, &ph, &n, err, errsize) < 0) {
        return -1;
    }
    if (find_seal(file, size, ph, n, &off) < 0) {
        return inb_fail(err, errsize,
                        "no inbuilt seal note in the executable");
    }
    if (archive_offset > size || archive_size > size - archive_offset) {
        return inb_fail(err, errsize, "archive outside the executable");
    }
    sum = loaded_checksum(file, size, ph, n, off, archive_offset, archive_size,
                          &cut);
    if (cut) {
        return inb_fail(err, errsize, "a loaded segment runs past the file");
    }
    memset(file + off, 0, INB_SEAL_SIZE);
    inb_put32(file + off, INB_SEAL_VERSION);
    inb_put64(file + off + 8, size);
    inb_put64(file + off + 16, sum);
    inb_put64(file + off + 24, archive_offset);
    inb_put64(file + off + 32, archive_size);
    return 0;
}

/* Pass one formatted line to report and count it in *problems. */
static void say(void (*report)(void *, const char *), void *ctx, int *problems,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
say(void (*report)(void *, const char *), void *ctx, int *problems,
    const char *fmt, ...)
{
    char line[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    report(ctx, line);
    (*problems)++;
}

/* Check the archive in file[off, off + asize) (inside the file): its
 * tables, then every entry.  Returns the number of problems reported. */
static int
verify_archive(const unsigned char *file, uint64_t off, uint64_t asize,
               void (*report)(void *, const char *), void *ctx,
               uint32_t *entries)
{
    inb_archive a;
    inb_entry e;
    char err[512];
    int problems = 0, damaged = 0;
    uint32_t i;

    if (inb_archive_open(&a, file + off, (size_t)asize, err, sizeof err) < 0) {
        say(report, ctx, &problems, "the embedded archive is damaged: %s",
            err);
        return problems;
    }
    for (i = 0; i < a.count; i++) {
        inb_archive_entry(&a, i, &e);
        if (inb_archive_data(&a, &e, err, sizeof err) == 0) {
            continue;
        }
        if (++damaged <= MAX_NAMED) {
            say(report, ctx, &problems, "%s", err);
        }
    }
    if (damaged > MAX_NAMED) {
        say(report, ctx, &problems, "... and %d more damaged entries",
            damaged - MAX_NAMED);
    }
    if (entries != NULL) {
        *entries = a.count;
    }
    return problems;
}

int
inb_seal_verify(const unsigned char *file, size_t size,
                void (*report)(void *ctx, const char *line), void *ctx,
                uint32_t *entries)
{
    const Elf64_Phdr *ph;
    size_t n, off;
    inb_seal s;
    char err[256];
    int problems = 0, cut;
    uint64_t have;

    if (entries != NULL) {
        *entries = 0;
    }
    if (program_headers(file, size, &ph, &n, err, sizeof err) < 0) {
        say(report, ctx, &problems, "%s", err);
        return problems;
    }
    if (find_seal(file, size, ph, n, &off) < 0 ||
        inb_seal_read(file + off, &s) < 0) {
        say(report, ctx, &problems,
            "no inbuilt seal: not built by this inbuilt, or its first "
            "segment is damaged");
        return problems;
    }
    if (s.file_size > size) {
        say(report, ctx, &problems,
            "truncated: %zu bytes, built as %llu (%llu bytes missing)", size,
            (unsigned long long)s.file_size,
            (unsigned long long)(s.file_size - size));
    }
    else if (s.file_size < size) {
        say(report, ctx, &problems,
            "%llu bytes added after the end (%zu bytes, built as %llu)",
            (unsigned long long)(size - s.file_size), size,
            (unsigned long long)s.file_size);
    }
    have = loaded_checksum(file, size, ph, n, off, s.archive_offset,
                           s.archive_size, &cut);
    if (cut) {
        say(report, ctx, &problems,
            "the loaded segments run past the end of the file");
    }
    else if (have != s.loaded_checksum) {
        say(report, ctx, &problems,
            "checksum mismatch in the loaded segments outside the archive "
            "(machine code or static data is damaged)");
    }
    if (s.archive_offset > size || s.archive_size > size - s.archive_offset) {
        say(report, ctx, &problems,
            "the embedded archive (%llu bytes at offset %llu) runs past the "
            "end of the file",
            (unsigned long long)s.archive_size,
            (unsigned long long)s.archive_offset);
        return problems;
    }
    return problems + verify_archive(file, s.archive_offset, s.archive_size,
                                     report, ctx, entries);
}
