/* program.c: the main() of every executable made by inbuilt. */
#include "inbuilt.h"

int
main(int argc, char **argv)
{
    return inb_main(argc, argv);
}
