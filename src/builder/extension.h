/* extension.h: C and C++ extension modules linked into the executable as
 * built-in modules (archive kind builtin-ext): declared by --extension,
 * --setup or --bundle, compiled with the target's headers and flags, each
 * isolated into one relocatable object (isolate.c), listed in a generated
 * table of init functions that the runtime's builtin.c reads. */
#ifndef INB_EXTENSION_H
#define INB_EXTENSION_H

#include "archive.h"
#include "inb.h"
#include "util.h"

/* One built-in extension module. */
struct inb_ext {
    char *name;             /* full dotted module name */
    char *origin;           /* where it was declared, for messages */
    struct inb_strv inputs; /* sources (.c, .cc, ...) and objects (.o) */
    struct inb_strv cflags; /* -I, -D, -U, -C words for its sources */
    struct inb_strv libs;   /* -l, -L, .a, .so, -Wl words: the final link */
    int cxx;                /* has C++ code: link the C++ runtime */
    int optional;           /* on a compile error, warn and leave it out */
    int embed_archives;     /* link its .a libraries into its own object */
    char *object;           /* after inb_ext_build: the isolated object */
    char *init;             /* after inb_ext_build: its init function */
};

/* The extensions of a build, in declaration order (the table's order). */
struct inb_exts {
    struct inb_ext *v;
    size_t n;
    char *work; /* temporary directory of compiled and isolated objects */
};

/* Declare extension module name (a dotted name) from origin (copied, used
 * in messages).  Exits when name is not a dotted identifier or is already
 * declared (the error names both origins). */
INB_HIDDEN struct inb_ext *inb_ext_new(struct inb_exts *l, const char *name,
                                       const char *origin);
/* Add one word of an extension's description, as Setup files give them: a
 * source or object file (relative to dir when not absolute; dir may be
 * NULL), a compiler flag (-I -D -U -C, and -W -f -m -O -g -std=), or a
 * library for the final link
 * (-l -L .a .so -Wl, -R).  Returns 0, or -1 when the word is none of
 * these. */
INB_HIDDEN int inb_ext_word(struct inb_ext *e, const char *word,
                            const char *dir);
/* Parse --extension NAME=FILE[,FILE...] into l.  Exits on bad syntax. */
INB_HIDDEN void inb_ext_option(struct inb_exts *l, const char *arg);
/* Compile every extension's sources with the target's headers and flags
 * and isolate its objects (isolate.c).  Exits with an error naming the
 * extension on failure, before anything is linked; an optional extension
 * that does not compile is reported with the compiler's first error and
 * removed from l. */
INB_HIDDEN void inb_ext_build(struct inb_exts *l);
/* Add each extension's entry (kind builtin-ext, data its table index) to
 * w. */
INB_HIDDEN void inb_ext_add_entries(const struct inb_exts *l,
                                    inb_archive_writer *w);
/* Append to argv the words the executable's link needs: the generated
 * table (a C file written into the work directory), the isolated objects,
 * then (in *libs) the libraries and the C++ runtime. */
INB_HIDDEN void inb_ext_link_words(const struct inb_exts *l,
                                   struct inb_strv *objects,
                                   struct inb_strv *libs);
/* Explain a failed link from the linker's messages: for each undefined
 * symbol referred to by an isolated object, print an error naming the
 * extension and the symbol.  Returns how many were explained. */
INB_HIDDEN int inb_ext_explain_link(const struct inb_exts *l,
                                    const char *messages);
/* The extension named name, or NULL. */
INB_HIDDEN const struct inb_ext *inb_ext_find(const struct inb_exts *l,
                                              const char *name);

#endif
