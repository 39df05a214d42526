/* inb.h: definitions shared by every part of inbuilt (runtime, builder,
 * tests).  Internal externs are declared INB_HIDDEN so that a produced
 * executable exports nothing of the runtime but its public API. */
#ifndef INB_H
#define INB_H

#define INB_HIDDEN __attribute__((visibility("hidden")))
#define INB_API __attribute__((visibility("default")))

/* The module under which the builder stores src/runtime/loader.py, the
 * runtime's Python half, in every archive. */
#define INB_SUPPORT_MODULE "_inbuilt_support"

#endif
