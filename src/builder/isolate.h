/* isolate.h: link an extension module's objects into one relocatable
 * object in which every symbol but its init function is local, so that
 * extensions defining globals of the same name link into one executable. */
#ifndef INB_ISOLATE_H
#define INB_ISOLATE_H

#include "inb.h"
#include "util.h"

/* Check each of objects (ELF relocatable files for this machine; static
 * libraries, .a, may follow them and lend the members they need), link
 * them with `ld -r` (common symbols given space) into out, check that they
 * define init (PyInit_<last part of the name>), and make every defined
 * global symbol local but init, renamed newname.  what names the extension
 * in messages.  Returns 1 when the objects refer to the C++ runtime, else
 * 0.  Exits with an error naming what and the file on any problem. */
INB_HIDDEN int inb_isolate(const char *what, const struct inb_strv *objects,
                           const char *init, const char *newname,
                           const char *out);

/* Append to names the global symbols that the relocatable object at path
 * defines with default visibility (those a link may export).  what names
 * the object in messages; exits on an unreadable object. */
INB_HIDDEN void inb_isolate_defined(const char *what, const char *path,
                                    struct inb_strv *names);

#endif
