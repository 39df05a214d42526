/* deps.h: follow the requirements and the imports of the --include'd
 * packages, so that `--include scipy` brings numpy. */
#ifndef INB_DEPS_H
#define INB_DEPS_H

#include "inb.h"
#include "util.h"

/* What inb_deps_resolve() found. */
struct inb_deps {
    struct inb_strv add;     /* top-level import names to include too */
    struct inb_strv why;     /* for each of add: "dist (required by X)" */
    struct inb_strv missing; /* "requirement (required by X)": not found */
};

/* Ask python (the target interpreter) which top-level packages the
 * included names bring: the other top-level packages of their
 * distributions (matplotlib's mpl_toolkits and pylab), the distributions
 * they require (Requires-Dist, extras left out, environment markers
 * evaluated for the target), transitively, and the installed packages
 * that importing them imports, which metadata may not say (Debian strips
 * requirements): the imports a module runs whenever it is imported,
 * followed through every module reached, and a cffi module's
 * _cffi_backend.  Modules that an --exclude pattern of excludes matches
 * are neither followed nor added.  Fills d with the top-level import names
 * to add, why each, and the requirements not installed.  Runs python once;
 * exits with an error when it fails. */
INB_HIDDEN void inb_deps_resolve(const char *python,
                                 const struct inb_strv *roots,
                                 const struct inb_strv *names,
                                 const struct inb_strv *excludes,
                                 struct inb_deps *d);
/* Ask python which distribution directories (.dist-info, .egg-info) on
 * roots provide the top-level packages of names, by the same mapping as
 * inb_deps_resolve(): top_level.txt, else the files RECORD lists.  Fills
 * dirs (emptied first) with them: of each project the first found in root
 * order; a name may have several (portions of a namespace package).  Runs
 * python once when names is not empty; exits with an error when it fails. */
INB_HIDDEN void inb_deps_dist_dirs(const char *python,
                                   const struct inb_strv *roots,
                                   const struct inb_strv *names,
                                   struct inb_strv *dirs);

#endif
